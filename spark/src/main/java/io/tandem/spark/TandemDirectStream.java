package io.tandem.spark;

import io.tandem.spark.internal.Commits;
import io.tandem.spark.internal.KafkaPositions;
import io.tandem.spark.internal.Outcome;
import io.tandem.spark.internal.Pending;
import io.tandem.spark.internal.SubscribeAssigned;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.Dependency;
import org.apache.spark.OneToOneDependency;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.streaming.api.java.JavaInputDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;
import org.apache.spark.streaming.kafka010.ConsumerStrategies;
import org.apache.spark.streaming.kafka010.ConsumerStrategy;
import org.apache.spark.streaming.kafka010.HasOffsetRanges;
import org.apache.spark.streaming.kafka010.KafkaUtils;
import org.apache.spark.streaming.kafka010.LocationStrategies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly-once Spark Streaming (DStreams) jobs on Kafka's direct stream: the stream starts from the
 * positions in a Tandem store, and each batch's results are committed together with the batch's
 * exact offset ranges ({@link HasOffsetRanges}) in that store.
 *
 * <pre>{@code
 * JavaInputDStream<ConsumerRecord<String, String>> stream =
 *     TandemDirectStream.subscribe(ssc, store, "orders", List.of("orders"), kafkaParams, Reset.EARLIEST);
 * stream.foreachRDD(rdd -> TandemDirectStream.commitEachPartition(rdd, store, "orders",
 *     records -> { ...compute...; return connection -> { ...write... }; }).requireNoConflicts());
 * }</pre>
 *
 * <p>Two ways to commit: {@link #commitEachPartition} commits in each task its own Kafka
 * partition's range with the results computed from it (ranges of different partitions commit on
 * different executors, independently); {@link #commitOnDriver} commits every range of the batch at
 * once with results the driver computed (aggregations). Both read the stored positions first and
 * skip what was committed before, so a batch replayed from a Spark checkpoint, or a retried task,
 * never writes its results twice; a position that does not fit the batch is reported as a conflict
 * in the {@link CommitReport}, never retried.
 *
 * <p>Do not let Spark also commit offsets to Kafka ({@code commitAsync}) for correctness: the
 * store's positions are the truth. Without a Spark checkpoint every start continues from the store;
 * with one, Spark replays the checkpoint's batches first and the store skips what it already has.
 *
 * <p>Spark 4 deprecates DStreams in favour of Structured Streaming ({@link TandemForeachBatch});
 * they still run, and this class serves jobs that use them.
 *
 * @since 0.1.0
 */
// JavaStreamingContext is deprecated in Spark 4.x; DStream jobs still need it.
@SuppressWarnings("deprecation")
public final class TandemDirectStream {

  private static final Logger log = LoggerFactory.getLogger(TandemDirectStream.class);

  private TandemDirectStream() {}

  /**
   * A direct stream over every partition the topics have now, starting from the store's positions
   * (missing ones initialized by {@code reset}); {@code group.id} defaults to the store group. The
   * driver's consumer joins the group and seeks only once the group has assigned it every partition
   * to seek (the start positions, or on recovery from a Spark checkpoint the checkpoint's offsets),
   * waiting up to twice {@code session.timeout.ms} plus 30 s: after a driver crash the killed
   * driver stays a member until its session expires. (Spark's own {@code
   * ConsumerStrategies.Subscribe} seeks after a single poll and can fail there with "No current
   * assignment for partition".) Another live consumer of the group holding some of the partitions
   * fails the start, naming them. Partitions added to a topic later are read from Kafka's {@code
   * auto.offset.reset}: restart the job after adding partitions.
   *
   * @param ssc the streaming context
   * @param store the store
   * @param group the store group (positions and results belong to it)
   * @param topics the topics
   * @param kafkaParams consumer configuration: bootstrap servers and deserializers at least
   * @param reset where partitions without a stored position start
   * @param <K> the key type
   * @param <V> the value type
   * @return the stream
   * @throws IllegalArgumentException if {@code enable.auto.commit} is true or a topic is missing
   * @throws IllegalStateException if a stored position lies outside the log (see {@link Reset})
   */
  public static <K, V> JavaInputDStream<ConsumerRecord<K, V>> subscribe(
      JavaStreamingContext ssc,
      StoreSpec<?> store,
      String group,
      Collection<String> topics,
      Map<String, Object> kafkaParams,
      Reset reset) {
    Map<String, Object> params = params(group, kafkaParams);
    List<Partition> partitions = KafkaPositions.partitionsOf(topics, params);
    Map<TopicPartition, Long> offsets = startOffsets(store, group, partitions, params, reset);
    ConsumerStrategy<K, V> strategy =
        new SubscribeAssigned<>(topics, params, offsets, SubscribeAssigned.defaultWait(params));
    return KafkaUtils.createDirectStream(ssc, LocationStrategies.PreferConsistent(), strategy);
  }

  /**
   * A direct stream over the given partitions, starting from the store's positions (missing ones
   * initialized by {@code reset}). Uses {@code ConsumerStrategies.Assign} with explicit offsets.
   *
   * @param ssc the streaming context
   * @param store the store
   * @param group the store group
   * @param partitions the partitions
   * @param kafkaParams consumer configuration: bootstrap servers and deserializers at least
   * @param reset where partitions without a stored position start
   * @param <K> the key type
   * @param <V> the value type
   * @return the stream
   * @throws IllegalArgumentException if {@code enable.auto.commit} is true
   * @throws IllegalStateException if a stored position lies outside the log
   */
  public static <K, V> JavaInputDStream<ConsumerRecord<K, V>> assign(
      JavaStreamingContext ssc,
      StoreSpec<?> store,
      String group,
      Collection<Partition> partitions,
      Map<String, Object> kafkaParams,
      Reset reset) {
    Map<String, Object> params = params(group, kafkaParams);
    Map<TopicPartition, Long> offsets =
        startOffsets(store, group, List.copyOf(partitions), params, reset);
    ConsumerStrategy<K, V> strategy =
        ConsumerStrategies.<K, V>Assign(List.copyOf(offsets.keySet()), params, offsets);
    return KafkaUtils.createDirectStream(ssc, LocationStrategies.PreferConsistent(), strategy);
  }

  private static Map<String, Object> params(String group, Map<String, Object> kafkaParams) {
    Objects.requireNonNull(group, "group must not be null");
    Map<String, Object> params = new HashMap<>(kafkaParams);
    Object auto = params.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG);
    if (auto != null && Boolean.parseBoolean(auto.toString())) {
      throw new IllegalArgumentException(
          "enable.auto.commit must be false, got true: the store's positions are the truth, and"
              + " Kafka's auto-commit would mark records consumed that were never committed");
    }
    params.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    params.putIfAbsent(ConsumerConfig.GROUP_ID_CONFIG, group);
    return params;
  }

  private static Map<TopicPartition, Long> startOffsets(
      StoreSpec<?> store,
      String group,
      List<Partition> partitions,
      Map<String, Object> params,
      Reset reset) {
    Map<Partition, Long> positions =
        KafkaPositions.start(store.store(), group, partitions, params, reset);
    Map<TopicPartition, Long> offsets = new HashMap<>();
    positions.forEach((p, at) -> offsets.put(new TopicPartition(p.topic(), p.partition()), at));
    return offsets;
  }

  /**
   * The Kafka ranges of a batch, one per RDD partition, in partition order. The RDD is the one the
   * direct stream produced, or made of it by one-to-one transformations only ({@code map}, {@code
   * filter}, {@code mapPartitions}...), so its partition {@code i} still holds exactly the records
   * of Kafka range {@code i}.
   *
   * @param rdd the batch's RDD
   * @return its ranges, as positions (next offset to read)
   * @throws IllegalArgumentException if the RDD's partitions are not one-to-one with Kafka
   *     partitions: after a shuffle ({@code repartition}, {@code groupBy}, {@code reduceByKey},
   *     {@code join}...), a {@code coalesce}, a {@code union}, or an RDD not from a direct stream
   */
  public static List<OffsetRange> offsetRanges(JavaRDD<?> rdd) {
    org.apache.spark.streaming.kafka010.OffsetRange[] ranges = kafkaRanges(rdd.rdd());
    List<OffsetRange> out = new ArrayList<>(ranges.length);
    for (org.apache.spark.streaming.kafka010.OffsetRange r : ranges) {
      out.add(OffsetRange.of(r.topic(), r.partition(), r.fromOffset(), r.untilOffset()));
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * Walks the lineage back to the direct stream's {@code KafkaRDD} through one-to-one dependencies
   * only. A {@code KafkaRDD}'s partition {@code i} reads {@code offsetRanges()[i]} (KafkaRDD builds
   * its partitions from {@code offsetRanges.zipWithIndex}); a {@link OneToOneDependency} keeps
   * partition {@code i} of the child on partition {@code i} of the parent. Anything else (shuffle,
   * coalesce's many-to-one, union's range, zip's several parents) breaks that, and a per-partition
   * commit would then commit a Kafka range with results computed from other records.
   */
  private static org.apache.spark.streaming.kafka010.OffsetRange[] kafkaRanges(RDD<?> rdd) {
    RDD<?> current = rdd;
    List<String> path = new ArrayList<>();
    while (!(current instanceof HasOffsetRanges)) {
      path.add(current.getClass().getSimpleName() + "[" + current.id() + "]");
      scala.collection.immutable.Seq<Dependency<?>> deps = current.dependencies();
      if (deps.isEmpty()) {
        throw notOneToOne(rdd, path, "it does not come from a Kafka direct stream");
      }
      if (deps.length() != 1) {
        throw notOneToOne(
            rdd, path, "it has " + deps.length() + " parents (union, zip, join or cogroup)");
      }
      Dependency<?> dep = deps.head();
      if (dep instanceof ShuffleDependency<?, ?, ?>) {
        throw notOneToOne(
            rdd,
            path,
            "a shuffle (repartition, groupBy, reduceByKey, join, sortBy, distinct...) moved records"
                + " between partitions");
      }
      if (!(dep instanceof OneToOneDependency<?>)) {
        throw notOneToOne(
            rdd,
            path,
            "a "
                + dep.getClass().getSimpleName()
                + " (coalesce, union or another many-to-one transformation) merged partitions");
      }
      current = dep.rdd();
    }
    org.apache.spark.streaming.kafka010.OffsetRange[] ranges =
        ((HasOffsetRanges) current).offsetRanges();
    if (rdd.getNumPartitions() != ranges.length) {
      throw notOneToOne(
          rdd,
          path,
          "it has "
              + rdd.getNumPartitions()
              + " partitions for "
              + ranges.length
              + " Kafka ranges");
    }
    return ranges;
  }

  private static IllegalArgumentException notOneToOne(RDD<?> rdd, List<String> path, String why) {
    return new IllegalArgumentException(
        "RDD "
            + rdd.id()
            + " ("
            + rdd
            + ") is not one-to-one with Kafka partitions: "
            + why
            + (path.isEmpty() ? "" : " (lineage " + String.join(" <- ", path) + ")")
            + ". A per-partition commit there would commit a Kafka range with results computed"
            + " from other records. Commit on the direct stream's RDD or a map/filter of it, and"
            + " do shuffles inside the processor with commitOnDriver");
  }

  /**
   * Commits each RDD partition's results together with its own Kafka range, inside that partition's
   * task, then collects what happened to the driver. Each task reads its partition's stored
   * position: a range committed before is skipped (the processor is not called), a range whose
   * start an earlier run committed is cut to the rest (the records before it are dropped), a
   * position that does not fit is a conflict (reported, the results not committed). The processor
   * throwing fails the task (nothing of that partition is committed) and Spark retries it.
   *
   * @param rdd the batch's RDD (see {@link #offsetRanges} for which RDDs qualify)
   * @param store the store
   * @param group the store group
   * @param processor computes a partition's results, on the executor
   * @param <R> the element type
   * @param <T> the store's handle type
   * @return what each partition's commit did
   * @throws IllegalArgumentException if the RDD is not one-to-one with Kafka partitions
   */
  public static <R, T> CommitReport commitEachPartition(
      JavaRDD<R> rdd, StoreSpec<T> store, String group, PartitionProcessor<R, T> processor) {
    Objects.requireNonNull(processor, "processor must not be null");
    Objects.requireNonNull(group, "group must not be null");
    List<OffsetRange> ranges = offsetRanges(rdd);
    // Spark's own OffsetRange is serializable, the spi's is not: ship those to the tasks.
    org.apache.spark.streaming.kafka010.OffsetRange[] shipped = kafkaRanges(rdd.rdd());
    List<Outcome> outcomes =
        rdd.mapPartitionsWithIndex(
                (index, records) -> {
                  org.apache.spark.streaming.kafka010.OffsetRange r = shipped[index];
                  OffsetRange range =
                      OffsetRange.of(r.topic(), r.partition(), r.fromOffset(), r.untilOffset());
                  Outcome outcome =
                      Commits.commitPartition(store, group, range, records, processor);
                  return List.of(outcome).iterator();
                },
                true)
            .collect();
    CommitReport report = Commits.report(group, outcomes);
    log(report, ranges);
    return report;
  }

  /**
   * Commits a batch's results, computed by the driver, together with every Kafka range of the batch
   * in one commit (atomic across partitions where the store is). Ranges committed before are left
   * out, with their records; a range whose start an earlier run committed is cut to the rest, its
   * earlier records dropped; if any stored position does not fit, nothing is computed or committed
   * and the conflicts are reported.
   *
   * @param rdd the batch's RDD: the direct stream's, or a one-to-one transformation of it
   * @param store the store
   * @param group the store group
   * @param processor computes the results from the batch's uncommitted records (may shuffle)
   * @param <R> the element type
   * @param <T> the store's handle type
   * @return what the commit did
   * @throws IllegalArgumentException if the RDD is not one-to-one with Kafka partitions
   * @throws io.tandem.spi.ResultWriteException if the results' writer failed (nothing committed)
   * @throws Exception what the processor threw (nothing committed)
   */
  public static <R, T> CommitReport commitOnDriver(
      JavaRDD<R> rdd, StoreSpec<T> store, String group, BatchProcessor<JavaRDD<R>, T> processor)
      throws Exception {
    Objects.requireNonNull(processor, "processor must not be null");
    List<OffsetRange> ranges = offsetRanges(rdd);
    OffsetStore<T> offsets = store.store();
    List<Pending> plan = Commits.plan(offsets, group, ranges);
    if (plan.stream().anyMatch(p -> p.conflict() != null)) {
      CommitReport report = Commits.conflicts(group, plan);
      log(report, ranges);
      return report;
    }
    if (plan.stream().allMatch(Pending::alreadyCommitted)) {
      CommitReport report = Commits.commitAll(offsets, group, plan, ResultWriter.none());
      log(report, ranges);
      return report;
    }
    JavaRDD<R> pending = pendingOnly(rdd, plan);
    ResultWriter<T> writer = processor.process(pending);
    CommitReport report = Commits.commitAll(offsets, group, plan, writer);
    log(report, ranges);
    return report;
  }

  /** The records not committed yet: partitions committed before dropped, cut ones trimmed. */
  private static <R> JavaRDD<R> pendingOnly(JavaRDD<R> rdd, List<Pending> plan) {
    if (plan.stream().allMatch(p -> p.pending() != null && !p.trimmed())) {
      return rdd;
    }
    long[] keepFrom = new long[plan.size()];
    String[] names = new String[plan.size()];
    long[][] bounds = new long[plan.size()][];
    for (int i = 0; i < plan.size(); i++) {
      Pending p = plan.get(i);
      keepFrom[i] = p.pending() == null ? -1 : p.pending().from();
      names[i] = p.range().partition().topic();
      bounds[i] =
          new long[] {p.range().partition().partition(), p.range().from(), p.range().until()};
    }
    return rdd.mapPartitionsWithIndex(
        (index, records) -> {
          long from = keepFrom[index];
          if (from < 0) {
            return Collections.<R>emptyIterator();
          }
          OffsetRange range =
              OffsetRange.of(
                  names[index], (int) bounds[index][0], bounds[index][1], bounds[index][2]);
          Iterator<R> it = records;
          return from > range.from() ? Commits.from(it, from, range) : it;
        },
        true);
  }

  private static void log(CommitReport report, List<OffsetRange> ranges) {
    if (report.hasConflicts()) {
      log.warn(
          "group '{}': batch {} left uncommitted for {} (already committed: {})",
          report.group(),
          ranges,
          report.conflicts(),
          report.alreadyCommitted());
    } else if (log.isDebugEnabled()) {
      log.debug(
          "group '{}': committed {}, already committed {}",
          report.group(),
          report.committed(),
          report.alreadyCommitted());
    }
  }
}
