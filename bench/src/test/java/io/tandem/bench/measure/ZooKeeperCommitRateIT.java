package io.tandem.bench.measure;

import static io.tandem.bench.measure.Measure.unique;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.ZooKeeperTestServer;
import io.tandem.zookeeper.NodePerKey;
import io.tandem.zookeeper.ZooKeeperOffsetStore;
import io.tandem.zookeeper.ZooKeeperOps;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures commits per second and wide reads on the shared server; reports, never asserts speed
 * (only that every commit landed). Each scenario runs for {@code tandem.zk.measure.millis} (default
 * 2000) after a short warm-up. Opt-in like every measurement, so the test suite spends no time on
 * it: {@code mvn -B -pl bench -am verify -Dtandem.bench=true -Dit.test=ZooKeeperCommitRateIT}.
 */
@EnabledIfSystemProperty(named = "tandem.bench", matches = "true")
class ZooKeeperCommitRateIT {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperCommitRateIT.class);
  private static final long MILLIS = Long.getLong("tandem.zk.measure.millis", 2000);

  private static ZooKeeperOffsetStore store;

  @BeforeAll
  static void open() {
    store = ZooKeeperOffsetStore.open(Measure.zookeeper(ZooKeeperTestServer.shared()).build());
  }

  @AfterAll
  static void close() {
    store.close();
  }

  @Test
  void commitsPerSecond() {
    List<String> lines = new ArrayList<>();
    for (int partitions : new int[] {1, 100}) {
      for (int resultOps : new int[] {0, 5}) {
        lines.add(measure(partitions, resultOps));
      }
    }
    log.info(
        "ZooKeeper commit rate on {}:\n  {}",
        ZooKeeperTestServer.shared().description(),
        String.join("\n  ", lines));
  }

  private String measure(int partitions, int resultOps) {
    String group = unique("rate");
    String topic = unique("t");
    NodePerKey results = NodePerKey.under("/" + unique("rate-results"));
    Map<Partition, Long> starts = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      starts.put(Partition.of(topic, p), 0L);
    }
    store.initialize(group, starts);
    long position = 0;
    long commits = 0;
    long warmupEnd = System.nanoTime() + 300_000_000L;
    long start = 0;
    long end = Long.MAX_VALUE;
    while (System.nanoTime() < end) {
      if (start == 0 && System.nanoTime() >= warmupEnd) {
        start = System.nanoTime();
        end = start + MILLIS * 1_000_000L;
        commits = 0;
      }
      List<OffsetRange> ranges = new ArrayList<>(partitions);
      for (int p = 0; p < partitions; p++) {
        ranges.add(OffsetRange.of(topic, p, position, position + 10));
      }
      ResultWriter<ZooKeeperOps> writer = ResultWriter.none();
      if (resultOps > 0) {
        Map<String, String> entries = new HashMap<>();
        for (int k = 0; k < resultOps; k++) {
          entries.put("key-" + k, "value-" + position);
        }
        writer = results.putText(entries);
      }
      store.commit(group, ranges, writer);
      position += 10;
      commits++;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(store.positions(group).values()).containsOnly(position);
    return String.format(
        "%3d partition(s)/commit, %d result op(s): %7.1f commits/s, %8.1f partition-commits/s"
            + " (%d commits in %.1f s)",
        partitions, resultOps, commits / seconds, commits * partitions / seconds, commits, seconds);
  }

  @Test
  void wideReads() {
    String group = unique("wide");
    Map<Partition, Long> starts = new HashMap<>();
    for (int t = 0; t < 10; t++) {
      for (int p = 0; p < 1000; p++) {
        starts.put(Partition.of("topic-" + t, p), (long) p);
      }
    }
    long t0 = System.nanoTime();
    store.initialize(group, starts);
    long t1 = System.nanoTime();
    Map<Partition, Long> byList = store.positions(group, starts.keySet());
    long t2 = System.nanoTime();
    Map<Partition, Long> byGroup = store.positions(group);
    long t3 = System.nanoTime();
    assertThat(byList).isEqualTo(starts);
    assertThat(byGroup).isEqualTo(starts);
    log.info(
        "10 000 partitions: initialize {} ms, positions(list) {} ms, positions(group) {} ms",
        (t1 - t0) / 1_000_000,
        (t2 - t1) / 1_000_000,
        (t3 - t2) / 1_000_000);
    assertThat(store.delete(group)).isTrue();
  }
}
