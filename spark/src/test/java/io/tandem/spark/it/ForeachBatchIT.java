package io.tandem.spark.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tandem.redis.RedisTransaction;
import io.tandem.spark.BatchProcessor;
import io.tandem.spark.Reset;
import io.tandem.spark.StoreSpec;
import io.tandem.spark.TandemForeachBatch;
import io.tandem.spi.Partition;
import io.tandem.testing.RedisServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** The Structured Streaming adapter in Spark local mode, against PostgreSQL and Redis. */
class ForeachBatchIT {

  @TempDir Path tmp;

  @Test
  void keptStaleAndDeletedCheckpointsNeverDuplicateResults() throws Exception {
    String topic = Fixture.unique("ss_pg");
    String group = topic;
    StoreSpec<Connection> store = Fixture.jdbcStore();
    Fixture.kafka().createTopic(topic, 3);
    JdbcResults results = new JdbcResults(topic);
    try (Connection c = Fixture.postgres().connect()) {
      results.create(c);
    }
    Path checkpoint = tmp.resolve("checkpoint");
    BatchProcessor<Dataset<Row>, Connection> job = results.perBatch();

    // A first run from the store's (initialized) positions.
    Fixture.produce(topic, 3, 0, 1500);
    runToEnd(topic, group, store, checkpoint, fromStore(store, group, topic), job);
    check(results, store, group, topic, 1500);
    copy(checkpoint, tmp.resolve("stale"));

    // Transactional input: commit markers take offsets no record has. Ranges guessed from the
    // records would end before them, and positions would never reach the log end.
    Fixture.produceTransactional(topic, 3, 1500, 1500, 100);
    runToEnd(topic, group, store, checkpoint, fromStore(store, group, topic), job);
    check(results, store, group, topic, 3000);

    // A stale checkpoint (restored from a backup): Spark re-reads batches the store holds, cut
    // differently; only what is new is committed.
    delete(checkpoint);
    copy(tmp.resolve("stale"), checkpoint);
    Fixture.produce(topic, 3, 3000, 600);
    runToEnd(topic, group, store, checkpoint, fromStore(store, group, topic), job);
    check(results, store, group, topic, 3600);

    // A deleted checkpoint: the query starts from the store.
    delete(checkpoint);
    Fixture.produce(topic, 3, 3600, 600);
    runToEnd(topic, group, store, checkpoint, fromStore(store, group, topic), job);
    check(results, store, group, topic, 4200);

    // A deleted checkpoint and startingOffsets=earliest (a misconfigured restart): every batch is
    // one the store holds, and is skipped.
    delete(checkpoint);
    runToEnd(topic, group, store, checkpoint, "earliest", job);
    check(results, store, group, topic, 4200);
  }

  @Test
  void redisStoreCommitsEachBatchOnceAcrossAStaleCheckpoint() throws Exception {
    String topic = Fixture.unique("ss_redis");
    String group = topic;
    RedisServer redis = RedisServer.shared();
    StoreSpec<RedisTransaction> store = StoreSpec.of(redis.uri(), Map.of(), RedisTransaction.class);
    Fixture.kafka().createTopic(topic, 2);
    RedisResults results = new RedisResults(topic, group);
    Path checkpoint = tmp.resolve("checkpoint");

    Fixture.produce(topic, 2, 0, 1000);
    runToEnd(topic, group, store, checkpoint, fromStore(store, group, topic), results.perBatch());
    copy(checkpoint, tmp.resolve("stale"));
    Fixture.produce(topic, 2, 1000, 1000);
    runToEnd(topic, group, store, checkpoint, fromStore(store, group, topic), results.perBatch());
    delete(checkpoint);
    copy(tmp.resolve("stale"), checkpoint);
    Fixture.produce(topic, 2, 2000, 400);
    runToEnd(topic, group, store, checkpoint, fromStore(store, group, topic), results.perBatch());

    URI uri = URI.create(redis.uri());
    try (Jedis jedis = new Jedis(uri.getHost(), uri.getPort())) {
      results.verify(jedis, 2400);
    }
    assertPositionsAtLogEnd(store, group, topic);
  }

