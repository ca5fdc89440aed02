package io.tandem.kafka;

/**
 * How much one store commit covers.
 *
 * @since 0.1
 */
public enum CommitScope {
  /**
   * One commit per poll for every partition that returned records: the whole batch's results and
   * offsets move together. Needs a store whose {@link
   * io.tandem.spi.Capabilities#atomicAcrossPartitions()} is true; the builder refuses it otherwise.
   * A poll with more partitions than {@link io.tandem.spi.Capabilities#maxRangesPerCommit()} is
   * committed in chunks of that size, each atomic.
   */
  PER_POLL,
  /** One commit per partition per poll: works with every store; a batch never spans partitions. */
  PER_PARTITION
}
