package io.tandem.tck.selftest;

import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreArguments;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * An in-memory {@link OffsetStore}: correct when built without {@link Flaw}s (the kit's reference),
 * deliberately broken with them. Every instance on one {@link MemoryBackend} shares its data, as
 * instances of a real store share a server. One lock (the backend's monitor) makes each commit's
 * check and update one atomic step.
 */
final class MemoryStore implements OffsetStore<MemoryTx> {

  private final MemoryBackend backend;
  private final Guarantee guarantee;
  private final boolean atomic;
  private final int maxRanges;
  private final Set<Flaw> flaws;
  private boolean closed;

  MemoryStore(
      MemoryBackend backend, Guarantee guarantee, boolean atomic, int maxRanges, Set<Flaw> flaws) {
    this.backend = backend;
    this.guarantee = guarantee;
    this.atomic = atomic;
    this.maxRanges = maxRanges;
    this.flaws = flaws.isEmpty() ? EnumSet.noneOf(Flaw.class) : EnumSet.copyOf(flaws);
  }

  private boolean has(Flaw flaw) {
    return flaws.contains(flaw);
  }

  @Override
  public Capabilities capabilities() {
    return new Capabilities(
        guarantee, atomic, maxRanges, true, "in-memory test store " + guarantee + " " + flaws);
  }

  @Override
  public Class<MemoryTx> handleType() {
    return MemoryTx.class;
  }

  private String group(String group) {
    return has(Flaw.SKIPS_ARGUMENT_CHECKS) ? group : StoreArguments.group(group);
  }

  private long stored(long position) {
    return has(Flaw.STORES_POSITIONS_AS_DOUBLE) ? (long) (double) position : position;
  }

  @Override
  public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
    group(group);
    List<Partition> asked = StoreArguments.partitions(partitions);
    synchronized (backend) {
      Map<Partition, Long> all = backend.offsets.get(group);
      Map<Partition, Long> out = new HashMap<>();
      if (all != null) {
        for (Partition p : asked) {
          Long v = all.get(p);
          if (v != null) {
            out.put(p, v);
          }
        }
      }
      if (has(Flaw.READS_MISSING_AS_ZERO)) {
        asked.forEach(p -> out.putIfAbsent(p, 0L));
      }
      // Sorted and unmodifiable, as real stores return them (the kit must cope with both).
      return Collections.unmodifiableMap(new TreeMap<>(out));
    }
  }

  @Override
  public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
    group(group);
    Map<Partition, Long> checked =
        has(Flaw.SKIPS_ARGUMENT_CHECKS) ? starts : StoreArguments.positions(starts);
    synchronized (backend) {
      if (checked.isEmpty()) {
        return Map.of();
      }
      Map<Partition, Long> all = backend.group(group);
      Map<Partition, Long> out = new HashMap<>();
      for (Map.Entry<Partition, Long> e : checked.entrySet()) {
        if (has(Flaw.INITIALIZE_OVERWRITES)) {
          all.put(e.getKey(), stored(e.getValue()));
        } else {
          all.putIfAbsent(e.getKey(), stored(e.getValue()));
        }
        out.put(e.getKey(), all.get(e.getKey()));
      }
      return Map.copyOf(out);
    }
  }

  @Override
  public void commit(String group, Collection<OffsetRange> ranges, ResultWriter<MemoryTx> results) {
    List<OffsetRange> sorted;
    if (has(Flaw.SKIPS_ARGUMENT_CHECKS)) {
      sorted = new ArrayList<>(ranges);
    } else {
      StoreArguments.group(group);
      sorted =
          StoreArguments.ranges(
              ranges, has(Flaw.IGNORES_DECLARED_LIMIT) ? Integer.MAX_VALUE : maxRanges);
      StoreArguments.results(results);
    }
    if (guarantee == Guarantee.IDEMPOTENT || has(Flaw.WRITES_OUTSIDE_TRANSACTION)) {
      // Results first, applied as they are written; then the conditional advance.
      try {
        write(group, sorted, results, new MemoryTx(backend::putResults));
      } catch (ResultWriteException e) {
        if (has(Flaw.MOVES_OFFSETS_WHEN_WRITER_FAILS)) {
          advance(group, sorted, null);
        }
        throw e;
      }
      advance(group, sorted, null);
      return;
    }
    MemoryTx tx = new MemoryTx(null);
    write(group, sorted, results, tx);
    if (has(Flaw.CHECKS_THEN_WRITES_UNLOCKED)) {
      synchronized (backend) {
        List<Conflict> conflicts = conflicts(group, sorted);
        if (!conflicts.isEmpty()) {
          throw new OffsetConflictException(group, conflicts);
        }
      }
      // The window between the check and the write, as a network round-trip would open it.
      // In the kit's concurrency rules (their groups are named after the rule, "tck-X1-...";
      // their races start at position 0) a commit waits there for a second one, so the race has
      // two winners however loaded the machine is. Other rules' commits never wait.
      if (group.startsWith("tck-X") && sorted.stream().allMatch(r -> r.from() == 0)) {
        backend.meetAnotherCommit();
      }
      synchronized (backend) {
        apply(tx);
        for (OffsetRange r : sorted) {
          backend.group(group).put(r.partition(), stored(r.until()));
        }
      }
      return;
    }
    advance(group, sorted, tx);
  }

  private void write(
      String group, List<OffsetRange> ranges, ResultWriter<MemoryTx> results, MemoryTx tx) {
    try {
      results.write(tx);
    } catch (Exception e) {
      Throwable cause = has(Flaw.WRAPS_WRITER_FAILURE_TWICE) ? new RuntimeException(e) : e;
      throw new ResultWriteException(
          "result writer failed for group '" + group + "' " + ranges + "; nothing committed",
          cause);
    }
  }

  /** Checks and moves, atomically; {@code tx} (buffered results) is applied only on success. */
  private void advance(String group, List<OffsetRange> sorted, MemoryTx tx) {
    synchronized (backend) {
      List<Conflict> conflicts = conflicts(group, sorted);
      if (!atomic || has(Flaw.MOVES_MATCHING_RANGES_ON_CONFLICT)) {
        // Each range on its own: the matching ones move even if others conflict.
        Set<Partition> bad = new HashSet<>();
        conflicts.forEach(c -> bad.add(c.partition()));
        for (OffsetRange r : sorted) {
          if (!bad.contains(r.partition())) {
            backend.group(group).put(r.partition(), stored(r.until()));
          }
        }
        if (!conflicts.isEmpty()) {
          throw new OffsetConflictException(group, conflicts);
        }
      } else {
        if (!conflicts.isEmpty()) {
          throw new OffsetConflictException(group, conflicts);
        }
        for (OffsetRange r : sorted) {
          backend.group(group).put(r.partition(), stored(r.until()));
        }
      }
      if (tx != null) {
        apply(tx);
      }
    }
  }

  private void apply(MemoryTx tx) {
    tx.buffered().forEach(backend::putResults);
  }

  private List<Conflict> conflicts(String group, List<OffsetRange> sorted) {
    List<Conflict> conflicts = new ArrayList<>();
    if (has(Flaw.IGNORES_FROM)) {
      return conflicts;
    }
    Map<Partition, Long> all = backend.offsets.getOrDefault(group, Map.of());
    for (OffsetRange r : sorted) {
      Long at = all.get(r.partition());
      if (at == null) {
        conflicts.add(Conflict.missing(r.partition(), r.from()));
      } else if (at != r.from()) {
        conflicts.add(Conflict.of(r.partition(), r.from(), at));
      }
    }
    if (has(Flaw.REPORTS_FIRST_CONFLICT_ONLY) && conflicts.size() > 1) {
      return List.of(conflicts.get(0));
    }
    return conflicts;
  }

  @Override
  public Set<String> groups() {
    synchronized (backend) {
      Set<String> out = new HashSet<>();
      backend.offsets.forEach(
          (g, m) -> {
            if (!m.isEmpty()) {
              out.add(g);
            }
          });
      return out;
    }
  }

  @Override
  public Map<Partition, Long> positions(String group) {
    group(group);
    synchronized (backend) {
      return new HashMap<>(backend.offsets.getOrDefault(group, Map.of()));
    }
  }

  @Override
  public void overwrite(String group, Map<Partition, Long> positions) {
    group(group);
    Map<Partition, Long> checked =
        has(Flaw.SKIPS_ARGUMENT_CHECKS) ? positions : StoreArguments.positions(positions);
    synchronized (backend) {
      Map<Partition, Long> all = backend.group(group);
      checked.forEach((p, v) -> all.put(p, stored(v)));
    }
  }

  @Override
  public boolean delete(String group) {
    group(group);
    if (has(Flaw.HANGS_ON_DELETE_GROUP)) {
      try {
        new java.util.concurrent.CountDownLatch(1).await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while hanging on purpose", e);
      }
    }
    synchronized (backend) {
      Map<Partition, Long> removed = backend.offsets.remove(group);
      return removed != null && !removed.isEmpty();
    }
  }

  @Override
  public int delete(String group, Collection<Partition> partitions) {
    group(group);
    List<Partition> asked = StoreArguments.partitions(partitions);
    synchronized (backend) {
      Map<Partition, Long> all = backend.offsets.get(group);
      if (all == null) {
        return 0;
      }
      int n = 0;
      for (Partition p : asked) {
        if (all.remove(p) != null) {
          n++;
        }
      }
      if (all.isEmpty()) {
        backend.offsets.remove(group);
      }
      return n;
    }
  }

  @Override
  public void prepare() {
    synchronized (backend) {
      if (has(Flaw.PREPARE_RECREATES)) {
        backend.offsets.clear();
      }
    }
  }

  @Override
  public void close() {
    synchronized (backend) {
      if (!closed && has(Flaw.FORGETS_ON_CLOSE)) {
        backend.offsets.clear();
      }
      closed = true;
    }
  }
}
