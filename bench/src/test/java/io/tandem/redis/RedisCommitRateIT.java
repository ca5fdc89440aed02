package io.tandem.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.RedisServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Measures commits per second (in the store's package: it reads the store's package-private
 * WATCH-retry counter); never asserts a speed. Run with {@code mvn -B -pl bench -am verify
 * -Dtandem.bench=true -Dit.test=RedisCommitRateIT}; the table goes to standard error and {@code
 * target/redis-commit-rate.md}.
 */
@EnabledIfSystemProperty(named = "tandem.bench", matches = "true")
class RedisCommitRateIT {

  private static final long WARMUP_MS = 1000;
  private static final long MEASURE_MS = Long.getLong("tandem.bench.millis", 3000);

  @Test
  @SuppressWarnings("SystemOut")
  void measureCommitRate() throws Exception {
    StringBuilder table = new StringBuilder();
    table.append(
        "| appendfsync | threads | group | partitions/commit | results/commit | commits/s |"
            + " ranges/s | retries |\n");
    table.append("|---|---|---|---|---|---|---|---|\n");
    for (String fsync : List.of("always", "everysec")) {
      try (RedisServer server = RedisServer.startPrivate(fsync);
          RedisOffsetStore store =
              RedisOffsetStore.open(RedisStoreConfig.fromUri(server.uri(), Map.of()))) {
        run(store, 1, 1, 0, false); // warm-up: JIT and connections
        for (int threads : List.of(1, 4)) {
          // "shared": every thread is a consumer of one group, owning its own partitions.
          for (boolean shared : threads == 1 ? List.of(false) : List.of(false, true)) {
            for (int partitions : List.of(1, 100)) {
              for (int results : List.of(0, 5)) {
                long retriesBefore = store.watchRetries();
                double rate = run(store, threads, partitions, results, shared);
                table.append(
                    String.format(
                        "| %s | %d | %s | %d | %d | %.0f | %.0f | %d |%n",
                        fsync,
                        threads,
                        shared ? "shared" : "own",
                        partitions,
                        results,
                        rate,
                        rate * partitions,
                        store.watchRetries() - retriesBefore));
              }
            }
          }
        }
        table.append("<!-- ").append(store.capabilities().description()).append(" -->\n");
      }
    }
    System.err.println(table);
    Files.writeString(
        Path.of("target", "redis-commit-rate.md"), table.toString(), StandardCharsets.UTF_8);
  }

  /**
   * Each thread commits contiguous batches of its own partitions, as one consumer would: on its own
   * group, or ({@code shared}) all threads on one group.
   */
  private static double run(
      RedisOffsetStore store, int threads, int partitions, int results, boolean shared)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    String sharedGroup = unique("bench");
    try {
      List<Future<long[]>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String group = shared ? sharedGroup : unique("bench");
        int first = shared ? t * partitions : 0;
        futures.add(pool.submit(() -> loop(store, group, first, partitions, results)));
      }
      long commits = 0;
      long nanos = 0;
      for (Future<long[]> f : futures) {
        long[] r = f.get(5, TimeUnit.MINUTES);
        commits += r[0];
        nanos = Math.max(nanos, r[1]);
      }
      return commits / (nanos / 1e9);
    } finally {
      pool.shutdownNow();
    }
  }

  private static long[] loop(
      RedisOffsetStore store, String group, int first, int partitions, int results) {
    String ns = unique("benchres");
    List<Partition> ps = new ArrayList<>();
    Map<Partition, Long> starts = new HashMap<>();
    for (int i = 0; i < partitions; i++) {
      ps.add(Partition.of("orders", first + i));
      starts.put(ps.get(i), 0L);
    }
    store.initialize(group, starts);
    ResultWriter<RedisTransaction> writer =
        results == 0
            ? ResultWriter.none()
            : tx -> {
              for (int i = 0; i < results; i++) {
                if (i % 2 == 0) {
                  tx.commands().hset(ns + ":h", "k" + i, "v" + i);
                } else {
                  tx.commands().incrBy(ns + ":c" + i, 1);
                }
              }
            };
    long position = 0;
    long start = System.nanoTime();
    long measureFrom = start + WARMUP_MS * 1_000_000;
    long end = measureFrom + MEASURE_MS * 1_000_000;
    long counted = 0;
    long now;
    while ((now = System.nanoTime()) < end) {
      List<OffsetRange> ranges = new ArrayList<>(partitions);
      for (Partition p : ps) {
        ranges.add(new OffsetRange(p, position, position + 10));
      }
      store.commit(group, ranges, writer);
      position += 10;
      if (now >= measureFrom) {
        counted++;
      }
    }
    assertThat(store.positions(group, List.of(ps.get(0)))).containsValue(position);
    return new long[] {counted, MEASURE_MS * 1_000_000};
  }

  private static String unique(String prefix) {
    return prefix + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
  }
}
