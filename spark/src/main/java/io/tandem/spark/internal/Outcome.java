package io.tandem.spark.internal;

import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.io.Serializable;
import java.util.OptionalLong;

/**
 * Internal: may change in any release.
 *
 * <p>What a task's commit did to its partition, sent back to the driver (serializable, unlike the
 * spi types).
 *
 * @param topic the topic
 * @param partition the partition
 * @param from the start of what was committed, or of the batch's range
 * @param until the end of the batch's range
 * @param status what happened
 * @param found the position found on conflict, -1 if none was stored
 */
public record Outcome(String topic, int partition, long from, long until, Status status, long found)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  /** What happened to a partition's range. */
  public enum Status {
    /** Committed ({@code from} may be later than the batch's start: its start was committed). */
    COMMITTED,
    /** The store already held the range's end: nothing written. */
    ALREADY_COMMITTED,
    /** The range was empty: nothing to commit. */
    EMPTY,
    /** The store holds another position: nothing committed. */
    CONFLICT
  }

  static Outcome of(OffsetRange r, Status status) {
    return new Outcome(
        r.partition().topic(), r.partition().partition(), r.from(), r.until(), status, -1);
  }

  static Outcome conflict(OffsetRange r, OptionalLong found) {
    return new Outcome(
        r.partition().topic(),
        r.partition().partition(),
        r.from(),
        r.until(),
        Status.CONFLICT,
        found.orElse(-1));
  }

  /**
   * The range this outcome is about.
   *
   * @return the (committed or batch) range
   */
  public OffsetRange range() {
    return new OffsetRange(new Partition(topic, partition), from, until);
  }

  /**
   * The conflict, for {@link Status#CONFLICT}.
   *
   * @return partition, expected position (the range's start) and the one found
   */
  public Conflict conflict() {
    Partition p = new Partition(topic, partition);
    return found < 0 ? Conflict.missing(p, from) : Conflict.of(p, from, found);
  }
}
