package io.tandem.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

import io.tandem.spark.internal.BatchOffsets;
import io.tandem.spark.internal.Commits;
import io.tandem.spark.internal.KafkaPositions;
import io.tandem.spark.internal.OffsetJson;
import io.tandem.spark.internal.Pending;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly-once Structured Streaming on Kafka: a {@code foreachBatch} function that commits each
 * micro-batch's results together with the batch's exact Kafka ranges in a Tandem store, and the
 * source's {@code startingOffsets} read from that store.
 *
 * <pre>{@code
 * Dataset<Row> kafka = spark.readStream().format("kafka")
 *     .option("kafka.bootstrap.servers", servers).option("subscribe", "orders")
 *     .option("startingOffsets", TandemForeachBatch.startingOffsets(store, "orders",
 *         List.of("orders"), Map.of("kafka.bootstrap.servers", servers), Reset.EARLIEST))
 *     .load();
 * kafka.writeStream()
 *     .foreachBatch(TandemForeachBatch.of(store, "orders", dir, batch -> {
 *       List<Row> totals = batch.groupBy("key").count().collectAsList();
 *       return connection -> { ...write totals... };
 *     }))
 *     .option("checkpointLocation", dir).start();
 * }</pre>
 *
 * <p>The ranges come from what Spark itself records for the batch in the query's checkpoint (the
 * start and end offsets per partition it logs before running the batch), never from the records:
 * transaction markers and compaction leave gaps between record offsets. Before computing, the
 * stored positions are read: a batch the store already holds (a batch Spark replays after a driver
 * crash, because the crash came between the store's commit and Spark's commit log) is skipped
 * without computing; a batch whose start an earlier run committed (an old checkpoint, cut into
 * other batches) is trimmed to the rest, by the Kafka columns {@code topic}, {@code partition} and
 * {@code offset}. So a kept, deleted or stale checkpoint never duplicates results. A stored
 * position before the batch's start (the checkpoint is ahead of the store) or none fails the batch,
 * and the query: go on and records would be skipped. Deleting the checkpoint then restarts from the
 * store.
 *
 * @param <T> the store's handle type
 * @since 0.1.0
 */
public final class TandemForeachBatch<T> implements VoidFunction2<Dataset<Row>, Long> {

  private static final long serialVersionUID = 1L;
  private static final Logger log = LoggerFactory.getLogger(TandemForeachBatch.class);
  private static final List<String> KAFKA_COLUMNS = List.of("topic", "partition", "offset");

  private final StoreSpec<T> store;
  private final String group;
  private final String checkpointLocation;
  private final BatchProcessor<Dataset<Row>, T> processor;

  private TandemForeachBatch(
      StoreSpec<T> store,
      String group,
      String checkpointLocation,
      BatchProcessor<Dataset<Row>, T> processor) {
    this.store = store;
    this.group = group;
    this.checkpointLocation = checkpointLocation;
    this.processor = processor;
  }

  /**
   * The foreachBatch function.
   *
   * @param store the store
   * @param group the store group (positions and results belong to it)
   * @param checkpointLocation the query's {@code checkpointLocation}, where Spark logs each batch's
   *     offsets before running it: the batch's ranges are read there
   * @param processor computes a batch's results from its uncommitted rows (on the driver; it may
   *     run Spark jobs) and returns their writer
   * @param <T> the store's handle type
   * @return the function for {@code writeStream().foreachBatch(...)}
   */
  public static <T> TandemForeachBatch<T> of(
      StoreSpec<T> store,
      String group,
      String checkpointLocation,
      BatchProcessor<Dataset<Row>, T> processor) {
    Objects.requireNonNull(store, "store must not be null");
    Objects.requireNonNull(group, "group must not be null");
    Objects.requireNonNull(checkpointLocation, "checkpointLocation must not be null");
    Objects.requireNonNull(processor, "processor must not be null");
    return new TandemForeachBatch<>(store, group, checkpointLocation, processor);
  }

