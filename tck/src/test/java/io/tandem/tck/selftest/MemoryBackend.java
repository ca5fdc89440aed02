package io.tandem.tck.selftest;

import io.tandem.spi.Partition;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/** The "server" of the in-memory stores: shared by every store instance of one kit class. */
final class MemoryBackend {
  final Map<String, Map<Partition, Long>> offsets;
  final Map<String, Map<String, String>> results = new HashMap<>();
  private final boolean caseInsensitive;

  MemoryBackend(boolean caseInsensitive) {
    this.caseInsensitive = caseInsensitive;
    this.offsets = caseInsensitive ? new TreeMap<>(String.CASE_INSENSITIVE_ORDER) : new HashMap<>();
  }

  /** A group's positions, created on demand; sorted by a case-blind order when so configured. */
  Map<Partition, Long> group(String group) {
    return offsets.computeIfAbsent(
        group,
        g ->
            caseInsensitive
                ? new TreeMap<>(
                    Comparator.comparing(Partition::topic, String.CASE_INSENSITIVE_ORDER)
                        .thenComparingInt(Partition::partition))
                : new HashMap<>());
  }

  private final Object rendezvous = new Object();
  private int arrived;
  private long generation;

  /**
   * Waits up to 200 ms for another caller; two callers that meet both return at once. Used by a
   * broken store to hold its check-then-write window open until a second commit is inside it.
   */
  void meetAnotherCommit() {
    synchronized (rendezvous) {
      long mine = generation;
      if (++arrived >= 2) {
        arrived = 0;
        generation++;
        rendezvous.notifyAll();
        return;
      }
      long deadline = System.nanoTime() + 200_000_000L;
      while (generation == mine) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          arrived--;
          return;
        }
        try {
          rendezvous.wait(left / 1_000_000L + 1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          arrived--;
          return;
        }
      }
    }
  }

  synchronized void putResults(String namespace, Map<String, String> entries) {
    results.computeIfAbsent(namespace, n -> new HashMap<>()).putAll(entries);
  }

  synchronized Map<String, String> readResults(String namespace) {
    return Map.copyOf(results.getOrDefault(namespace, Map.of()));
  }
}
