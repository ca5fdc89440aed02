package io.tandem.spi;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The argument checks of the {@link OffsetStore} contract, for implementations to call first, so
 * that every store rejects the same input with the same message before writing anything.
 *
 * @since 0.1
 */
public final class StoreArguments {

  private StoreArguments() {}

  /**
   * Checks a group name.
   *
   * @param group the group
   * @return {@code group}
   * @throws NullPointerException if {@code group} is null
   * @throws InvalidBatchException if {@code group} is empty
   */
  public static String group(String group) {
    Objects.requireNonNull(group, "group must not be null");
    if (group.isEmpty()) {
      throw new InvalidBatchException("group must not be empty");
    }
    return group;
  }

  /**
   * Checks the ranges of one commit and returns them sorted by partition, the order stores lock and
   * write in (a fixed order avoids deadlocks between concurrent commits).
   *
   * @param ranges the ranges
   * @param maxRanges the most ranges the store accepts in one commit
   * @return the ranges sorted by partition
   * @throws NullPointerException if {@code ranges} or an element is null
   * @throws InvalidBatchException if {@code ranges} is empty or names a partition twice
   * @throws BatchTooLargeException if there are more than {@code maxRanges} ranges
   */
  public static List<OffsetRange> ranges(Collection<OffsetRange> ranges, int maxRanges) {
    Objects.requireNonNull(ranges, "ranges must not be null");
    if (ranges.isEmpty()) {
      throw new InvalidBatchException(
          "ranges must not be empty: a commit moves at least one range");
    }
    if (ranges.size() > maxRanges) {
      throw new BatchTooLargeException(
          "a commit accepts at most "
              + maxRanges
              + " ranges on this store, got "
              + ranges.size()
              + ". Commit fewer partitions per call (the consumer runtime's per-partition scope).");
    }
    TreeMap<Partition, OffsetRange> byPartition = new TreeMap<>();
    for (OffsetRange range : ranges) {
      Objects.requireNonNull(range, "ranges must not contain null");
      OffsetRange previous = byPartition.put(range.partition(), range);
      if (previous != null) {
        throw new InvalidBatchException(
            "partition "
                + range.partition()
                + " appears twice in one commit: "
                + previous
                + " and "
                + range
                + ". Merge them into one range.");
      }
    }
    return List.copyOf(byPartition.values());
  }

  /**
   * Checks a collection of partitions and returns them distinct and sorted.
   *
   * @param partitions the partitions
   * @return the distinct partitions, sorted
   * @throws NullPointerException if {@code partitions} or an element is null
   */
  public static List<Partition> partitions(Collection<Partition> partitions) {
    Objects.requireNonNull(partitions, "partitions must not be null");
    Set<Partition> seen = new HashSet<>();
    List<Partition> out = new ArrayList<>(partitions.size());
    for (Partition p : partitions) {
      Objects.requireNonNull(p, "partitions must not contain null");
      if (seen.add(p)) {
        out.add(p);
      }
    }
    out.sort(null);
    return out;
  }

  /**
   * Checks positions to initialize or overwrite and returns them sorted by partition.
   *
   * @param positions the positions
   * @return the positions, sorted by partition
   * @throws NullPointerException if {@code positions}, a key or a value is null
   * @throws InvalidBatchException if a position is negative
   */
  public static Map<Partition, Long> positions(Map<Partition, Long> positions) {
    Objects.requireNonNull(positions, "positions must not be null");
    TreeMap<Partition, Long> sorted = new TreeMap<>();
    for (Map.Entry<Partition, Long> e : positions.entrySet()) {
      Partition p = Objects.requireNonNull(e.getKey(), "positions must not have a null partition");
      Long position = e.getValue();
      Objects.requireNonNull(position, () -> "position of " + p + " must not be null");
      if (position < 0) {
        throw new InvalidBatchException(
            "position must be >= 0, got " + position + " for " + p + ". Positions start at 0.");
      }
      sorted.put(p, position);
    }
    return sorted;
  }

  /**
   * Checks a result writer.
   *
   * @param <T> the handle type
   * @param results the writer
   * @return {@code results}
   * @throws NullPointerException if {@code results} is null
   */
  public static <T> ResultWriter<T> results(ResultWriter<T> results) {
    return Objects.requireNonNull(
        results, "results must not be null; pass ResultWriter.none() to commit offsets only");
  }
}
