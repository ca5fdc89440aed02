package io.tandem.kafka.internal;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.ArrayList;
import java.util.List;

/** Internal: may change in any release. The pure arithmetic of the runtime's offset ranges. */
public final class Ranges {

  private Ranges() {}

  /**
   * The range one poll covers in one partition: from the position before the poll to the consumer's
   * position after it. Positions, not record offsets: transaction markers and aborted records leave
   * holes in record offsets, so the range may be wider than the records, never narrower.
   *
   * @param partition the partition
   * @param before the position before the poll (seeked to, or last committed)
   * @param firstOffset the offset of the first record returned
   * @param lastOffset the offset of the last record returned
   * @param after the consumer's position after the poll
   * @return {@code [before, after)}
   * @throws IllegalStateException if the records do not lie inside {@code [before, after)}: the
   *     consumer and the runtime disagree about the position, and committing would skip or repeat
   */
  public static OffsetRange covering(
      Partition partition, long before, long firstOffset, long lastOffset, long after) {
    if (firstOffset < before || lastOffset < firstOffset || lastOffset >= after) {
      throw new IllegalStateException(
          "records "
              + partition
              + "@["
              + firstOffset
              + ".."
              + lastOffset
              + "] do not lie inside the positions ["
              + before
              + ", "
              + after
              + ") of the poll; refusing to commit a range that would skip or repeat records");
    }
    return new OffsetRange(partition, before, after);
  }

  /**
   * Splits a range into one range per record, contiguous and covering the whole range: record
   * {@code i} gets {@code [previous until, offset_i + 1)}, the last one ends at the range's {@code
   * until} (so holes after the last record go with it).
   *
   * @param range the range
   * @param offsets the record offsets inside it, ascending, not empty
   * @return one range per record
   * @throws IllegalArgumentException if an offset is outside the range or not ascending
   */
  public static List<OffsetRange> perRecord(OffsetRange range, long[] offsets) {
    if (offsets.length == 0) {
      throw new IllegalArgumentException("offsets must not be empty (" + range + ")");
    }
    List<OffsetRange> out = new ArrayList<>(offsets.length);
    long from = range.from();
    for (int i = 0; i < offsets.length; i++) {
      long offset = offsets[i];
      if (offset < from || offset >= range.until()) {
        throw new IllegalArgumentException(
            "offset " + offset + " is outside [" + from + ", " + range.until() + ") of " + range);
      }
      long until = i == offsets.length - 1 ? range.until() : offset + 1;
      out.add(new OffsetRange(range.partition(), from, until));
      from = until;
    }
    return out;
  }

  /**
   * Cuts a list into chunks of at most {@code max} elements, in order.
   *
   * @param <E> the element type
   * @param items the items
   * @param max the largest chunk, {@code >= 1}
   * @return the chunks; empty if {@code items} is empty
   * @throws IllegalArgumentException if {@code max < 1}
   */
  public static <E> List<List<E>> chunks(List<E> items, int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be >= 1, got max=" + max);
    }
    List<List<E>> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i += max) {
      out.add(List.copyOf(items.subList(i, Math.min(items.size(), i + max))));
    }
    return out;
  }
}
