package io.tandem.bench.measure;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.tandem.cassandra.CassandraOffsetStore;
import io.tandem.cassandra.CassandraResults;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures commits per second, one thread, for 1 and 100 partitions per commit (one result row per
 * partition), against the same result writes without offsets. Opt-in like every measurement ({@code
 * mvn -B -pl bench -am verify -Dtandem.bench=true -Dit.test=CassandraCommitRateIT}): it measures,
 * it asserts no speed.
 */
@EnabledIfSystemProperty(named = "tandem.bench", matches = "true")
class CassandraCommitRateIT {

  private static final Logger log = LoggerFactory.getLogger(CassandraCommitRateIT.class);
  private static final int WARM_UP = 200;
  private static final Duration RUN = Duration.ofSeconds(Long.getLong("tandem.bench.seconds", 10));

  @Test
  void measureCommitsPerSecond() {
    try (CassandraOffsetStore store = Measure.cassandra()) {
      CqlSession s = store.session();
      PreparedStatement insert =
          s.prepare(
              "INSERT INTO "
                  + Measure.CASSANDRA_KEYSPACE
                  + ".results (namespace, key, value) VALUES (?, ?, ?)");
      List<String> lines = new ArrayList<>();
      for (int width : new int[] {1, 100}) {
        String g = Measure.unique("bench");
        String ns = Measure.unique("bench");
        Map<Partition, Long> starts = new TreeMap<>();
        for (int i = 0; i < width; i++) {
          starts.put(Partition.of("t", i), 0L);
        }
        store.initialize(g, starts);
        double offsetsOnly =
            rate(
                n -> {
                  List<OffsetRange> ranges = new ArrayList<>(width);
                  for (int i = 0; i < width; i++) {
                    ranges.add(OffsetRange.of("t", i, 1_000_000 + n, 1_000_000 + n + 1));
                  }
                  if (n == 0) {
                    Map<Partition, Long> at = new TreeMap<>();
                    starts.keySet().forEach(p -> at.put(p, 1_000_000L));
                    store.overwrite(g, at);
                  }
                  store.commit(g, ranges, ResultWriter.none());
                });
        double plain =
            rate(
                n -> {
                  // The same writes, the same way the store sends them (async, in parallel), no
                  // LWT.
                  List<CompletableFuture<?>> inFlight = new ArrayList<>(width);
                  for (int i = 0; i < width; i++) {
                    inFlight.add(
                        s.executeAsync(
                                insert
                                    .bind(ns + "p", i + "/" + n, "v")
                                    .setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM))
                            .toCompletableFuture());
                  }
                  CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).join();
                });
        double tandem =
            rate(
                n -> {
                  List<OffsetRange> ranges = new ArrayList<>(width);
                  for (int i = 0; i < width; i++) {
                    ranges.add(OffsetRange.of("t", i, 2_000_000 + n, 2_000_000 + n + 1));
                  }
                  if (n == 0) {
                    Map<Partition, Long> at = new TreeMap<>();
                    starts.keySet().forEach(p -> at.put(p, 2_000_000L));
                    store.overwrite(g, at);
                  }
                  ResultWriter<CassandraResults> w =
                      h -> {
                        for (int i = 0; i < width; i++) {
                          h.add(insert.bind(ns, i + "/" + n, "v").setIdempotent(true));
                        }
                      };
                  store.commit(g, ranges, w);
                });
        lines.add(
            String.format(
                "%3d partition(s)/commit: tandem %.1f commits/s (%.1f ms), offsets only %.1f/s"
                    + " (%.1f ms), plain inserts without offsets %.1f/s (%.1f ms)",
                width,
                tandem,
                1000 / tandem,
                offsetsOnly,
                1000 / offsetsOnly,
                plain,
                1000 / plain));
      }
      lines.forEach(l -> log.info("[measure] {}", l));
      assertThat(lines).hasSize(2);
    }
  }

  private static double rate(LongConsumer op) {
    for (long n = 0; n < WARM_UP; n++) {
      op.accept(n); // warm-up: prepare, JIT, pool, on both sides
    }
    long t0 = System.nanoTime();
    long deadline = t0 + RUN.toNanos();
    long n = WARM_UP;
    while (System.nanoTime() < deadline) {
      op.accept(n++);
    }
    return (n - WARM_UP) / ((System.nanoTime() - t0) / 1e9);
  }
}
