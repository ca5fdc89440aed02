package io.tandem.bench;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import java.util.List;
import java.util.Map;

/**
 * One store under test: its Tandem offset store and the same keyed writes done by the backend's own
 * client without any offset bookkeeping (the physical limit).
 *
 * @param <T> the store's unit-of-work handle
 */
interface Backend<T> extends AutoCloseable {

  /** Short name, such as {@code postgres}. */
  String name();

  /** The server, its version and how it was started, with its durability settings. */
  String server();

  /** The store all benchmarks of this backend commit through (thread-safe). */
  OffsetStore<T> store();

  /**
   * Prepares a namespace: a table, hash, collection or parent node for results keyed {@code k0 ..
   * k<keys-1>}, and {@code partitions} plain position slots for {@link #write}. Idempotent.
   */
  void prepare(String namespace, int keys, int partitions) throws Exception;

  /** Upserts {@code rows} under {@code namespace} through the store's handle (Tandem's way). */
  ResultWriter<T> writer(String namespace, List<Row> rows);

  /**
   * Upserts {@code rows} and blind-writes {@code positions} (no read, no condition) with the
   * backend's own client, as one durable unit where the backend has one; returns when durable.
   * Thread-safe: each calling thread may use its own connection.
   */
  void write(String namespace, List<Row> rows, Map<Partition, Long> positions) throws Exception;

  /**
   * Retries the store made inside its commits so far (a counter the store keeps), or -1 when it
   * keeps none.
   */
  default long storeRetries() {
    return -1;
  }

  @Override
  void close();
}
