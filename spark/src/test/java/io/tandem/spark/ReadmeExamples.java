package io.tandem.spark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.streaming.Durations;
import org.apache.spark.streaming.api.java.JavaInputDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;

/**
 * The README's "Spark" examples, word for word: compiled with the tests, so the README cannot drift
 * from the API. (The ITs run the same calls against real servers.)
 */
@SuppressWarnings({"deprecation", "unused"})
final class ReadmeExamples {

  private ReadmeExamples() {}

  static void directStream(SparkConf sparkConf, String pw) throws Exception {
    StoreSpec<Connection> store =
        StoreSpec.of(
            "jdbc:postgresql://db:5432/app",
            Map.of("user", "app", "password", pw),
            Connection.class);
    Map<String, Object> kafkaParams =
        Map.of(
            "bootstrap.servers", "kafka:9092",
            "key.deserializer", StringDeserializer.class,
            "value.deserializer", StringDeserializer.class);
    JavaStreamingContext ssc = new JavaStreamingContext(sparkConf, Durations.seconds(5));
    JavaInputDStream<ConsumerRecord<String, String>> stream =
        TandemDirectStream.subscribe(
            ssc, store, "orders", List.of("orders"), kafkaParams, Reset.EARLIEST);
    stream.foreachRDD(
        rdd ->
            TandemDirectStream.commitEachPartition(
                    rdd,
                    store,
                    "orders",
                    records -> {
                      List<String> values = new ArrayList<>();
                      records.forEachRemaining(
                          r -> values.add(r.value())); // compute on the executor
                      return connection -> { // inside the store's transaction
                        try (PreparedStatement ps =
                            connection.prepareStatement("INSERT INTO orders_seen (v) VALUES (?)")) {
                          for (String v : values) {
                            ps.setString(1, v);
                            ps.addBatch();
                          }
                          ps.executeBatch();
                        }
                      };
                    })
                .requireNoConflicts());
    ssc.start();
    ssc.awaitTermination();
  }

  static void structuredStreaming(SparkSession spark, StoreSpec<Connection> store)
      throws Exception {
    String checkpoint = "/data/checkpoints/orders";
    Dataset<Row> kafka =
        spark
            .readStream()
            .format("kafka")
            .option("kafka.bootstrap.servers", "kafka:9092")
            .option("subscribe", "orders")
            .option(
                "startingOffsets",
                TandemForeachBatch.startingOffsets(
                    store,
                    "orders",
                    List.of("orders"),
                    Map.of("kafka.bootstrap.servers", "kafka:9092"),
                    Reset.EARLIEST))
            .load();
    kafka
        .writeStream()
        .foreachBatch(
            TandemForeachBatch.of(
                store,
                "orders",
                checkpoint,
                batch -> {
                  List<Row> counts =
                      batch.groupBy("partition").count().collectAsList(); // on the driver
                  return connection -> {
                    try (PreparedStatement ps =
                        connection.prepareStatement(
                            "INSERT INTO orders_counts (part, n) VALUES (?, ?)"
                                + " ON CONFLICT (part) DO UPDATE SET n = orders_counts.n + EXCLUDED.n")) {
                      for (Row r : counts) {
                        ps.setInt(1, r.getInt(0));
                        ps.setLong(2, r.getLong(1));
                        ps.addBatch();
                      }
                      ps.executeBatch();
                    }
                  };
                }))
        .option("checkpointLocation", checkpoint)
        .start()
        .awaitTermination();
  }
}
