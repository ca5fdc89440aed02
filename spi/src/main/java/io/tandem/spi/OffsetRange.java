package io.tandem.spi;

import java.util.Objects;

/**
 * The positions one batch covers in one partition: half-open {@code [from, until)}.
 *
 * <p>Offsets are consumer <em>positions</em> (the next offset to read), not record offsets:
 * transaction markers and compaction leave holes in record offsets, never in positions. A commit of
 * this range requires the stored position to be exactly {@code from} and moves it to {@code until}.
 * An empty range ({@code from == until}) is allowed: it checks the position without moving it.
 *
 * @param partition the partition
 * @param from the position before the batch; {@code >= 0}
 * @param until the position after the batch; {@code >= from}
 * @since 0.1
 */
public record OffsetRange(Partition partition, long from, long until) {

  /**
   * Checks every field against the rules above.
   *
   * @param partition see the record's description
   * @param from see the record's description
   * @param until see the record's description
   * @throws IllegalArgumentException unless {@code 0 <= from <= until}
   */
  public OffsetRange {
    Objects.requireNonNull(partition, "partition must not be null");
    if (from < 0) {
      throw new IllegalArgumentException(
          "from must be >= 0, got from=" + from + ", until=" + until + " (" + partition + ")");
    }
    if (until < from) {
      throw new IllegalArgumentException(
          "from must be <= until, got from=" + from + ", until=" + until + " (" + partition + ")");
    }
  }

  /**
   * Shorthand for {@code new OffsetRange(new Partition(topic, partition), from, until)}.
   *
   * @param topic the topic
   * @param partition the partition number
   * @param from the position before the batch
   * @param until the position after the batch
   * @return the range
   */
  public static OffsetRange of(String topic, int partition, long from, long until) {
    return new OffsetRange(new Partition(topic, partition), from, until);
  }

  /**
   * The number of positions covered.
   *
   * @return {@code until - from}
   */
  public long size() {
    return until - from;
  }

  /** Returns {@code topic-partition[from, until)}. */
  @Override
  public String toString() {
    return partition + "[" + from + ", " + until + ")";
  }
}
