package io.tandem.tck.memory;

import io.tandem.spi.Partition;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The "server" of {@link MemoryOffsetStore}: positions, results and counters that outlive the store
 * instances opened on it, as a real store's data outlives its connections. Lives as long as this
 * object (never on disk). Every read and write holds this object's monitor, which is what makes a
 * store's check-and-advance one atomic step.
 *
 * @since 0.1
 */
public final class MemoryDatabase {

  final Map<String, Map<Partition, Long>> offsets = new HashMap<>();
  private final Map<String, String> results = new HashMap<>();
  private final Map<String, Long> counters = new HashMap<>();

  /** An empty database. */
  public MemoryDatabase() {}

  /**
   * Every committed result.
   *
   * @return a sorted snapshot of keys and values; empty if none
   */
  public synchronized Map<String, String> results() {
    return new TreeMap<>(results);
  }

  /**
   * Every committed counter.
   *
   * @return a sorted snapshot of keys and sums; empty if none
   */
  public synchronized Map<String, Long> counters() {
    return new TreeMap<>(counters);
  }

  /** Drops every position, result and counter, as dropping a database would. */
  public synchronized void clear() {
    offsets.clear();
    results.clear();
    counters.clear();
  }

  /** A group's positions, created on demand. Caller holds the monitor. */
  Map<Partition, Long> group(String group) {
    return offsets.computeIfAbsent(group, g -> new HashMap<>());
  }

  /** Applies result writes. Caller holds the monitor or none is needed (synchronized here). */
  synchronized void apply(Map<String, String> puts, Map<String, Long> adds) {
    results.putAll(puts);
    adds.forEach((k, n) -> counters.merge(k, n, Long::sum));
  }
}
