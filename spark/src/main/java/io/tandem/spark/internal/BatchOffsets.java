package io.tandem.spark.internal;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.datasources.v2.StreamingDataSourceV2ScanRelation;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Internal: may change in any release.
 *
 * <p>A micro-batch's exact Kafka ranges, read from the batch's own logical plan. For every batch,
 * Spark's {@code MicroBatchExecution} replaces each V2 source in the plan with a {@link
 * StreamingDataSourceV2ScanRelation} carrying the batch's start and end offsets: the same offsets
 * it wrote to the offset log before running the batch, and the ones its Kafka source reads between.
 * They are positions (next offset to read), so transaction markers and compacted records at the
 * edges are accounted for, unlike a range guessed from the records' smallest and largest offsets.
 */
public final class BatchOffsets {

  /** Kafka's micro-batch stream; compared by name, as it is private to spark-sql-kafka. */
  private static final String KAFKA_STREAM = "org.apache.spark.sql.kafka010.KafkaMicroBatchStream";

  private BatchOffsets() {}

  /**
   * The batch's Kafka ranges.
   *
   * @param batch the Dataset foreachBatch received
   * @return its ranges, sorted by partition; empty if the plan reads no Kafka data this batch
   * @throws IllegalStateException if a partition appears in the end offsets without a start (it was
   *     added to the topic during the query), or two sources read one partition differently
   */
  public static List<OffsetRange> of(Dataset<?> batch) {
    LogicalPlan plan = batch.queryExecution().logical();
    Map<Partition, OffsetRange> ranges = new TreeMap<>();
    for (LogicalPlan leaf : CollectionConverters.asJava(plan.collectLeaves())) {
      if (!(leaf instanceof StreamingDataSourceV2ScanRelation scan)
          || !scan.stream().getClass().getName().equals(KAFKA_STREAM)
          || scan.startOffset().isEmpty()
          || scan.endOffset().isEmpty()) {
        continue;
      }
      Map<Partition, Long> start = OffsetJson.read(scan.startOffset().get().json());
      Map<Partition, Long> end = OffsetJson.read(scan.endOffset().get().json());
      for (Map.Entry<Partition, Long> e : end.entrySet()) {
        Long from = start.get(e.getKey());
        if (from == null) {
          throw new IllegalStateException(
              e.getKey()
                  + " appeared during the query (a partition added to the topic): its start is not"
                  + " in the batch's start offsets. Restart the query; it then starts every"
                  + " partition from the store");
        }
        OffsetRange range = new OffsetRange(e.getKey(), from, e.getValue());
        OffsetRange before = ranges.putIfAbsent(e.getKey(), range);
        if (before != null && !before.equals(range)) {
          throw new IllegalStateException(
              "two Kafka sources read " + e.getKey() + " differently: " + before + ", " + range);
        }
      }
    }
    return new ArrayList<>(ranges.values());
  }
}
