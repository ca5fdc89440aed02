package io.tandem.spark.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tandem.spark.CommitReport;
import io.tandem.spark.Reset;
import io.tandem.spark.StoreSpec;
import io.tandem.spark.TandemDirectStream;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.streaming.Durations;
import org.apache.spark.streaming.api.java.JavaInputDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;
import org.apache.spark.streaming.kafka010.KafkaUtils;
import org.apache.spark.streaming.kafka010.LocationStrategies;
import org.apache.spark.streaming.kafka010.OffsetRange;
import org.apache.spark.util.TaskCompletionListener;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/** The DStream adapter in Spark local mode against the broker and PostgreSQL. */
@SuppressWarnings("deprecation") // DStreams are deprecated in Spark 4, still supported
class DirectStreamIT {

  // Failure injection counters: tasks run in this JVM (local mode).
  private static final AtomicInteger FAILED_AFTER_WRITE = new AtomicInteger();
  private static final AtomicInteger FAILED_AFTER_COMMIT = new AtomicInteger();

  private final StoreSpec<Connection> store = Fixture.jdbcStore();

  private JavaSparkContext jsc() {
    return JavaSparkContext.fromSparkContext(Fixture.spark().sparkContext());
  }

  @Test
  void perPartitionCommitsEveryRecordOnceThroughTaskFailuresAndRetries() throws Exception {
    String topic = Fixture.unique("ds_tasks");
    String group = topic;
    int records = Integer.getInteger("tandem.spark.records", 3000);
    Fixture.kafka().createTopic(topic, 3);
    // Three chunks, each read once the stream caught up: several batches, each with failures.
    int chunk = records / 3;
    Fixture.produce(topic, 3, 0, chunk);
    JdbcResults results = new JdbcResults(topic);
    try (Connection c = Fixture.postgres().connect()) {
      results.create(c);
    }
    FAILED_AFTER_WRITE.set(0);
    FAILED_AFTER_COMMIT.set(0);
    ConcurrentLinkedQueue<CommitReport> reports = new ConcurrentLinkedQueue<>();
    JavaStreamingContext ssc = new JavaStreamingContext(jsc(), Durations.milliseconds(500));
    try {
      JavaInputDStream<ConsumerRecord<String, String>> stream =
          TandemDirectStream.subscribe(
              ssc, store, group, List.of(topic), Fixture.kafkaParams(group), Reset.EARLIEST);
      var job = results.perPartition();
      stream.foreachRDD(
          rdd ->
              reports.add(
                  TandemDirectStream.commitEachPartition(
                      rdd,
                      store,
                      group,
                      recs -> {
                        ResultWriter<Connection> writer = job.process(recs);
                        TaskContext task = TaskContext.get();
                        boolean first = task.attemptNumber() == 0;
                        if (first && task.partitionId() == 1) {
                          // Results written, then the task dies: the transaction rolls back.
                          return conn -> {
                            writer.write(conn);
                            FAILED_AFTER_WRITE.incrementAndGet();
                            throw new IllegalStateException("injected: task fails after writing");
                          };
                        }
                        if (first && task.partitionId() == 2) {
                          // Committed, then the task fails: the retry finds its range committed.
                          task.addTaskCompletionListener(
                              (TaskCompletionListener)
                                  ctx -> {
                                    FAILED_AFTER_COMMIT.incrementAndGet();
                                    throw new IllegalStateException(
                                        "injected: task fails after its commit");
                                  });
                        }
                        return writer;
                      })));
      ssc.start();
      awaitPositionsAtLogEnd(group, topic, Duration.ofMinutes(3));
      Fixture.produce(topic, 3, chunk, chunk);
      awaitPositionsAtLogEnd(group, topic, Duration.ofMinutes(3));
      Fixture.produce(topic, 3, 2L * chunk, records - 2L * chunk);
      awaitPositionsAtLogEnd(group, topic, Duration.ofMinutes(3));
    } finally {
      ssc.stop(false, true);
    }
    try (Connection c = Fixture.postgres().connect()) {
      results.verify(c, records);
    }
    assertThat(FAILED_AFTER_WRITE.get()).as("tasks failed after writing").isPositive();
    assertThat(FAILED_AFTER_COMMIT.get()).as("tasks failed after committing").isPositive();
    assertThat(reports).noneMatch(CommitReport::hasConflicts);
    assertThat(reports.stream().mapToLong(r -> r.alreadyCommitted().size()).sum())
        .as("retried tasks that found their range committed")
        .isPositive();
  }