  /**
   * Partitions added to the topic while the query runs: Spark's offset log gives the new partition
   * an end without a start, so the batch's range is unknown. The batch fails, naming the partition,
   * and nothing of it is committed; a restart with a new checkpoint starts every partition, the new
   * one included, from the store.
   */
  @Test
  void partitionsAddedWhileTheQueryRunsFailTheBatchClearly() throws Exception {
    String topic = Fixture.unique("ss_added");
    String group = topic;
    StoreSpec<Connection> store = Fixture.jdbcStore();
    Fixture.kafka().createTopic(topic, 2);
    JdbcResults results = new JdbcResults(topic);
    try (Connection c = Fixture.postgres().connect()) {
      results.create(c);
    }
    Path checkpoint = tmp.resolve("checkpoint");
    Fixture.produce(topic, 2, 0, 400);
    StreamingQuery query =
        Fixture.spark()
            .readStream()
            .format("kafka")
            .option("kafka.bootstrap.servers", Fixture.kafka().bootstrapServers())
            .option("subscribe", topic)
            .option("startingOffsets", fromStore(store, group, topic))
            .load()
            .writeStream()
            .foreachBatch(
                TandemForeachBatch.of(store, group, checkpoint.toString(), results.perBatch()))
            .option("checkpointLocation", checkpoint.toString())
            .trigger(Trigger.ProcessingTime(200, TimeUnit.MILLISECONDS))
            .start();
    try {
      await()
          .atMost(Duration.ofMinutes(2))
          .untilAsserted(() -> assertPositionsAtLogEnd(store, group, topic));
      try (Admin admin = Fixture.kafka().admin()) {
        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get();
      }
      Fixture.produce(topic, 3, 400, 300);
      assertThatThrownBy(() -> query.awaitTermination(180_000))
          .isInstanceOf(StreamingQueryException.class)
          .hasStackTraceContaining(topic + "-2 has no start offset in batch")
          .hasStackTraceContaining("added to the topic during the query");
    } finally {
      query.stop();
    }
    try (Connection c = Fixture.postgres().connect()) {
      assertThat(results.seenCount(c)).as("nothing of the failed batch committed").isEqualTo(400);
    }

    // Restarted with a new checkpoint: every partition from the store, the new one initialized.
    delete(checkpoint);
    runToEnd(topic, group, store, checkpoint, fromStore(store, group, topic), results.perBatch());
    check(results, store, group, topic, 700);
  }

  static String fromStore(StoreSpec<?> store, String group, String topic) {
    return TandemForeachBatch.startingOffsets(
        store,
        group,
        List.of(topic),
        Map.of("kafka.bootstrap.servers", Fixture.kafka().bootstrapServers()),
        Reset.EARLIEST);
  }

  private static <T> void runToEnd(
      String topic,
      String group,
      StoreSpec<T> store,
      Path checkpoint,
      String startingOffsets,
      BatchProcessor<Dataset<Row>, T> job)
      throws Exception {
    StreamingQuery query =
        Fixture.spark()
            .readStream()
            .format("kafka")
            .option("kafka.bootstrap.servers", Fixture.kafka().bootstrapServers())
            .option("subscribe", topic)
            .option("startingOffsets", startingOffsets)
            .option("maxOffsetsPerTrigger", 400)
            .load()
            .writeStream()
            .foreachBatch(TandemForeachBatch.of(store, group, checkpoint.toString(), job))
            .option("checkpointLocation", checkpoint.toString())
            .trigger(Trigger.AvailableNow())
            .start();
    query.awaitTermination();
  }

  private static void check(
      JdbcResults results, StoreSpec<Connection> store, String group, String topic, long records)
      throws Exception {
    try (Connection c = Fixture.postgres().connect()) {
      results.verify(c, records);
    }
    assertPositionsAtLogEnd(store, group, topic);
  }

  static void assertPositionsAtLogEnd(StoreSpec<?> store, String group, String topic) {
    Map<TopicPartition, Long> at = new HashMap<>();
    for (Map.Entry<Partition, Long> e : store.store().positions(group).entrySet()) {
      at.put(new TopicPartition(e.getKey().topic(), e.getKey().partition()), e.getValue());
    }
    assertThat(at).as("stored positions").isEqualTo(Fixture.endOffsets(topic));
  }

  static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
