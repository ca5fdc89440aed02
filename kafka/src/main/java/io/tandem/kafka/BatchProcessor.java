package io.tandem.kafka;

/**
 * Transactional processing: writes a batch's results through the store's unit-of-work handle,
 * inside the same commit that moves the batch's offsets. With a {@link
 * io.tandem.spi.Guarantee#TRANSACTIONAL} store the results and offsets commit all or nothing, so
 * any transformation is exactly-once, folds (sums, counters) included.
 *
 * <p>The runtime may call this more than once for the same records: after a conflict, a store
 * outage, or when it replays a failed batch record by record to find a poison record. Each call's
 * writes are rolled back unless the commit succeeds, so keep no state of your own across calls:
 * derive everything from the batch and the store.
 *
 * @param <K> the record key type
 * @param <V> the record value type
 * @param <T> the store's handle type (a JDBC {@code Connection}, ...)
 * @since 0.1
 */
@FunctionalInterface
public interface BatchProcessor<K, V, T> {

  /**
   * Writes the results of {@code batch} through {@code handle}. Anything thrown aborts the commit:
   * no offset moves and no result stays; the runtime then applies its poison-record policy.
   *
   * @param batch the records, in offset order per partition; never empty
   * @param handle the store's handle, valid only during this call
   * @throws Exception anything; it aborts the commit
   */
  void process(Batch<K, V> batch, T handle) throws Exception;
}