  /**
   * The Kafka source's {@code startingOffsets} option: the store's positions for every partition
   * the topics have now, missing ones initialized by {@code reset}. Spark uses it when the query
   * has no checkpoint yet (a first start, or a deleted checkpoint); with a checkpoint, Spark goes
   * on from the checkpoint and the store skips what it already holds.
   *
   * @param store the store
   * @param group the store group
   * @param topics the topics the source subscribes to
   * @param sourceOptions the source's options: {@code kafka.bootstrap.servers} and any other {@code
   *     kafka.}-prefixed client setting (security)
   * @param reset where partitions without a stored position start
   * @return JSON such as {@code {"orders":{"0":1200,"1":1187}}}
   * @throws IllegalArgumentException if {@code kafka.bootstrap.servers} is missing or a topic does
   *     not exist
   * @throws IllegalStateException if a stored position lies outside the log
   */
  public static String startingOffsets(
      StoreSpec<?> store,
      String group,
      Collection<String> topics,
      Map<String, String> sourceOptions,
      Reset reset) {
    Map<String, Object> params = new HashMap<>();
    sourceOptions.forEach(
        (k, v) -> {
          if (k.startsWith("kafka.")) {
            params.put(k.substring("kafka.".length()), v);
          }
        });
    if (!params.containsKey("bootstrap.servers")) {
      throw new IllegalArgumentException(
          "sourceOptions must hold kafka.bootstrap.servers, got " + sourceOptions.keySet());
    }
    List<Partition> partitions = KafkaPositions.partitionsOf(topics, params);
    return OffsetJson.write(KafkaPositions.start(store.store(), group, partitions, params, reset));
  }

  /**
   * Commits one micro-batch.
   *
   * @param batch the batch, as the Kafka source (and any transformation) made it
   * @param batchId Spark's batch id
   * @throws IllegalStateException if the batch cannot be committed (a position that does not fit, a
   *     conflict at commit, a batch without Kafka ranges): the query stops
   * @throws Exception what the processor or the results' writer threw: nothing is committed, and
   *     the query stops (on restart Spark runs the batch again)
   */
  @Override
  public void call(Dataset<Row> batch, Long batchId) throws Exception {
    List<OffsetRange> ranges = BatchOffsets.of(batch.sparkSession(), checkpointLocation, batchId);
    if (ranges.isEmpty()) {
      throw new IllegalStateException(
          "batch "
              + batchId
              + " has no Kafka source offsets in the offset log of "
              + checkpointLocation
              + ": use "
              + getClass().getSimpleName()
              + " on a stream read with format(\"kafka\")");
    }
    OffsetStore<T> offsets = store.store();
    List<Pending> plan = Commits.plan(offsets, group, ranges);
    CommitReport planned = Commits.conflicts(group, plan);
    if (planned.hasConflicts()) {
      throw new IllegalStateException(
          "group '"
              + group
              + "': batch "
              + batchId
              + " "
              + ranges
              + " does not continue from the store's positions: "
              + planned.conflicts()
              + ". The query's checkpoint is ahead of the store or belongs to another group;"
              + " nothing was committed. Delete the checkpoint to restart from the store",
          new OffsetConflictException(group, planned.conflicts()));
    }
    if (plan.stream().allMatch(Pending::alreadyCommitted)) {
      log.info(
          "group '{}': batch {} {} was committed before (a replay); skipped",
          group,
          batchId,
          ranges);
      return;
    }
    Dataset<Row> pending = pendingOnly(batch, batchId, plan);
    ResultWriter<T> writer = processor.process(pending);
    CommitReport report = Commits.commitAll(offsets, group, plan, writer);
    if (report.hasConflicts()) {
      throw new IllegalStateException(
          "group '"
              + group
              + "': batch "
              + batchId
              + " lost its commit to another writer: "
              + report.conflicts()
              + ". Nothing was committed; is another query running with this group?",
          new OffsetConflictException(group, report.conflicts()));
    }
    log.debug("group '{}': batch {} committed {}", group, batchId, report.committed());
  }

  /** The rows not committed yet: partitions committed before dropped, cut ones trimmed. */
  private Dataset<Row> pendingOnly(Dataset<Row> batch, long batchId, List<Pending> plan) {
    if (plan.stream().allMatch(p -> p.pending() != null && !p.trimmed())) {
      return batch;
    }
    if (!Arrays.asList(batch.columns()).containsAll(KAFKA_COLUMNS)) {
      throw new IllegalStateException(
          "group '"
              + group
              + "': an earlier run committed part of batch "
              + batchId
              + " ("
              + plan
              + "); dropping those rows needs the Kafka columns "
              + KAFKA_COLUMNS
              + ", but the batch has "
              + Arrays.toString(batch.columns())
              + ". Apply foreachBatch to the Kafka source's rows and transform inside the"
              + " processor");
    }
    Column committed = lit(false);
    for (Pending p : plan) {
      Partition partition = p.range().partition();
      Column same =
          col("topic")
              .equalTo(partition.topic())
              .and(col("partition").equalTo(partition.partition()));
      committed =
          committed.or(p.pending() == null ? same : same.and(col("offset").lt(p.pending().from())));
    }
    log.info("group '{}': batch {} partly committed before; committing {}", group, batchId, plan);
    return batch.filter(not(committed));
  }
}
