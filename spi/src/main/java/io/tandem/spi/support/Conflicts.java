package io.tandem.spi.support;

import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The conflict listing of a commit: each range whose stored position is not its {@code from}, with
 * expected and found, as {@link OffsetConflictException} reports them.
 *
 * @since 0.1
 */
public final class Conflicts {

  private Conflicts() {}

  /**
   * The mismatches of a commit's ranges against positions read back by partition.
   *
   * @param ranges the commit's ranges
   * @param stored the stored positions; an absent partition has none
   * @return one conflict per range whose stored position is absent or not its {@code from}, in the
   *     ranges' order; empty when every position matches
   * @throws NullPointerException if an argument is null
   */
  public static List<Conflict> of(List<OffsetRange> ranges, Map<Partition, Long> stored) {
    Objects.requireNonNull(stored, "stored must not be null");
    List<Long> parallel = new ArrayList<>(ranges.size());
    for (OffsetRange r : ranges) {
      parallel.add(stored.get(r.partition()));
    }
    return ofParallel(ranges, parallel);
  }

  /**
   * The mismatches of a commit's ranges against positions read back in the ranges' order.
   *
   * @param ranges the commit's ranges
   * @param stored the stored position of each range, at the same index; null where none is stored
   * @return one conflict per range whose stored position is absent or not its {@code from}, in the
   *     ranges' order; empty when every position matches
   * @throws NullPointerException if {@code ranges} or {@code stored} is null
   * @throws IllegalArgumentException if the lists differ in size
   */
  public static List<Conflict> ofParallel(List<OffsetRange> ranges, List<Long> stored) {
    Objects.requireNonNull(ranges, "ranges must not be null");
    Objects.requireNonNull(stored, "stored must not be null");
    if (ranges.size() != stored.size()) {
      throw new IllegalArgumentException(
          ranges.size() + " ranges but " + stored.size() + " stored positions");
    }
    List<Conflict> out = new ArrayList<>();
    for (int i = 0; i < ranges.size(); i++) {
      OffsetRange r = ranges.get(i);
      Long found = stored.get(i);
      if (found == null) {
        out.add(Conflict.missing(r.partition(), r.from()));
      } else if (found != r.from()) {
        out.add(Conflict.of(r.partition(), r.from(), found));
      }
    }
    return out;
  }

  /**
   * Throws the conflict exception of a commit when there are conflicts.
   *
   * @param group the consumer group
   * @param conflicts the mismatches, possibly empty
   * @throws OffsetConflictException listing every conflict, if there is one
   */
  public static void throwIfAny(String group, List<Conflict> conflicts) {
    if (!conflicts.isEmpty()) {
      throw new OffsetConflictException(group, conflicts);
    }
  }
}
