package io.tandem.spi.support;

import io.tandem.spi.OffsetRange;
import java.util.List;
import java.util.Objects;
import java.util.function.IntPredicate;

/**
 * The verdict on a commit whose outcome is unknown (the reply was lost, the connection failed while
 * the commit was under way), from its positions read back afterwards. One rule for every store and
 * for the consumer runtime:
 *
 * <ul>
 *   <li>{@link Verdict#APPLIED}: every position is at its range's {@code until}: the commit (or an
 *       identical one) applied; its records are committed exactly once.
 *   <li>{@link Verdict#NOT_APPLIED}: every position is still at its range's {@code from}: nothing
 *       moved, and the commit, conditional on {@code from}, cannot apply on top of a later one.
 *       Retrying is safe.
 *   <li>{@link Verdict#MOVED}: anything else (a position absent, elsewhere, or some at {@code
 *       until} and some at {@code from}): another writer moved them and the outcome stays unknown;
 *       the caller re-reads positions.
 * </ul>
 *
 * An empty range ({@code from == until}) reads the same applied or not, so it decides nothing
 * unless the store knows more (ZooKeeper's node versions: {@link #ofCommit(List, List,
 * IntPredicate)}).
 *
 * @since 0.1
 */
public final class ReadBack {

  /** What positions read back say about a commit. */
  public enum Verdict {
    /** Every position is at its {@code until}: applied. */
    APPLIED,
    /** Every position is at its {@code from}: not applied, safe to retry. */
    NOT_APPLIED,
    /** Another writer moved the positions: unknown, re-read. */
    MOVED
  }

  private ReadBack() {}

  /**
   * The verdict on one range, for a caller that treats each partition on its own (the consumer
   * runtime's reconcile after an outage). An empty range at its {@code from} is {@link
   * Verdict#NOT_APPLIED}: retrying it moves nothing.
   *
   * @param range the range
   * @param stored the stored position, or null if none is stored
   * @return the verdict
   * @throws NullPointerException if {@code range} is null
   */
  public static Verdict ofRange(OffsetRange range, Long stored) {
    Objects.requireNonNull(range, "range must not be null");
    if (stored == null) {
      return Verdict.MOVED;
    }
    if (stored == range.until() && range.size() > 0) {
      return Verdict.APPLIED;
    }
    return stored == range.from() ? Verdict.NOT_APPLIED : Verdict.MOVED;
  }

  /**
   * The verdict on a whole commit from its positions alone. Commits are atomic, so a mix of applied
   * and not-applied ranges means another writer: {@link Verdict#MOVED}. When every range is empty,
   * positions cannot tell and the verdict is {@link Verdict#APPLIED} (nothing moves either way).
   *
   * @param ranges the commit's ranges
   * @param stored the position read back for each range, at the same index; null where none
   * @return the verdict
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the lists differ in size
   */
  public static Verdict ofCommit(List<OffsetRange> ranges, List<Long> stored) {
    return verdict(ranges, stored, null);
  }

  /**
   * The verdict on a whole commit, for a store that also knows whether each position was written
   * since it was read before the commit (ZooKeeper: the node's version). A range at {@code from}
   * that was written is {@link Verdict#MOVED} (someone wrote it back); an empty range counts as
   * applied when written and not applied when not.
   *
   * @param ranges the commit's ranges
   * @param stored the position read back for each range, at the same index; null where none
   * @param unchanged whether the position at an index is known not to have been written since it
   *     was read before the commit
   * @return the verdict
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the lists differ in size
   */
  public static Verdict ofCommit(
      List<OffsetRange> ranges, List<Long> stored, IntPredicate unchanged) {
    return verdict(ranges, stored, Objects.requireNonNull(unchanged, "unchanged must not be null"));
  }

  private static Verdict verdict(
      List<OffsetRange> ranges, List<Long> stored, IntPredicate unchanged) {
    Objects.requireNonNull(ranges, "ranges must not be null");
    Objects.requireNonNull(stored, "stored must not be null");
    if (ranges.size() != stored.size()) {
      throw new IllegalArgumentException(
          ranges.size() + " ranges but " + stored.size() + " stored positions");
    }
    boolean applied = false;
    boolean notApplied = false;
    for (int i = 0; i < ranges.size(); i++) {
      OffsetRange r = ranges.get(i);
      Long at = stored.get(i);
      if (at == null) {
        return Verdict.MOVED;
      }
      if (r.size() == 0) {
        if (at != r.from()) {
          return Verdict.MOVED;
        }
        if (unchanged != null) {
          if (unchanged.test(i)) {
            notApplied = true;
          } else {
            applied = true;
          }
        }
      } else if (at == r.until()) {
        applied = true;
      } else if (at == r.from() && (unchanged == null || unchanged.test(i))) {
        notApplied = true;
      } else {
        return Verdict.MOVED;
      }
    }
    if (applied && notApplied) {
      return Verdict.MOVED;
    }
    return notApplied ? Verdict.NOT_APPLIED : Verdict.APPLIED;
  }
}
