package io.tandem.spark.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.spark.Reset;
import io.tandem.spark.StoreSpec;
import io.tandem.spark.TandemDirectStream;
import io.tandem.spark.TandemForeachBatch;
import io.tandem.testing.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * Throughput of the same job four ways, in one run, on the same input, interleaved: DStream with
 * Tandem's per-partition commit against Spark's own at-least-once pattern (results, then {@code
 * commitAsync} of the ranges to Kafka); Structured Streaming with {@link TandemForeachBatch}
 * against the plain checkpoint-only pipeline (results written in their own transaction). Each round
 * runs the four in turn (A before B in odd rounds, B before A in even ones), every run with a new
 * group reading the whole topic. Reports records per second per run and the ratios of the means
 * (also to {@code target/spark-bench.txt}); asserts nothing about speed, only that every run's
 * results are complete. Only with {@code -Dtandem.bench=true}; sizes {@code -Dtandem.bench.records}
 * (20000), {@code -Dtandem.bench.repeat} (3).
 */
@EnabledIfSystemProperty(named = "tandem.bench", matches = "true")
@SuppressWarnings("deprecation") // DStreams
class SparkThroughputIT {

  private static final Logger log = LoggerFactory.getLogger(SparkThroughputIT.class);
  private static final int RECORDS = Integer.getInteger("tandem.bench.records", 20_000);
  private static final int REPEAT = Integer.getInteger("tandem.bench.repeat", 3);

  /** DStream batches: at most this many records per partition and second (Spark's own limit). */
  private static final String MAX_RATE = "4000";

  @TempDir Path tmp;

  @Test
  void tandemAgainstSparksOwnCommitAndCheckpointOnly() throws Exception {
    String topic = Fixture.unique("tput");
    Fixture.kafka().createTopic(topic, 3);
    Fixture.produce(topic, 3, 0, RECORDS);
    // The DStream reads spark.streaming.kafka.maxRatePerPartition from the context's conf when
    // it is built; the shared test context has none (a batch would hold the whole topic), so it
    // is set on the running context's conf (SparkContext.conf, Spark-private, public in bytecode).
    Fixture.spark()
        .sparkContext()
        .conf()
        .set("spark.streaming.kafka.maxRatePerPartition", MAX_RATE);
    // A warm-up of each kind so that the first measured run does not pay for Spark's JIT alone.
    structured(topic, "warmup_s", true);
    dstream(topic, "warmup_d", true);
    Map<String, List<Double>> rates = new LinkedHashMap<>();
    for (String v : List.of("d_tandem", "d_async", "s_tandem", "s_plain")) {
      rates.put(v, new ArrayList<>());
    }
    for (int round = 1; round <= REPEAT; round++) {
      boolean tandemFirst = round % 2 == 1;
      for (boolean tandem : new boolean[] {tandemFirst, !tandemFirst}) {
        String v = tandem ? "d_tandem" : "d_async";
        rates.get(v).add(dstream(topic, v + round, tandem));
      }
      for (boolean tandem : new boolean[] {tandemFirst, !tandemFirst}) {
        String v = tandem ? "s_tandem" : "s_plain";
        rates.get(v).add(structured(topic, v + round, tandem));
      }
      log.info("[spark-bench] after round {}: {}", round, rates);
    }
    double dTandem = mean(rates.get("d_tandem"));
    double dAsync = mean(rates.get("d_async"));
    double sTandem = mean(rates.get("s_tandem"));
    double sPlain = mean(rates.get("s_plain"));
    String report =
        String.format(
            "%d records, 3 partitions, PostgreSQL, local[2,4], %d interleaved rounds, load average"
                + " %.1f at the end%n"
                + "DStream: Tandem per-partition commit %.0f rec/s %s, Spark commitAsync"
                + " (at-least-once) %.0f rec/s %s, ratio %.2f%n"
                + "Structured Streaming: TandemForeachBatch %.0f rec/s %s, checkpoint-only %.0f"
                + " rec/s %s, ratio %.2f%n",
            RECORDS,
            REPEAT,
            java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage(),
            dTandem,
            rounded(rates.get("d_tandem")),
            dAsync,
            rounded(rates.get("d_async")),
            dTandem / dAsync,
            sTandem,
            rounded(rates.get("s_tandem")),
            sPlain,
            rounded(rates.get("s_plain")),
            sTandem / sPlain);
    log.info("[spark-bench]\n{}", report);
    Files.writeString(Path.of("target", "spark-bench.txt"), report);
  }

  private static double mean(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  private static List<Long> rounded(List<Double> xs) {
    return xs.stream().map(Math::round).toList();
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
    double rate = rate(t0);
    try (Connection c = Fixture.postgres().connect()) {
      if (tandem) {
        results.verify(c, RECORDS);
      } else {
        assertThat(results.seenCount(c))
            .as("at-least-once: every record")
            .isGreaterThanOrEqualTo(RECORDS);
      }
    }
    return rate;
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
