package io.tandem.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a scale run measured, computed from the workers' files ({@link ScaleLog}). Pure: no I/O.
 *
 * @param commits commits seen in every file
 * @param p50Ms commit latency, median, in milliseconds
 * @param p99Ms commit latency, 99th percentile, in milliseconds
 * @param firstCommit time of the first commit (epoch ms)
 * @param lastCommit time of the last commit (epoch ms)
 * @param recordsPerSecond every group's records over first to last commit
 * @param groupRates each group's records over its own first to last commit, per group number
 * @param takeover per partition of the killed member: kill to first commit by the new owner (ms)
 * @param assignment per partition of the killed member: kill to its assignment to another member
 * @param orphans partitions of the killed member that no other member committed after the kill
 * @param heap per JVM: heap after GC from its first commit on, first/last/max in bytes
 * @param conflicts offset conflicts over all JVMs (last counters each JVM wrote)
 * @param retries store retries over all JVMs (last counters each JVM wrote)
 */
record ScaleAnalysis(
    long commits,
    double p50Ms,
    double p99Ms,
    long firstCommit,
    long lastCommit,
    double recordsPerSecond,
    Map<Integer, Double> groupRates,
    long[] takeover,
    long[] assignment,
    int orphans,
    Map<String, long[]> heap,
    long conflicts,
    long retries) {

  /**
   * Analyses one run.
   *
   * @param jvms each worker's events by its name, in start order
   * @param killed the killed JVM's name, or null when none was killed
   * @param killTime when it was killed (epoch ms)
   * @param recordsPerGroup records each group consumes
   * @return the figures
   */
  static ScaleAnalysis of(
      Map<String, ScaleLog.Parsed> jvms, String killed, long killTime, long recordsPerGroup) {
    long n = 0;
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    Map<Integer, long[]> span = new HashMap<>();
    for (ScaleLog.Parsed p : jvms.values()) {
      n += p.commits().size();
    }
    long[] latencies = new long[(int) n];
    int i = 0;
    for (ScaleLog.Parsed p : jvms.values()) {
      for (ScaleLog.Commit c : p.commits()) {
        latencies[i++] = c.latencyMicros();
        first = Math.min(first, c.time());
        last = Math.max(last, c.time());
        long[] s = span.computeIfAbsent(c.group(), g -> new long[] {Long.MAX_VALUE, 0});
        s[0] = Math.min(s[0], c.time());
        s[1] = Math.max(s[1], c.time());
      }
    }
    Map<Integer, Double> rates = new java.util.TreeMap<>();
    span.forEach((g, s) -> rates.put(g, rate(recordsPerGroup, s[1] - s[0])));
    double total = n == 0 ? Double.NaN : rate(recordsPerGroup * span.size(), last - first);

    List<Long> takeover = new ArrayList<>();
    List<Long> assignment = new ArrayList<>();
    int orphans = 0;
    if (killed != null && jvms.containsKey(killed)) {
      // One pass over the survivors' events: the first commit and the first assignment of each
      // (group, partition) at or after the kill.
      Map<Long, Long> commitAfter = new HashMap<>();
      Map<Long, Long> assignedAfter = new HashMap<>();
      for (Map.Entry<String, ScaleLog.Parsed> j : jvms.entrySet()) {
        if (j.getKey().equals(killed)) {
          continue;
        }
        for (ScaleLog.Commit c : j.getValue().commits()) {
          if (c.time() >= killTime) {
            for (int p : c.partitions()) {
              commitAfter.merge(key(c.group(), p), c.time(), Math::min);
            }
          }
        }
        for (ScaleLog.Owns o : j.getValue().owns()) {
          if (o.time() >= killTime) {
            for (int p : o.partitions()) {
              assignedAfter.merge(key(o.group(), p), o.time(), Math::min);
            }
          }
        }
      }
      for (Map.Entry<Integer, Set<Integer>> e :
          ownedAt(jvms.get(killed).owns(), killTime).entrySet()) {
        for (int p : e.getValue()) {
          Long commit = commitAfter.get(key(e.getKey(), p));
          Long assigned = assignedAfter.get(key(e.getKey(), p));
          if (commit == null) {
            orphans++;
          } else {
            takeover.add(commit - killTime);
          }
          if (assigned != null) {
            assignment.add(assigned - killTime);
          }
        }
      }
    }

    Map<String, long[]> heap = new LinkedHashMap<>();
    long conflicts = 0;
    long retries = 0;
    for (Map.Entry<String, ScaleLog.Parsed> j : jvms.entrySet()) {
      // From the JVM's first commit on: before it the consumers have not joined or fetched yet,
      // and the heap is the empty JVM's, not the run's working set.
      long since = j.getValue().commits().stream().mapToLong(ScaleLog.Commit::time).min().orElse(0);
      List<ScaleLog.Heap> h = j.getValue().heap().stream().filter(x -> x.time() >= since).toList();
      if (!h.isEmpty()) {
        long max = h.stream().mapToLong(ScaleLog.Heap::bytes).max().orElse(0);
        heap.put(j.getKey(), new long[] {h.get(0).bytes(), h.get(h.size() - 1).bytes(), max});
      }
      List<ScaleLog.Stats> s = j.getValue().stats();
      if (!s.isEmpty()) {
        conflicts += s.get(s.size() - 1).conflicts();
        retries += s.get(s.size() - 1).retries();
      }
    }
    return new ScaleAnalysis(
        n,
        percentileMillis(latencies, 50) / 1000.0,
        percentileMillis(latencies, 99) / 1000.0,
        first,
        last,
        total,
        rates,
        takeover.stream().mapToLong(Long::longValue).sorted().toArray(),
        assignment.stream().mapToLong(Long::longValue).sorted().toArray(),
        orphans,
        heap,
        conflicts,
        retries);
  }

  private static double percentileMillis(long[] micros, double p) {
    return micros.length == 0 ? Double.NaN : Latencies.percentile(micros.clone(), p);
  }

  private static double rate(long records, long millis) {
    return millis <= 0 ? Double.NaN : records * 1000.0 / millis;
  }

  private static long key(int group, int partition) {
    return ((long) group << 32) | (partition & 0xffffffffL);
  }

  /** The assignment in each group as of {@code time}: the last {@code O} line at or before it. */
  static Map<Integer, Set<Integer>> ownedAt(List<ScaleLog.Owns> owns, long time) {
    Map<Integer, Set<Integer>> out = new java.util.TreeMap<>();
    for (ScaleLog.Owns o : owns) {
      if (o.time() <= time) {
        out.put(o.group(), o.partitions());
      }
    }
    out.values().removeIf(Set::isEmpty);
    return out;
  }

  /** Percentile (nearest rank) of sorted or unsorted values; NaN when empty. */
  static double percentile(long[] values, double p) {
    return values.length == 0 ? Double.NaN : Latencies.percentile(values.clone(), p);
  }

  /** Median, min and max of the per-group rates: {min, median, max}. */
  double[] groupRateSpread() {
    double[] r = groupRates.values().stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (r.length == 0) {
      return new double[] {Double.NaN, Double.NaN, Double.NaN};
    }
    return new double[] {r[0], r[r.length / 2], r[r.length - 1]};
  }
}
