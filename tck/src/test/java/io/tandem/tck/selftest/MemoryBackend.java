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

  synchronized void putResults(String namespace, Map<String, String> entries) {
    results.computeIfAbsent(namespace, n -> new HashMap<>()).putAll(entries);
  }

  synchronized Map<String, String> readResults(String namespace) {
    return Map.copyOf(results.getOrDefault(namespace, Map.of()));
  }
}
