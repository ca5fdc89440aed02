package io.tandem.kafka;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The records of one commit and the offset ranges the commit moves. Ranges are consumer positions
 * {@code [from, until)}: they may cover more offsets than there are records (transaction markers,
 * aborted or compacted records), never fewer.
 *
 * @param <K> the record key type
 * @param <V> the record value type
 * @since 0.1
 */
public final class Batch<K, V> {

  private final List<OffsetRange> ranges;
  private final List<ConsumerRecord<K, V>> records;

  private Batch(List<OffsetRange> ranges, List<ConsumerRecord<K, V>> records) {
    this.ranges = ranges;
    this.records = records;
  }

  /**
   * Creates a batch, for example to unit-test a {@link BatchProcessor}. Every record must lie
   * inside the range of its partition.
   *
   * @param <K> the record key type
   * @param <V> the record value type
   * @param ranges one range per partition; distinct partitions
   * @param records the records, in offset order per partition
   * @return the batch
   * @throws IllegalArgumentException if a partition appears in two ranges, or a record has no range
   *     or lies outside it
   */
  public static <K, V> Batch<K, V> of(
      List<OffsetRange> ranges, List<ConsumerRecord<K, V>> records) {
    Objects.requireNonNull(ranges, "ranges must not be null");
    Objects.requireNonNull(records, "records must not be null");
    Map<Partition, OffsetRange> byPartition = new LinkedHashMap<>();
    for (OffsetRange r : ranges) {
      Objects.requireNonNull(r, "ranges must not contain null");
      if (byPartition.put(r.partition(), r) != null) {
        throw new IllegalArgumentException(
            "partition " + r.partition() + " appears in two ranges of one batch");
      }
    }
    for (ConsumerRecord<K, V> rec : records) {
      Objects.requireNonNull(rec, "records must not contain null");
      Partition p = Partition.of(rec.topic(), rec.partition());
      OffsetRange r = byPartition.get(p);
      if (r == null || rec.offset() < r.from() || rec.offset() >= r.until()) {
        throw new IllegalArgumentException(
            "record "
                + p
                + "@"
                + rec.offset()
                + " lies outside the batch's range "
                + (r == null ? "(none for " + p + ")" : r));
      }
    }
    return new Batch<>(List.copyOf(ranges), List.copyOf(records));
  }

  /**
   * The ranges this batch's commit moves, one per partition.
   *
   * @return the ranges; not empty for a batch the runtime hands over
   */
  public List<OffsetRange> ranges() {
    return ranges;
  }

  /**
   * The records, grouped by partition, in offset order within each partition.
   *
   * @return the records; not empty for a batch the runtime hands over
   */
  public List<ConsumerRecord<K, V>> records() {
    return records;
  }

  /**
   * The records of one partition.
   *
   * @param partition the partition
   * @return its records in offset order; empty if the batch has none of it
   */
  public List<ConsumerRecord<K, V>> records(Partition partition) {
    List<ConsumerRecord<K, V>> out = new ArrayList<>();
    for (ConsumerRecord<K, V> rec : records) {
      if (rec.partition() == partition.partition() && rec.topic().equals(partition.topic())) {
        out.add(rec);
      }
    }
    return out;
  }

  /**
   * The partitions this batch covers.
   *
   * @return the partitions, in range order
   */
  public Set<Partition> partitions() {
    Map<Partition, Boolean> seen = new LinkedHashMap<>();
    for (OffsetRange r : ranges) {
      seen.put(r.partition(), Boolean.TRUE);
    }
    return seen.keySet();
  }

  /**
   * The number of records.
   *
   * @return {@code records().size()}
   */
  public int size() {
    return records.size();
  }

  @Override
  public String toString() {
    return "Batch" + ranges + " (" + records.size() + " records)";
  }
}