  @Test
  void refusesPerPartitionCommitWhereRddPartitionsAreNoLongerKafkaPartitions() throws Exception {
    String topic = Fixture.unique("ds_lineage");
    Fixture.kafka().createTopic(topic, 2);
    Fixture.produce(topic, 2, 0, 100);
    JavaRDD<ConsumerRecord<String, String>> kafka = kafkaRdd(topic, 2, 0, 50);
    var processor = new JdbcResults(topic).perPartition();

    assertThatThrownBy(
            () ->
                TandemDirectStream.commitEachPartition(
                    kafka.repartition(2), store, topic, processor))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not one-to-one with Kafka partitions")
        .hasMessageContaining("shuffle");
    assertThatThrownBy(
            () ->
                TandemDirectStream.commitEachPartition(kafka.coalesce(1), store, topic, processor))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("merged partitions");
    assertThatThrownBy(
            () ->
                TandemDirectStream.commitEachPartition(
                    kafka.union(kafkaRdd(topic, 2, 50, 100)), store, topic, processor))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not one-to-one");
    assertThatThrownBy(
            () ->
                TandemDirectStream.commitEachPartition(
                    jsc().parallelize(List.of(1, 2, 3), 2), store, topic, recs -> c -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not come from a Kafka direct stream");
    // One-to-one transformations keep partition i on Kafka range i: accepted.
    assertThat(TandemDirectStream.offsetRanges(kafka.filter(r -> true).map(r -> r.value())))
        .hasSize(2);
  }

  @Test
  void replayedAndOverlappingBatchesCommitOnlyWhatIsNew() throws Exception {
    String topic = Fixture.unique("ds_replay");
    String group = topic;
    Fixture.kafka().createTopic(topic, 2);
    Fixture.produce(topic, 2, 0, 200); // 100 per partition
    JdbcResults results = new JdbcResults(topic);
    try (Connection c = Fixture.postgres().connect()) {
      results.create(c);
    }
    initialize(group, topic, 2, 0);
    var processor = results.perPartition();

    CommitReport first =
        TandemDirectStream.commitEachPartition(kafkaRdd(topic, 2, 0, 60), store, group, processor);
    assertThat(first.committedPositions()).isEqualTo(120);

    // The same batch again (a checkpoint replay): nothing written twice.
    CommitReport replay =
        TandemDirectStream.commitEachPartition(kafkaRdd(topic, 2, 0, 60), store, group, processor);
    assertThat(replay.alreadyCommitted()).hasSize(2);
    assertThat(replay.committed()).isEmpty();

    // A batch cut differently (an older checkpoint): only [60, 100) is new.
    CommitReport overlap =
        TandemDirectStream.commitOnDriver(
            kafkaRdd(topic, 2, 40, 100),
            store,
            group,
            batch -> {
              List<Tuple2<String, Long>> sums =
                  batch
                      .mapToPair(r -> new Tuple2<>(r.key(), Long.parseLong(r.value())))
                      .reduceByKey(Long::sum)
                      .collect();
              List<JdbcResults.Seen> rows = new ArrayList<>();
              rows.addAll(batch.map(JdbcResults::seen).collect());
              assertThat(sums.stream().mapToLong(Tuple2::_2).sum())
                  .isEqualTo(rows.stream().mapToLong(JdbcResults.Seen::value).sum());
              return results.writer(rows);
            });
    assertThat(overlap.committed())
        .containsExactly(
            io.tandem.spi.OffsetRange.of(topic, 0, 60, 100),
            io.tandem.spi.OffsetRange.of(topic, 1, 60, 100));
    try (Connection c = Fixture.postgres().connect()) {
      results.verify(c, 200);
    }

    // A gap (the store is behind the batch): reported, nothing written, never retried.
    Fixture.produce(topic, 2, 200, 40);
    CommitReport gap =
        TandemDirectStream.commitEachPartition(
            kafkaRdd(topic, 2, 110, 120), store, group, processor);
    assertThat(gap.conflicts()).hasSize(2);
    assertThat(gap.conflicts().get(0).expected()).isEqualTo(110);
    assertThat(gap.conflicts().get(0).found()).hasValue(100);
    assertThatThrownBy(gap::requireNoConflicts)
        .isInstanceOf(OffsetConflictException.class)
        .hasMessageContaining(topic + "-0 expected 110, found 100");
    try (Connection c = Fixture.postgres().connect()) {
      assertThat(results.seenCount(c)).isEqualTo(200);
    }
  }

  /**
   * Subscribe while another member of the group holds the partitions (as a killed driver does until
   * its session expires): Spark's own Subscribe would poll once, get part of the partitions and
   * fail its seek with "No current assignment for partition". The stream's consumer waits until the
   * group assigns it every partition, then starts from the store's positions.
   */
  @Test
  void subscribeWaitsUntilTheGroupAssignsEveryPartition() throws Exception {
    String topic = Fixture.unique("ds_subscribe");
    String group = topic;
    Fixture.kafka().createTopic(topic, 3);
    Fixture.produce(topic, 3, 0, 300);
    JdbcResults results = new JdbcResults(topic);
    try (Connection c = Fixture.postgres().connect()) {
      results.create(c);
    }
    initialize(group, topic, 3, 20); // the store's positions, not Kafka's, are where it starts
    Map<String, Object> params = Fixture.kafkaParams(group);
    AtomicBoolean shared = new AtomicBoolean();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread other =
        new Thread(
            () -> {
              try (KafkaConsumer<String, String> c = new KafkaConsumer<>(params)) {
                c.subscribe(List.of(topic));
                long until = System.nanoTime() + Duration.ofSeconds(180).toNanos();
                // Holds its partitions until the stream's consumer joined and got a share.
                while (System.nanoTime() < until) {
                  c.poll(Duration.ofMillis(100));
                  c.pause(c.assignment());
                  if (!shared.get() && !c.assignment().isEmpty() && c.assignment().size() < 3) {
                    shared.set(true);
                    until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                  }
                }
              } catch (Throwable t) {
                failed.set(t);
              }
            },
            "other-member");
    other.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> Fixture.groupHasMembers(group));
    JavaStreamingContext ssc = new JavaStreamingContext(jsc(), Durations.milliseconds(500));
    try {
      TandemDirectStream.<String, String>subscribe(
              ssc, store, group, List.of(topic), params, Reset.EARLIEST)
          .foreachRDD(
              rdd ->
                  TandemDirectStream.commitEachPartition(rdd, store, group, results.perPartition())
                      .requireNoConflicts());
      ssc.start();
      awaitPositionsAtLogEnd(group, topic, Duration.ofMinutes(3));
    } finally {
      ssc.stop(false, true);
      other.join();
    }
    assertThat(failed.get()).as("the other member's consumer failed").isNull();
    try (Connection c = Fixture.postgres().connect()) {
      assertThat(results.seenCount(c)).as("records after the stored positions").isEqualTo(240);
    }
    // Seen once under load average 55: the stream's consumer got every partition at once, the
    // other member never saw its share shrink (cause not found). Then the run proves the start from
    // the store only, not the wait.
    assumeTrue(shared.get(), "the other member did not share the group with the stream's consumer");
  }

  private void initialize(String group, String topic, int partitions, long at) {
    Map<Partition, Long> starts = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      starts.put(new Partition(topic, p), at);
    }
    store.store().initialize(group, starts);
  }

  private JavaRDD<ConsumerRecord<String, String>> kafkaRdd(
      String topic, int partitions, long from, long until) {
    OffsetRange[] ranges = new OffsetRange[partitions];
    for (int p = 0; p < partitions; p++) {
      ranges[p] = OffsetRange.create(topic, p, from, until);
    }
    return KafkaUtils.createRDD(
        jsc(), Fixture.kafkaParams(topic), ranges, LocationStrategies.PreferConsistent());
  }

  private void awaitPositionsAtLogEnd(String group, String topic, Duration timeout) {
    Map<TopicPartition, Long> end = Fixture.endOffsets(topic);
    OffsetStore<Connection> s = store.store();
    await()
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () -> {
              Map<Partition, Long> positions = s.positions(group);
              Map<TopicPartition, Long> at = new HashMap<>();
              positions.forEach((p, o) -> at.put(new TopicPartition(p.topic(), p.partition()), o));
              assertThat(at).as("stored positions").isEqualTo(end);
            });
  }
}
