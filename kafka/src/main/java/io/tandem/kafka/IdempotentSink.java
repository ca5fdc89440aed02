package io.tandem.kafka;

/**
 * Idempotent processing: writes a batch's results anywhere (another database, a cache, an HTTP
 * service) <em>before</em> the runtime commits the batch's offsets to the store. Results and
 * offsets may live in different systems.
 *
 * <p>Exactly-once holds only if every write is keyed by something derived from the record (for
 * example its key, or topic-partition-offset), so that writing the same record again overwrites the
 * earlier write: after a crash, a conflict or an outage between this call and the offset commit the
 * runtime delivers the same records again. Folds (sums, counters, appends) are not idempotent: use
 * a {@link BatchProcessor} on a transactional store for them.
 *
 * @param <K> the record key type
 * @param <V> the record value type
 * @since 0.1
 */
@FunctionalInterface
public interface IdempotentSink<K, V> {

  /**
   * Writes the keyed results of {@code batch} and returns only when they are durable. Anything
   * thrown leaves the offsets where they were; the runtime then applies its poison-record policy.
   *
   * @param batch the records, in offset order per partition; never empty
   * @throws Exception anything; no offset moves
   */
  void write(Batch<K, V> batch) throws Exception;
}
