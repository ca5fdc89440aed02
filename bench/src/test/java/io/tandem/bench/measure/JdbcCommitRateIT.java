package io.tandem.bench.measure;

import static io.tandem.bench.measure.Measure.unique;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.bench.measure.Measure.Databases;
import io.tandem.jdbc.JdbcOffsetStore;
import io.tandem.jdbc.JdbcUpsert;
import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
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
 * Commit rate of the JDBC store, one committing thread, durability as each server is configured
 * (PostgreSQL: fsync and synchronous_commit on; H2: file with WRITE_DELAY=0; MariaDB:
 * innodb_flush_log_at_trx_commit=1). Not a test: it measures and reports, asserting only that
 * commits happened. Off by default; run with
 *
 * <pre>
 * mvn -B -pl bench -am verify -Dtandem.bench=true -Dit.test=JdbcCommitRateIT -Dtest=none \
 *     -Dsurefire.failIfNoSpecifiedTests=false [-Dtandem.bench.seconds=5]
 * </pre>
 *
 * The table goes to the log and to {@code bench/target/commit-rate.md}.
 */
@EnabledIfSystemProperty(named = "tandem.bench", matches = "true")
class JdbcCommitRateIT {

  private static final Logger log = LoggerFactory.getLogger(JdbcCommitRateIT.class);
  private static final int ROWS = 10;

  @Test
  void measureCommitRates() throws Exception {
    double seconds = Double.parseDouble(System.getProperty("tandem.bench.seconds", "5"));
    List<String> lines = new ArrayList<>();
    lines.add(
        "| database | partitions/commit | results/commit | commits/s | p50 ms | p99 ms | durable |");
    lines.add("|---|---|---|---|---|---|---|");
    for (Databases db : Databases.values()) {
      String results = unique("bench_results");
      try (Connection c = db.connect();
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE " + results + " (k VARCHAR(100) NOT NULL PRIMARY KEY, v BIGINT)");
      }
      try (JdbcOffsetStore store =
          JdbcOffsetStore.open(db.config().tableName(unique("bench_offsets")).build())) {
        Capabilities caps = store.capabilities();
        log.info("Benchmarking {}", caps.description());
        JdbcUpsert upsert = JdbcUpsert.into(results).key("k").columns("v").fold("v");
        for (int partitions : new int[] {1, 100}) {
          for (int rows : new int[] {0, ROWS}) {
            double[] r = run(store, upsert, partitions, rows, seconds);
            String line =
                String.format(
                    Locale.ROOT,
                    "| %s | %d | %s | %.0f | %.2f | %.2f | %s |",
                    db,
                    partitions,
                    rows == 0 ? "none" : rows + " upserted rows",
                    r[0],
                    r[1],
                    r[2],
                    caps.durable());
            log.info(line);
            lines.add(line);
          }
        }
      }
    }
    Path out = Path.of("target", "commit-rate.md");
    try {
      Files.write(out, lines);
    } catch (IOException e) {
      log.warn("Cannot write {}", out, e);
    }
    log.info("Commit rates:\n{}", String.join("\n", lines));
  }

  /** Returns commits per second, p50 and p99 latency in ms. */
  private static double[] run(
      JdbcOffsetStore store, JdbcUpsert upsert, int partitions, int rows, double seconds) {
    String group = unique("bench");
    String topic = unique("t");
    Map<Partition, Long> positions = new HashMap<>();
    for (int i = 0; i < partitions; i++) {
      positions.put(new Partition(topic, i), 0L);
    }
    store.initialize(group, positions);
    List<Object[]> batch = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      batch.add(new Object[] {group + "/" + i, 1L});
    }
    ResultWriter<java.sql.Connection> writer =
        rows == 0 ? ResultWriter.none() : upsert.rows(batch, row -> row);
    long warmupEnd = System.nanoTime() + 1_000_000_000L;
    long end = warmupEnd + (long) (seconds * 1e9);
    long[] latencies = new long[1 << 20];
    int n = 0;
    long measuredStart = 0;
    while (true) {
      long t0 = System.nanoTime();
      if (t0 >= end) {
        break;
      }
      List<OffsetRange> ranges = new ArrayList<>(partitions);
      for (Map.Entry<Partition, Long> e : positions.entrySet()) {
        ranges.add(new OffsetRange(e.getKey(), e.getValue(), e.getValue() + 10));
      }
      store.commit(group, ranges, writer);
      positions.replaceAll((p, v) -> v + 10);
      long t1 = System.nanoTime();
      if (t0 >= warmupEnd && n < latencies.length) {
        if (n == 0) {
          measuredStart = t0;
        }
        latencies[n++] = t1 - t0;
      }
    }
    assertThat(n).isPositive();
    double elapsed = (System.nanoTime() - measuredStart) / 1e9;
    long[] sorted = Arrays.copyOf(latencies, n);
    Arrays.sort(sorted);
    return new double[] {
      n / elapsed, sorted[n / 2] / 1e6, sorted[Math.min(n - 1, (int) (n * 0.99))] / 1e6
    };
  }
}
