package io.tandem.spark.internal;

import io.tandem.spark.StoreSpec;
import io.tandem.spi.OffsetStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Internal: may change in any release.
 *
 * <p>One open store per {@link StoreSpec} per JVM. Spark runs many tasks of many batches in one
 * executor JVM; opening a store (a connection pool, a Redis client) per task would cost a connect
 * per partition per batch, so every task of the JVM shares one, opened on first use and closed by a
 * shutdown hook when the executor (or driver) JVM exits.
 */
public final class SharedStores {

  private static final Logger log = LoggerFactory.getLogger(SharedStores.class);
  private static final Map<StoreSpec<?>, OffsetStore<?>> STORES = new ConcurrentHashMap<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(SharedStores::closeAll, "tandem-spark-stores"));
  }

  private SharedStores() {}

  /**
   * The JVM's store for a description, opened on first use.
   *
   * @param spec the description
   * @param <T> the handle type
   * @return the shared store
   */
  @SuppressWarnings("unchecked")
  public static <T> OffsetStore<T> get(StoreSpec<T> spec) {
    return (OffsetStore<T>)
        STORES.computeIfAbsent(
            spec,
            s -> {
              OffsetStore<T> store = spec.open();
              log.info("opened {} for this JVM ({})", spec, store.capabilities().description());
              return store;
            });
  }

  private static void closeAll() {
    List<Map.Entry<StoreSpec<?>, OffsetStore<?>>> open = new ArrayList<>(STORES.entrySet());
    STORES.clear();
    for (Map.Entry<StoreSpec<?>, OffsetStore<?>> e : open) {
      try {
        e.getValue().close();
      } catch (RuntimeException ex) {
        log.warn("closing {} failed", e.getKey(), ex);
      }
    }
  }
}
