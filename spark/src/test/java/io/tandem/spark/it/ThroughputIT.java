package io.tandem.spark.it;

import static org.awaitility.Awaitility.await;

import io.tandem.spark.Reset;
import io.tandem.spark.StoreSpec;
import io.tandem.spark.TandemDirectStream;
import io.tandem.spark.TandemForeachBatch;
import io.tandem.testing.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.streaming.Durations;
import org.apache.spark.streaming.api.java.JavaInputDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;
import org.apache.spark.streaming.kafka010.CanCommitOffsets;
import org.apache.spark.streaming.kafka010.ConsumerStrategies;
import org.apache.spark.streaming.kafka010.HasOffsetRanges;
import org.apache.spark.streaming.kafka010.KafkaUtils;
import org.apache.spark.streaming.kafka010.LocationStrategies;
import org.apache.spark.streaming.kafka010.OffsetRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Throughput of the same job four ways, in one run, on the same input: DStream with Tandem's
 * per-partition commit vs. Spark's own at-least-once pattern (results, then {@code commitAsync} of
 * the ranges to Kafka); Structured Streaming with {@link TandemForeachBatch} vs. the plain
 * checkpoint-only pipeline (results written in their own transaction). Reports records per second
 * and ratios; asserts nothing about speed. Off unless {@code -Dtandem.spark.throughput=true}; size
 * {@code -Dtandem.spark.throughputRecords} (default 30000).
 */
@EnabledIfSystemProperty(named = "tandem.spark.throughput", matches = "true")
@SuppressWarnings("deprecation") // DStreams
class ThroughputIT {

  private static final Logger log = LoggerFactory.getLogger(ThroughputIT.class);
  private static final int RECORDS = Integer.getInteger("tandem.spark.throughputRecords", 30000);

  @TempDir Path tmp;

  @Test
  void tandemAgainstSparksOwnCommitAndCheckpointOnly() throws Exception {
    String topic = Fixture.unique("tput");
    Fixture.kafka().createTopic(topic, 3);
    Fixture.produce(topic, 3, 0, RECORDS);
    // A warm-up so that the first measured variant does not pay for Spark's JIT alone.
    structured(topic, "warmup", false);
    double dTandem = dstream(topic, "d_tandem", true);
    double dAsync = dstream(topic, "d_async", false);
    double sTandem = structured(topic, "s_tandem", true);
    double sPlain = structured(topic, "s_plain", false);
    log.info(
        "[throughput] {} records, 3 partitions, PostgreSQL: DStream Tandem {} rec/s, DStream"
            + " commitAsync (at-least-once) {} rec/s, ratio {}; Structured Tandem {} rec/s,"
            + " checkpoint-only {} rec/s, ratio {}",
        RECORDS,
        Math.round(dTandem),
        Math.round(dAsync),
        String.format("%.2f", dTandem / dAsync),
        Math.round(sTandem),
        Math.round(sPlain),
        String.format("%.2f", sTandem / sPlain));
  }

  private double dstream(String topic, String name, boolean tandem) throws Exception {
    String group = Fixture.unique(name);
    JdbcResults results = new JdbcResults(group);
    try (Connection c = Fixture.postgres().connect()) {
      results.create(c);
    }
    StoreSpec<Connection> store = Fixture.jdbcStore();
    JavaStreamingContext ssc =
        new JavaStreamingContext(
            JavaSparkContext.fromSparkContext(Fixture.spark().sparkContext()),
            Durations.seconds(1));
    long t0;
    try {
      var job = results.perPartition();
      if (tandem) {
        JavaInputDStream<ConsumerRecord<String, String>> stream =
            TandemDirectStream.subscribe(
                ssc, store, group, List.of(topic), Fixture.kafkaParams(group), Reset.EARLIEST);
        stream.foreachRDD(
            rdd ->
                TandemDirectStream.commitEachPartition(rdd, store, group, job)
                    .requireNoConflicts());
      } else {
        JavaInputDStream<ConsumerRecord<String, String>> stream =
            KafkaUtils.createDirectStream(
                ssc,
                LocationStrategies.PreferConsistent(),
                ConsumerStrategies.<String, String>Subscribe(
                    List.of(topic), Fixture.kafkaParams(group)));
        PostgresServer pg = Fixture.postgres();
        String url = pg.jdbcUrl();
        String user = pg.user();
        String password = pg.password();
        stream.foreachRDD(
            rdd -> {
              OffsetRange[] ranges = ((HasOffsetRanges) rdd.rdd()).offsetRanges();
              rdd.foreachPartition(
                  records -> {
                    try (Connection c = DriverManager.getConnection(url, user, password)) {
                      c.setAutoCommit(false);
                      job.process(records).write(c);
                      c.commit();
                    }
                  });
              ((CanCommitOffsets) stream.inputDStream()).commitAsync(ranges);
            });
      }
      t0 = System.nanoTime();
      ssc.start();
      awaitRows(results);
    } finally {
      ssc.stop(false, true);
    }
    return rate(t0);
  }

  private double structured(String topic, String name, boolean tandem) throws Exception {
    String group = Fixture.unique(name);
    JdbcResults results = new JdbcResults(group);
    try (Connection c = Fixture.postgres().connect()) {
      results.create(c);
    }
    StoreSpec<Connection> store = Fixture.jdbcStore();
    String checkpoint = tmp.resolve(group).toString();
    VoidFunction2<Dataset<Row>, Long> sink;
    if (tandem) {
      sink = TandemForeachBatch.of(store, group, checkpoint, results.perBatch());
    } else {
      PostgresServer pg = Fixture.postgres();
      String url = pg.jdbcUrl();
      String user = pg.user();
      String password = pg.password();
      sink =
          (batch, id) -> {
            List<JdbcResults.Seen> rows = new ArrayList<>();
            for (Iterator<Row> it = batch.toLocalIterator(); it.hasNext(); ) {
              rows.add(JdbcResults.seen(it.next()));
            }
            try (Connection c = DriverManager.getConnection(url, user, password)) {
              c.setAutoCommit(false);
              results.writer(rows).write(c);
              c.commit();
            }
          };
    }
    String starting = tandem ? ForeachBatchIT.fromStore(store, group, topic) : "earliest";
    long t0 = System.nanoTime();
    StreamingQuery query =
        Fixture.spark()
            .readStream()
            .format("kafka")
            .option("kafka.bootstrap.servers", Fixture.kafka().bootstrapServers())
            .option("subscribe", topic)
            .option("startingOffsets", starting)
            .option("maxOffsetsPerTrigger", 5000)
            .load()
            .writeStream()
            .foreachBatch(sink)
            .option("checkpointLocation", checkpoint)
            .trigger(Trigger.AvailableNow())
            .start();
    query.awaitTermination();
    double rate = rate(t0);
    try (Connection c = Fixture.postgres().connect()) {
      results.verify(c, RECORDS);
    }
    return rate;
  }

  private static void awaitRows(JdbcResults results) {
    await()
        .atMost(Duration.ofMinutes(10))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              try (Connection c = Fixture.postgres().connect()) {
                return results.seenCount(c) >= RECORDS;
              }
            });
  }

  private static double rate(long t0) {
    return RECORDS / ((System.nanoTime() - t0) / 1e9);
  }
}
