package io.tandem.kafka;

/**
 * Where to start a partition for which the store holds no position (a new group, a new partition).
 * The chosen start is stored with {@link io.tandem.spi.OffsetStore#initialize}, so concurrent
 * consumers agree on it: an existing position always wins.
 *
 * @since 0.1
 */
public enum ResetPolicy {
  /** Start at the log start offset: process everything still retained. */
  EARLIEST,
  /** Start at the log end offset: process only records produced from now on. */
  LATEST,
  /** Refuse: stop with a {@link MissingPositionException} naming the partitions. */
  FAIL
}
