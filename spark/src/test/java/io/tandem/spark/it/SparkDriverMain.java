package io.tandem.spark.it;

import io.tandem.redis.RedisTransaction;
import io.tandem.spark.BatchProcessor;
import io.tandem.spark.CommitReport;
import io.tandem.spark.PartitionProcessor;
import io.tandem.spark.Reset;
import io.tandem.spark.StoreSpec;
import io.tandem.spark.TandemDirectStream;
import io.tandem.spark.TandemForeachBatch;
import io.tandem.spark.internal.KafkaPositions;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.ForkChannel;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.streaming.Durations;
import org.apache.spark.streaming.api.java.JavaInputDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;

/**
 * A Spark driver the crash tests kill: a DStream job (per-partition commits) or a Structured
 * Streaming job (foreachBatch), in local mode, on the test's broker and store, until killed.
 * Arguments are {@code key=value}: {@code mode} (dstream, sstream), {@code store} (jdbc, redis),
 * {@code uri}, {@code user}, {@code password}, {@code group}, {@code topic}, {@code checkpoint} (a
 * directory, or {@code none} for a DStream without checkpoint), {@code bootstrap}, {@code pauseMs}
 * (a pause inside the commit's transaction, after the results are written: a kill lands there),
 * {@code subscribe} (true: the DStream subscribes instead of assigning), {@code starting} (store,
 * the default, or earliest: Structured Streaming's startingOffsets). Events on standard output:
 * {@code writing} (results written, transaction open), {@code committed} (a batch's commit
 * returned).
 */
@SuppressWarnings("deprecation") // DStreams
public final class SparkDriverMain {

  private SparkDriverMain() {}

  public static void main(String[] argv) throws Exception {
    channel = ForkChannel.open(command -> {});
    Map<String, String> args = new HashMap<>();
    for (String a : argv) {
      int eq = a.indexOf('=');
      args.put(a.substring(0, eq), a.substring(eq + 1));
    }
    long pauseMs = Long.parseLong(args.getOrDefault("pauseMs", "100"));
    if (args.get("store").equals("jdbc")) {
      StoreSpec<Connection> store =
          StoreSpec.of(
              args.get("uri"),
              Map.of("user", args.get("user"), "password", args.get("password")),
              Connection.class);
      JdbcResults results = new JdbcResults(args.get("group"));
      if (args.get("mode").equals("dstream")) {
        PartitionProcessor<ConsumerRecord<String, String>, Connection> job =
            records -> {
              List<JdbcResults.Seen> rows = new ArrayList<>();
              records.forEachRemaining(r -> rows.add(JdbcResults.seen(r)));
              return announced(results.writer(rows), pauseMs);
            };
        dstream(args, store, job);
      } else {
        sstream(args, store, announced(results.perBatch(), pauseMs));
      }
    } else {
      StoreSpec<RedisTransaction> store =
          StoreSpec.of(args.get("uri"), Map.of(), RedisTransaction.class);
      RedisResults results = new RedisResults(args.get("group"), args.get("group"));
      sstream(args, store, announced(results.perBatch(), pauseMs));
    }
  }

  private static final Map<String, AtomicLong> COUNTS = new ConcurrentHashMap<>();
  private static volatile ForkChannel channel;

  /** Counts an event and reports every counter to the test ({@code stats writing=3 ...}). */
  static void event(String event) {
    String key = event.split(" ")[0];
    COUNTS.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
    StringBuilder stats = new StringBuilder("stats");
    COUNTS.forEach((k, v) -> stats.append(' ').append(k).append('=').append(v.get()));
    channel.event(stats.toString());
  }

  static <T> ResultWriter<T> announced(ResultWriter<T> writer, long pauseMs) {
    return handle -> {
      writer.write(handle);
      event("writing");
      TimeUnit.MILLISECONDS.sleep(pauseMs);
    };
  }

  static <T> BatchProcessor<Dataset<Row>, T> announced(
      BatchProcessor<Dataset<Row>, T> job, long pauseMs) {
    return batch -> announced(job.process(batch), pauseMs);
  }

