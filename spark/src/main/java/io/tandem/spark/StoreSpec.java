package io.tandem.spark;

import io.tandem.spark.internal.SharedStores;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.StoreUris;
import java.io.Serializable;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A serializable description of a Tandem store: the URI and properties that {@link
 * OffsetStores#open(String, Map, Class)} takes, and the type of the handle its result writers get.
 * Spark ships it inside closures to the executors; {@link #store()} opens the store there, once per
 * JVM.
 *
 * <pre>{@code
 * StoreSpec<Connection> store =
 *     StoreSpec.of("jdbc:postgresql://db:5432/app", Map.of("user", "app"), Connection.class);
 * }</pre>
 *
 * @param <T> the store's handle type, e.g. {@code java.sql.Connection} for a JDBC store
 * @since 0.1.0
 */
public final class StoreSpec<T> implements Serializable {

  private static final long serialVersionUID = 1L;

  private final String uri;
  private final Map<String, String> properties;
  private final Class<T> handleType;

  private StoreSpec(String uri, Map<String, String> properties, Class<T> handleType) {
    this.uri = uri;
    this.properties = properties;
    this.handleType = handleType;
  }

  /**
   * Describes a store.
   *
   * @param uri the store's URI, e.g. {@code jdbc:postgresql://db:5432/app} or {@code
   *     redis://cache:6379}
   * @param properties the store's properties (credentials, options); copied
   * @param handleType the handle its result writers get: {@code java.sql.Connection} for JDBC,
   *     {@code io.tandem.redis.RedisTransaction} for Redis, ...
   * @param <T> the handle type
   * @return the description
   * @throws IllegalArgumentException if the URI is blank
   * @throws NullPointerException if an argument is null
   */
  public static <T> StoreSpec<T> of(
      String uri, Map<String, String> properties, Class<T> handleType) {
    Objects.requireNonNull(uri, "uri must not be null");
    Objects.requireNonNull(properties, "properties must not be null");
    Objects.requireNonNull(handleType, "handleType must not be null");
    if (uri.isBlank()) {
      throw new IllegalArgumentException("uri must not be blank");
    }
    // A sorted copy: equal descriptions are equal keys of the per-JVM store cache.
    return new StoreSpec<>(uri, Map.copyOf(new TreeMap<>(properties)), handleType);
  }

  /**
   * The store this description names, opened on first use in this JVM (driver or executor) and
   * shared by every task and batch of the JVM; closed when the JVM shuts down. Do not close it.
   *
   * @return the JVM's shared store
   * @throws io.tandem.spi.StoreConfigurationException if no provider serves the URI, or its handle
   *     type is not {@link #handleType()}
   * @throws io.tandem.spi.StoreUnavailableException if the store cannot be reached
   */
  public OffsetStore<T> store() {
    return SharedStores.get(this);
  }

  /**
   * Opens a new store of its own, for a caller that manages its life (administration, tests).
   *
   * @return a new store; the caller closes it
   */
  public OffsetStore<T> open() {
    return OffsetStores.open(uri, properties, handleType);
  }

  /**
   * The store's URI.
   *
   * @return the URI as given
   */
  public String uri() {
    return uri;
  }

  /**
   * The store's properties.
   *
   * @return an unmodifiable map
   */
  public Map<String, String> properties() {
    return properties;
  }

  /**
   * The handle type the store's result writers get.
   *
   * @return the handle type
   */
  public Class<T> handleType() {
    return handleType;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StoreSpec<?> other
        && uri.equals(other.uri)
        && properties.equals(other.properties)
        && handleType.equals(other.handleType);
  }

  @Override
  public int hashCode() {
    return Objects.hash(uri, properties, handleType);
  }

  /** The URI with its password masked, the property names only (their values may be secrets). */
  @Override
  public String toString() {
    return "StoreSpec["
        + StoreUris.mask(uri)
        + ", properties "
        + properties.keySet()
        + ", handle "
        + handleType.getName()
        + "]";
  }
}
