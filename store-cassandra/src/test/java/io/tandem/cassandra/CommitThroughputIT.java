package io.tandem.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures commits per second, one thread, for 1 and 100 partitions per commit (one result row per
 * partition), against the same result writes without offsets. Opt-in ({@code
 * -Dtandem.measure=true}): it measures, it asserts no speed.
 */
class CommitThroughputIT {

  private static final Logger log = LoggerFactory.getLogger(CommitThroughputIT.class);
  private static final Duration RUN =
      Duration.ofSeconds(Long.getLong("tandem.measure.seconds", 10));

  @Test
  void measureCommitsPerSecond() {
    assumeTrue(Boolean.getBoolean("tandem.measure"), "opt-in measurement: -Dtandem.measure=true");
    try (CassandraOffsetStore store = Cassandra.store()) {
      CqlSession s = store.session();
      PreparedStatement insert =
          s.prepare(
              "INSERT INTO "
                  + Cassandra.KEYSPACE
                  + ".results (namespace, key, value) VALUES (?, ?, ?)");
      List<String> lines = new ArrayList<>();
      for (int width : new int[] {1, 100}) {
        String g = Cassandra.unique("bench");
        String ns = Cassandra.unique("bench");
        Map<Partition, Long> starts = new TreeMap<>();
        for (int i = 0; i < width; i++) {
          starts.put(Partition.of("t", i), 0L);
        }
        store.initialize(g, starts);
        double tandem =
            rate(
                n -> {
                  List<OffsetRange> ranges = new ArrayList<>(width);
                  for (int i = 0; i < width; i++) {
                    ranges.add(OffsetRange.of("t", i, n, n + 1));
                  }
                  ResultWriter<CassandraResults> w =
                      h -> {
                        for (int i = 0; i < width; i++) {
                          h.add(insert.bind(ns, i + "/" + n, "v").setIdempotent(true));
                        }
                      };
                  store.commit(g, ranges, w);
                });
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
    for (long n = 0; n < 20; n++) {
      op.accept(n); // warm-up: prepare, JIT, pool
    }
    long t0 = System.nanoTime();
    long deadline = t0 + RUN.toNanos();
    long n = 20;
    while (System.nanoTime() < deadline) {
      op.accept(n++);
    }
    return (n - 20) / ((System.nanoTime() - t0) / 1e9);
  }
}
