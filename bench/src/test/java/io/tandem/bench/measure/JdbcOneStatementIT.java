package io.tandem.bench.measure;

import static io.tandem.bench.measure.Measure.unique;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.bench.measure.Measure.Databases;
import io.tandem.jdbc.JdbcOffsetStore;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.testing.PostgresServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A commit of many positions with no results, three ways, interleaved one commit at a time so that
 * a shared machine's load falls on all three alike: (1) the store's commit, which advances every
 * position in one statement; (2) what the store did before: one JDBC batch of single-row
 * conditional {@code UPDATE}s, every count checked, then {@code COMMIT}; (3) the same positions
 * written blind (batched upsert, no condition, no check), the physical limit. PostgreSQL and
 * MariaDB. Not a test: it measures and reports, asserting only that commits happened. Run with
 *
 * <pre>
 * mvn -B -pl bench -am verify -Dtandem.bench=true -Dit.test=JdbcOneStatementIT -Dtest=none \
 *     -Dsurefire.failIfNoSpecifiedTests=false [-Dtandem.bench.seconds=20]
 * </pre>
 *
 * The table goes to the log and to {@code bench/target/one-statement.md}.
 */
@EnabledIfSystemProperty(named = "tandem.bench", matches = "true")
class JdbcOneStatementIT {

  private static final Logger log = LoggerFactory.getLogger(JdbcOneStatementIT.class);

  @Test
  void measureOneStatementAgainstBatchAndBlindWrites() throws Exception {
    double seconds = Double.parseDouble(System.getProperty("tandem.bench.seconds", "20"));
    List<String> lines = new ArrayList<>();
    lines.add(
        "| database | partitions | store commits/s | p50 ms | batch of UPDATEs/s | p50 ms | blind"
            + " writes/s | p50 ms | store / blind | batch / blind |");
    lines.add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (Databases db : List.of(Databases.POSTGRES, Databases.MARIADB)) {
      for (int partitions : new int[] {10, 100}) {
        lines.add(measure(db, partitions, seconds));
        log.info(lines.get(lines.size() - 1));
      }
    }
    String table = String.join("\n", lines) + "\n";
    log.info("\n{}", table);
    try {
      Files.createDirectories(Path.of("target"));
      Files.writeString(Path.of("target", "one-statement.md"), table);
    } catch (IOException e) {
      log.warn("could not write target/one-statement.md", e);
    }
  }

  private static String measure(Databases db, int partitions, double seconds) throws Exception {
    String offsets = unique("bench_one");
    String blindTable = unique("bench_blind");
    String group = "g";
    String topic = "t";
    try (JdbcOffsetStore store = JdbcOffsetStore.open(db.config().tableName(offsets).build());
        Connection c = connect(db)) {
      c.setAutoCommit(false);
      // The old path runs on a second group in the store's own table, so both see one table.
      String oldGroup = "old";
      Map<Partition, Long> starts = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        starts.put(new Partition(topic, p), 0L);
      }
      store.initialize(group, starts);
      store.initialize(oldGroup, starts);
      try (Statement s = c.createStatement()) {
        s.execute(
            "CREATE TABLE " + blindTable + " (p INT NOT NULL PRIMARY KEY, pos BIGINT NOT NULL)");
      }
      c.commit();
      boolean pg = db == Databases.POSTGRES;
      String conditional =
          "UPDATE "
              + offsets
              + " SET next_offset = ? WHERE group_id = ? AND topic = ? AND partition_id = ?"
              + " AND next_offset = ?";
      String blind =
          pg
              ? "INSERT INTO "
                  + blindTable
                  + " (p, pos) VALUES (?, ?) ON CONFLICT (p) DO UPDATE SET pos = EXCLUDED.pos"
              : "INSERT INTO "
                  + blindTable
                  + " (p, pos) VALUES (?, ?) ON DUPLICATE KEY UPDATE pos = VALUES(pos)";
      List<Long> storeNs = new ArrayList<>();
      List<Long> batchNs = new ArrayList<>();
      List<Long> blindNs = new ArrayList<>();
      long position = 0;
      long deadline = System.nanoTime() + (long) (seconds * 1e9);
      // A warm-up second first, not recorded.
      long warmEnd = System.nanoTime() + 1_000_000_000L;
      while (System.nanoTime() < deadline) {
        boolean record = System.nanoTime() > warmEnd;
        List<OffsetRange> ranges = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
          ranges.add(new OffsetRange(new Partition(topic, p), position, position + 1));
        }
        long t0 = System.nanoTime();
        store.commit(group, ranges, tx -> {});
        long t1 = System.nanoTime();
        batchOfUpdates(c, conditional, oldGroup, topic, partitions, position);
        long t2 = System.nanoTime();
        blindWrites(c, blind, partitions, position + 1);
        long t3 = System.nanoTime();
        if (record) {
          storeNs.add(t1 - t0);
          batchNs.add(t2 - t1);
          blindNs.add(t3 - t2);
        }
        position++;
      }
      assertThat(storeNs).isNotEmpty();
      double storeRate = rate(storeNs);
      double batchRate = rate(batchNs);
      double blindRate = rate(blindNs);
      return String.format(
          Locale.ROOT,
          "| %s | %d | %.0f | %.2f | %.0f | %.2f | %.0f | %.2f | %.2f | %.2f |",
          db,
          partitions,
          storeRate,
          p50(storeNs),
          batchRate,
          p50(batchNs),
          blindRate,
          p50(blindNs),
          storeRate / blindRate,
          batchRate / blindRate);
    }
  }

  /**
   * The store's previous advance: a JDBC batch of conditional single-row UPDATEs, counts checked.
   */
  private static void batchOfUpdates(
      Connection c, String sql, String group, String topic, int partitions, long from)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int p = 0; p < partitions; p++) {
        ps.setLong(1, from + 1);
        ps.setString(2, group);
        ps.setString(3, topic);
        ps.setInt(4, p);
        ps.setLong(5, from);
        ps.addBatch();
      }
      int[] counts = ps.executeBatch();
      for (int n : counts) {
        if (n != 1) {
          c.rollback();
          throw new IllegalStateException("update count " + n + ", expected 1");
        }
      }
    }
    c.commit();
  }

  private static void blindWrites(Connection c, String sql, int partitions, long position)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int p = 0; p < partitions; p++) {
        ps.setInt(1, p);
        ps.setLong(2, position);
        ps.addBatch();
      }
      ps.executeBatch();
    }
    c.commit();
  }

  /**
   * PostgreSQL with {@code reWriteBatchedInserts=true}, as the benchmark's plain writes: the blind
   * batch becomes one multi-row INSERT.
   */
  private static Connection connect(Databases db) throws SQLException {
    if (db != Databases.POSTGRES) {
      return db.connect();
    }
    PostgresServer pg = PostgresServer.shared();
    String url = pg.jdbcUrl();
    return DriverManager.getConnection(
        url + (url.contains("?") ? "&" : "?") + "reWriteBatchedInserts=true",
        pg.user(),
        pg.password());
  }

  /** Commits per second from the mean latency. */
  private static double rate(List<Long> ns) {
    return 1e9 / ns.stream().mapToLong(Long::longValue).average().orElse(Double.NaN);
  }

  private static double p50(List<Long> ns) {
    long[] sorted = ns.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2] / 1e6;
  }
}
