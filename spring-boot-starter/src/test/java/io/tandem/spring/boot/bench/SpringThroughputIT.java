package io.tandem.spring.boot.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tandem.testing.KafkaBroker;
import io.tandem.testing.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Throughput of a Tandem {@code @KafkaListener} against a plain Spring Kafka at-least-once batch
 * listener doing the same JDBC writes, in one run, same JVM, same topic, interleaved. Only with
 * {@code -Dtandem.bench=true}; sizes {@code -Dtandem.bench.records} (20000), {@code
 * -Dtandem.bench.repeat} (3). Reports records/s of each and their ratio (also to {@code
 * target/spring-bench.txt}); never asserts speed, only that every record was applied (exactly once
 * for Tandem).
 */
class SpringThroughputIT {

  private static final Logger log = LoggerFactory.getLogger(SpringThroughputIT.class);

  @Test
  void tandemAgainstPlainAtLeastOnce(TestReporter reporter) throws Exception {
    assumeTrue(Boolean.getBoolean("tandem.bench"), "a measurement: run with -Dtandem.bench=true");
    int records = Integer.getInteger("tandem.bench.records", 20_000);
    int repeat = Integer.getInteger("tandem.bench.repeat", 3);
    KafkaBroker kafka = KafkaBroker.shared();
    PostgresServer pg = PostgresServer.shared();
    String db = pg.newDatabase("spring_bench");
    try (Connection c = DriverManager.getConnection(db, pg.user(), pg.password());
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE bench_results (run TEXT, part INT, off BIGINT, k TEXT)");
      s.execute("CREATE TABLE bench_totals (run TEXT, k TEXT, total BIGINT, PRIMARY KEY (run, k))");
    }
    String topic = "spring-bench-" + System.nanoTime();
    kafka.createTopic(topic, 4);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            new HashMap<>(kafka.producerProperties()),
            new StringSerializer(),
            new StringSerializer())) {
      Random random = new Random(1);
      for (int i = 0; i < records; i++) {
        producer.send(
            new ProducerRecord<>(
                topic, "k" + random.nextInt(100), Integer.toString(1 + random.nextInt(1000))));
      }
      producer.flush();
    }
    List<Double> tandem = new ArrayList<>();
    List<Double> plain = new ArrayList<>();
    for (int round = 0; round < repeat; round++) {
      for (boolean withTandem : new boolean[] {true, false}) {
        String run = (withTandem ? "tandem" : "plain") + round;
        double rate = measure(withTandem, run, topic, db, records);
        (withTandem ? tandem : plain).add(rate);
        log.info("[spring-bench] {}: {} records/s", run, String.format("%.0f", rate));
      }
    }
    double t = tandem.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    double p = plain.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    String summary =
        String.format(
            "records=%d partitions=4 batch<=500 repeat=%d: Tandem %.0f records/s, plain Spring Kafka"
                + " at-least-once %.0f records/s, ratio %.2f (runs: tandem %s, plain %s)",
            records, repeat, t, p, t / p, rounded(tandem), rounded(plain));
    log.info("[spring-bench] {}", summary);
    reporter.publishEntry("tandem.spring.bench", summary);
    Files.writeString(Path.of("target", "spring-bench.txt"), summary + "\n");
  }

  private static List<Long> rounded(List<Double> rates) {
    return rates.stream().map(Math::round).toList();
  }

  private static double measure(
      boolean withTandem, String run, String topic, String db, int records) throws Exception {
    PostgresServer pg = PostgresServer.shared();
    List<String> args = new ArrayList<>();
    args.add("--spring.main.banner-mode=off");
    args.add("--logging.level.root=WARN");
    args.add("--spring.kafka.bootstrap-servers=" + KafkaBroker.shared().bootstrapServers());
    args.add("--spring.kafka.consumer.group-id=" + run);
    args.add("--spring.kafka.consumer.auto-offset-reset=earliest");
    args.add("--spring.kafka.consumer.max-poll-records=500");
    args.add("--spring.kafka.listener.concurrency=2");
    args.add("--spring.datasource.url=" + db);
    args.add("--spring.datasource.username=" + pg.user());
    args.add("--spring.datasource.password=" + pg.password());
    args.add("--tandem.store.uri=" + db);
    args.add("--tandem.enabled=" + withTandem);
    args.add("--bench.topic=" + topic);
    args.add("--bench.run=" + run);
    try (ConfigurableApplicationContext app =
        SpringApplication.run(BenchApplication.class, args.toArray(String[]::new))) {
      JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
      long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
      // From the first applied record to the last: context start-up and the group's first
      // rebalance are not the listener's throughput.
      while (count(jdbc, run) == 0) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(run + " applied nothing in 10 min");
        }
        TimeUnit.MILLISECONDS.sleep(5);
      }
      long start = System.nanoTime();
      long first = count(jdbc, run);
      long done;
      while ((done = count(jdbc, run)) < records) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(run + " applied " + done + " of " + records + " in 10 min");
        }
        TimeUnit.MILLISECONDS.sleep(20);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      if (withTandem) {
        TimeUnit.MILLISECONDS.sleep(500);
        assertThat(count(jdbc, run)).as("Tandem applies each record once").isEqualTo(records);
      }
      return (records - first) / seconds;
    }
  }

  private static long count(JdbcTemplate jdbc, String run) {
    return jdbc.queryForObject("SELECT count(*) FROM bench_results WHERE run = ?", Long.class, run);
  }
}