  static Map<String, Object> kafkaParams(Map<String, String> args) {
    Map<String, Object> p = new HashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    return p;
  }

  private static SparkConf conf() {
    return new SparkConf()
        .setMaster("local[2]")
        .setAppName("tandem-spark-crash")
        .set("spark.ui.enabled", "false")
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.sql.shuffle.partitions", "2")
        .set("spark.streaming.kafka.maxRatePerPartition", "300");
  }

  private static <T> void dstream(
      Map<String, String> args,
      StoreSpec<T> store,
      PartitionProcessor<ConsumerRecord<String, String>, T> job)
      throws Exception {
    String group = args.get("group");
    String topic = args.get("topic");
    String checkpoint = args.get("checkpoint");
    Map<String, Object> kafka = kafkaParams(args);
    org.apache.spark.api.java.function.Function0<JavaStreamingContext> create =
        () -> {
          JavaStreamingContext ssc =
              new JavaStreamingContext(new JavaSparkContext(conf()), Durations.seconds(1));
          if (!checkpoint.equals("none")) {
            ssc.checkpoint(checkpoint);
          }
          // subscribe=true: the strategy a checkpoint recovery used to break ("No current
          // assignment for partition"); default assign.
          JavaInputDStream<ConsumerRecord<String, String>> stream =
              Boolean.parseBoolean(args.getOrDefault("subscribe", "false"))
                  ? TandemDirectStream.<String, String>subscribe(
                      ssc, store, group, List.of(topic), kafka, Reset.EARLIEST)
                  : TandemDirectStream.<String, String>assign(
                      ssc,
                      store,
                      group,
                      KafkaPositions.partitionsOf(List.of(topic), kafka),
                      kafka,
                      Reset.EARLIEST);
          stream.foreachRDD(
              rdd -> {
                CommitReport report =
                    TandemDirectStream.commitEachPartition(rdd, store, group, job);
                event(
                    "committed ranges="
                        + report.committed().size()
                        + " already="
                        + report.alreadyCommitted().size()
                        + " conflicts="
                        + report.conflicts().size());
                report.requireNoConflicts();
              });
          return ssc;
        };
    JavaStreamingContext ssc =
        checkpoint.equals("none")
            ? create.call()
            : JavaStreamingContext.getOrCreate(checkpoint, create);
    ssc.start();
    event("started");
    ssc.awaitTermination();
  }

  private static <T> void sstream(
      Map<String, String> args, StoreSpec<T> store, BatchProcessor<Dataset<Row>, T> job)
      throws Exception {
    String group = args.get("group");
    String topic = args.get("topic");
    String checkpoint = args.get("checkpoint");
    SparkSession spark = SparkSession.builder().config(conf()).getOrCreate();
    // starting=earliest: a misconfigured restart, which replays what the store holds.
    String starting =
        args.getOrDefault("starting", "store").equals("earliest")
            ? "earliest"
            : TandemForeachBatch.startingOffsets(
                store,
                group,
                List.of(topic),
                Map.of("kafka.bootstrap.servers", args.get("bootstrap")),
                Reset.EARLIEST);
    TandemForeachBatch<T> commit = TandemForeachBatch.of(store, group, checkpoint, job);
    spark
        .readStream()
        .format("kafka")
        .option("kafka.bootstrap.servers", args.get("bootstrap"))
        .option("subscribe", topic)
        .option("startingOffsets", starting)
        .option("maxOffsetsPerTrigger", 900)
        .load()
        .writeStream()
        .foreachBatch(
            (VoidFunction2<Dataset<Row>, Long>)
                (batch, id) -> {
                  commit.call(batch, id);
                  event("committed " + id);
                })
        .option("checkpointLocation", checkpoint)
        .trigger(Trigger.ProcessingTime(1, TimeUnit.SECONDS))
        .start();
    event("started");
    spark.streams().awaitAnyTermination();
  }
}
