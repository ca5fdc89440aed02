package io.tandem.connect;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.connect.internal.LogOffsets;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.testing.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDBC sink's write path against Connect's plain at-least-once pattern, in one run on one
 * PostgreSQL: the same records, the same rows (the same {@link JdbcRecordWriter}), the same batches
 * of a Connect {@code put}. Tandem commits each put's rows and ranges in one transaction (with the
 * range check); the plain pattern commits the rows and leaves offsets to Connect (whose
 * asynchronous Kafka commit is left out, in its favour). Alternating rounds; the median of each. A
 * warm-up round first, then alternating rounds. Opt-in ({@code -Dtandem.bench=true}); it reports,
 * never asserts, speed.
 */
@EnabledIfSystemProperty(named = "tandem.bench", matches = "true")
class ConnectThroughputIT {

  private static final Logger log = LoggerFactory.getLogger(ConnectThroughputIT.class);
  static final int RECORDS = Integer.getInteger("tandem.connect.bench.records", 60_000);
  static final int PUT = 500;
  static final int PARTITIONS = 6;
  static final int ROUNDS = Integer.getInteger("tandem.connect.bench.rounds", 4);
  static final long RUN = System.currentTimeMillis() % 1_000_000;

  @Test
  void tandemAgainstPlainAtLeastOnce() throws Exception {
    PostgresServer pg = PostgresServer.shared();
    List<List<SinkRecord>> puts = new ArrayList<>();
    for (int i = 0; i < RECORDS; i += PUT) {
      List<SinkRecord> batch = new ArrayList<>();
      for (int j = i; j < Math.min(RECORDS, i + PUT); j++) {
        Map<String, Object> value = Map.of("id", (long) j, "payload", "p-" + j);
        batch.add(new SinkRecord("bench", j % PARTITIONS, null, null, null, value, j / PARTITIONS));
      }
      puts.add(batch);
    }
    List<Double> tandem = new ArrayList<>();
    List<Double> plain = new ArrayList<>();
    // Round 0 warms the JIT and the server up for both; it is not counted.
    for (int round = 0; round <= ROUNDS; round++) {
      double t = runTandem(pg, puts, round);
      double p = runPlain(pg, puts, round);
      if (round > 0) {
        tandem.add(t);
        plain.add(p);
      }
    }
    double t = median(tandem);
    double p = median(plain);
    log.info(
        "Connect JDBC sink, {} records, puts of {}: Tandem {} rec/s, plain at-least-once {} rec/s,"
            + " ratio {} (rounds: Tandem {}, plain {})",
        RECORDS,
        PUT,
        Math.round(t),
        Math.round(p),
        String.format("%.3f", t / p),
        tandem,
        plain);
    assertThat(t).isPositive();
  }

  private static String table(Connection c, String name) throws Exception {
    try (Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + name);
      s.execute(
          "CREATE TABLE "
              + name
              + " (kafka_topic VARCHAR(255), kafka_partition INT, kafka_offset BIGINT, id BIGINT,"
              + " payload VARCHAR(200))");
    }
    return name;
  }

  private static Map<String, String> props(PostgresServer pg, String table) {
    Map<String, String> p = new HashMap<>();
    p.put("name", table);
    p.put(TandemSinkConfig.STORE_URI, pg.jdbcUrl());
    p.put("tandem.store.user", pg.user());
    p.put("tandem.store.password", pg.password());
    p.put(TandemSinkConfig.KAFKA_BOOTSTRAP, "unused:9092");
    p.put(JdbcSinkConfig.TABLE, table);
    p.put(JdbcSinkConfig.KAFKA_COLUMNS, "kafka_topic,kafka_partition,kafka_offset");
    p.put(JdbcSinkConfig.FIELDS, "id,payload");
    return p;
  }

  private double runTandem(PostgresServer pg, List<List<SinkRecord>> puts, int round)
      throws Exception {
    String table;
    try (Connection c = pg.connect()) {
      table = table(c, "bench_tandem_" + RUN + "_" + round);
    }
    Map<String, String> props = props(pg, table);
    OffsetStore<Connection> store =
        OffsetStores.open(
            pg.jdbcUrl(), Map.of("user", pg.user(), "password", pg.password()), Connection.class);
    TandemJdbcSinkTask task = new TandemJdbcSinkTask();
    task.initialize(new TandemSinkTaskTest.Context());
    task.init(new TandemSinkConfig(props), store, new NoGaps());
    task.configure(props);
    List<TopicPartition> tps = new ArrayList<>();
    for (int p = 0; p < PARTITIONS; p++) {
      tps.add(new TopicPartition("bench", p));
    }
    task.open(tps);
    long start = System.nanoTime();
    for (List<SinkRecord> put : puts) {
      task.put(put);
    }
    task.preCommit(Map.of());
    double rate = RECORDS / ((System.nanoTime() - start) / 1e9);
    task.stop();
    check(pg, table);
    return Math.round(rate);
  }

  private double runPlain(PostgresServer pg, List<List<SinkRecord>> puts, int round)
      throws Exception {
    String table;
    try (Connection c = pg.connect()) {
      table = table(c, "bench_plain_" + RUN + "_" + round);
    }
    JdbcRecordWriter writer = new JdbcRecordWriter(new JdbcSinkConfig(props(pg, table)));
    long start = System.nanoTime();
    try (Connection c = pg.connect()) {
      c.setAutoCommit(false);
      for (List<SinkRecord> put : puts) {
        writer.write(c, put);
        c.commit();
      }
    }
    double rate = RECORDS / ((System.nanoTime() - start) / 1e9);
    check(pg, table);
    return Math.round(rate);
  }

  private static void check(PostgresServer pg, String table) throws Exception {
    try (Connection c = pg.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(RECORDS);
    }
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }

  /** Consecutive offsets: no gap, so the log start is never asked. */
  static final class NoGaps implements LogOffsets {
    @Override
    public Map<TopicPartition, Long> earliest(Collection<TopicPartition> partitions) {
      Map<TopicPartition, Long> out = new HashMap<>();
      partitions.forEach(tp -> out.put(tp, 0L));
      return out;
    }

    @Override
    public Map<TopicPartition, Long> committed(String group, Collection<TopicPartition> ps) {
      return Map.of();
    }

    @Override
    public void close() {}
  }
}
