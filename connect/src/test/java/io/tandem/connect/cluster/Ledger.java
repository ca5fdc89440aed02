package io.tandem.connect.cluster;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.testing.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * What a scenario produced and what the sink wrote: the invariant's two sides. Per partition, the
 * result rows must hold exactly the distinct source offsets below the stored position: no
 * duplicate, none at or beyond the position, none missing (an offset still readable in the log, or
 * produced and committed on a topic without compaction, below the position but without a row).
 */
final class Ledger {

  /** The outcome for one scenario, summed over partitions. */
  record Counts(
      String scenario,
      long produced,
      long rows,
      long duplicates,
      long losses,
      long beyond,
      long unexpected) {
    boolean clean() {
      return duplicates == 0 && losses == 0 && beyond == 0 && unexpected == 0;
    }

    @Override
    public String toString() {
      return String.format(
          "%s: produced %d, rows %d, duplicates %d, losses %d, beyond position %d, not produced %d",
          scenario, produced, rows, duplicates, losses, beyond, unexpected);
    }
  }

  final String topic;
  final int partitions;

  /** Offsets of records produced and committed (not aborted), per partition. */
  final Map<Integer, TreeSet<Long>> produced = new TreeMap<>();

  Ledger(String topic, int partitions) {
    this.topic = topic;
    this.partitions = partitions;
    for (int p = 0; p < partitions; p++) {
      produced.put(p, new TreeSet<>());
    }
  }

  synchronized void produced(int partition, long offset) {
    produced.get(partition).add(offset);
  }

  synchronized long producedCount() {
    return produced.values().stream().mapToLong(Set::size).sum();
  }

  /** The position a partition reaches once every produced record is written. */
  synchronized Map<Partition, Long> targets() {
    Map<Partition, Long> out = new HashMap<>();
    produced.forEach(
        (p, offsets) -> {
          if (!offsets.isEmpty()) {
            out.put(new Partition(topic, p), offsets.last() + 1);
          }
        });
    return out;
  }

  /** Waits until the store's positions reach every produced record. */
  void awaitCaughtUp(OffsetStore<?> store, String group, Duration timeout, ConnectCluster cluster)
      throws Exception {
    Map<Partition, Long> targets = targets();
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<Partition, Long> now = Map.of();
    while (System.nanoTime() < deadline) {
      now = store.positions(group, targets.keySet());
      boolean done = true;
      for (var e : targets.entrySet()) {
        Long p = now.get(e.getKey());
        if (p == null || p < e.getValue()) {
          done = false;
          break;
        }
      }
      if (done) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(250);
    }
    throw new AssertionError(
        "sink of "
            + topic
            + " did not catch up within "
            + timeout
            + ": positions "
            + new TreeMap<>(now)
            + ", targets "
            + new TreeMap<>(targets)
            + "\n"
            + cluster
                .logs()
                .lines()
                .filter(l -> l.contains("ERROR") || l.contains("Exception"))
                .limit(40)
                .reduce("", (a, b) -> a + "\n" + b));
  }

  /**
   * Checks the invariant against the table and the store.
   *
   * @param readable offsets still readable in the log per partition (read_committed), or null when
   *     the produced offsets are the truth (no compaction)
   */
  Counts verify(
      String scenario,
      OffsetStore<?> store,
      String group,
      String table,
      Map<Integer, Set<Long>> readable)
      throws SQLException {
    Map<Partition, Long> positions = store.positions(group);
    Map<Integer, List<Long>> rows = new TreeMap<>();
    try (Connection c = PostgresServer.shared().connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT kafka_partition, kafka_offset FROM " + table + " WHERE kafka_topic = ?")) {
      ps.setString(1, topic);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.computeIfAbsent(rs.getInt(1), k -> new ArrayList<>()).add(rs.getLong(2));
        }
      }
    }
    long total = 0;
    long duplicates = 0;
    long losses = 0;
    long beyond = 0;
    long unexpected = 0;
    for (int p = 0; p < partitions; p++) {
      long position = positions.getOrDefault(new Partition(topic, p), 0L);
      List<Long> written = rows.getOrDefault(p, List.of());
      total += written.size();
      TreeSet<Long> distinct = new TreeSet<>(written);
      duplicates += written.size() - distinct.size();
      beyond += distinct.tailSet(position, true).size();
      TreeSet<Long> mine;
      synchronized (this) {
        mine = new TreeSet<>(produced.get(p));
      }
      for (long o : distinct) {
        if (!mine.contains(o)) {
          unexpected++;
        }
      }
      Set<Long> truth = readable == null ? mine : readable.getOrDefault(p, Set.of());
      for (long o : truth) {
        if (o < position && !distinct.contains(o)) {
          losses++;
        }
      }
    }
    return new Counts(scenario, producedCount(), total, duplicates, losses, beyond, unexpected);
  }
}
