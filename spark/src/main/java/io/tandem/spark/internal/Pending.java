package io.tandem.spark.internal;

import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import java.util.OptionalLong;

/**
 * Internal: may change in any release.
 *
 * <p>What part of a batch's range still has to be committed, given the position the store holds for
 * its partition. Positions only move by whole committed ranges, so a stored position at or past the
 * range's end means the range was committed before (a replayed batch, a retried task); a stored
 * position inside the range means an earlier run cut its batches differently (an older or deleted
 * checkpoint) and only the rest of the range is new; a stored position before the range's start, or
 * none, means records between the two were never committed by this group: committing would skip
 * them, so it is a conflict.
 *
 * @param range the batch's range
 * @param pending the part still to commit, null if nothing is left or on conflict
 * @param conflict why the range cannot be committed, null if it can (or need not) be
 */
public record Pending(OffsetRange range, OffsetRange pending, Conflict conflict) {

  /**
   * Decides for one range.
   *
   * @param range the batch's range
   * @param stored the store's position for its partition
   * @return the decision
   */
  public static Pending of(OffsetRange range, OptionalLong stored) {
    if (stored.isEmpty()) {
      return new Pending(range, null, Conflict.missing(range.partition(), range.from()));
    }
    long s = stored.getAsLong();
    if (s >= range.until()) {
      return new Pending(range, null, null);
    }
    if (s < range.from()) {
      return new Pending(range, null, Conflict.of(range.partition(), range.from(), s));
    }
    return new Pending(range, new OffsetRange(range.partition(), s, range.until()), null);
  }

  /**
   * Whether the whole range was committed before.
   *
   * @return true if nothing is left and there is no conflict
   */
  public boolean alreadyCommitted() {
    return pending == null && conflict == null;
  }

  /**
   * Whether an earlier run committed the start of the range, so records before {@code
   * pending().from()} must be dropped.
   *
   * @return true if the pending part is shorter than the range
   */
  public boolean trimmed() {
    return pending != null && pending.from() > range.from();
  }
}
