package io.tandem.connect.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.connect.bench.PlainJdbcSinkConnector;
import io.tandem.testing.PostgresServer;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Throughput on the real Connect cluster, in one run: the Tandem JDBC sink against Connect's plain
 * at-least-once pattern (the same INSERTs per {@code put}, offsets left to Connect), both reading
 * the same pre-filled 6-partition topic with 3 tasks into PostgreSQL. A warm-up round, then
 * alternating rounds; rate = records / (last row − first row). Opt-in ({@code -Dtandem.bench=true},
 * size {@code -Dtandem.connect.bench.records}); reports, never asserts, speed.
 */
@EnabledIfSystemProperty(named = "tandem.bench", matches = "true")
class ConnectClusterThroughputIT extends ConnectClusterScenarios {

  static final int BENCH_RECORDS = Integer.getInteger("tandem.connect.bench.records", 120_000);
  static final int BENCH_ROUNDS = Integer.getInteger("tandem.connect.bench.rounds", 3);

  @Override
  Map<String, String> workerProperties() {
    return Map.of("connect.protocol", "sessioned");
  }

  @Override
  String label() {
    return "bench";
  }

  /** The build's plugin folder plus a plugin holding the plain connector and its driver. */
  @Override
  Path plugins() throws Exception {
    Path root = Path.of("target", "plugin-bench").toAbsolutePath();
    Path tandem = root.resolve("tandem-connect");
    Path plain = root.resolve("plain-bench");
    Files.createDirectories(tandem);
    Files.createDirectories(plain);
    Path built = ConnectCluster.pluginPath().resolve("tandem-connect");
    try (Stream<Path> jars = Files.list(built)) {
      for (Path jar : jars.toList()) {
        Files.copy(
            jar,
            tandem.resolve(jar.getFileName()),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        if (jar.getFileName().toString().startsWith("postgresql-")) {
          Files.copy(
              jar,
              plain.resolve(jar.getFileName()),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    Path classes =
        Path.of(
            PlainJdbcSinkConnector.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
    Path pkg = classes.resolve("io/tandem/connect/bench");
    try (OutputStream out = Files.newOutputStream(plain.resolve("plain-bench.jar"));
        JarOutputStream jar = new JarOutputStream(out);
        Stream<Path> files = Files.list(pkg)) {
      for (Path f : files.toList()) {
        jar.putNextEntry(new JarEntry("io/tandem/connect/bench/" + f.getFileName()));
        jar.write(Files.readAllBytes(f));
        jar.closeEntry();
      }
      jar.putNextEntry(
          new JarEntry("META-INF/services/org.apache.kafka.connect.sink.SinkConnector"));
      jar.write((PlainJdbcSinkConnector.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
    }
    return root;
  }

  @Test
  void tandemSinkAgainstPlainAtLeastOnceOnTheCluster() throws Exception {
    Run source = new Run("src", Map.of());
    for (int i = 0; i < BENCH_RECORDS; i += 20_000) {
      source.produce(Math.min(20_000, BENCH_RECORDS - i));
    }
    List<Double> tandem = new ArrayList<>();
    List<Double> plain = new ArrayList<>();
    for (int round = 0; round <= BENCH_ROUNDS; round++) {
      double t = measure(source, round, true);
      double p = measure(source, round, false);
      if (round > 0) {
        tandem.add(t);
        plain.add(p);
      }
    }
    double t = median(tandem);
    double p = median(plain);
    String line =
        String.format(
            "Connect cluster, %d records, 6 partitions, 3 tasks, PostgreSQL: Tandem %.0f rec/s,"
                + " plain at-least-once %.0f rec/s, ratio %.3f (rounds: Tandem %s, plain %s)",
            BENCH_RECORDS, t, p, t / p, tandem, plain);
    report.add(line);
    log.info(line);
    assertThat(t).isPositive();
  }

  private double measure(Run source, int round, boolean exactlyOnce) throws Exception {
    String name =
        (exactlyOnce ? "tandem" : "plain") + "-" + round + "-" + System.nanoTime() % 100000;
    String table = "bench_" + name.replace('-', '_');
    try (Connection c = PostgresServer.shared().connect();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE "
              + table
              + " (kafka_topic VARCHAR(255) NOT NULL, kafka_partition INT NOT NULL,"
              + " kafka_offset BIGINT NOT NULL, id BIGINT, payload VARCHAR(200))");
    }
    Map<String, String> config = source.connectorConfig();
    config.put("table", table);
    if (!exactlyOnce) {
      config.put("connector.class", PlainJdbcSinkConnector.class.getName());
    }
    cluster.putConnector(name, config);
    long first = 0;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    long rows = 0;
    try (Connection c = PostgresServer.shared().connect();
        Statement s = c.createStatement()) {
      while (rows < BENCH_RECORDS && System.nanoTime() < deadline) {
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
          rs.next();
          rows = rs.getLong(1);
        }
        if (rows > 0 && first == 0) {
          first = System.nanoTime();
        }
        TimeUnit.MILLISECONDS.sleep(50);
      }
    }
    long last = System.nanoTime();
    cluster.deleteConnector(name);
    assertThat(rows).as(name + " rows").isGreaterThanOrEqualTo(BENCH_RECORDS);
    TimeUnit.SECONDS.sleep(2);
    return Math.round(BENCH_RECORDS / ((last - first) / 1e9));
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }
}
