package io.tandem.kafka;

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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Test scaffolding for the runtime, not a store under test: a small, correct, transactional
 * in-memory store. The writer runs against a private buffer; the contiguity check and the apply
 * happen together under the store's lock, so a commit is all or nothing and concurrent commits of
 * one range cannot both succeed.
 */
class MemoryOffsetStore implements OffsetStore<MemoryOffsetStore.Tx> {

  /** The handle: buffered result writes, applied only if the commit succeeds. */
  static final class Tx {
    private final Map<String, String> puts = new LinkedHashMap<>();
    private final Map<String, Long> increments = new LinkedHashMap<>();

    /** Upserts a result. */
    void put(String key, String value) {
      puts.put(key, value);
    }

    /** Adds one to a counter: a fold, which double-counts on any duplicate. */
    void increment(String key) {
      increments.merge(key, 1L, Long::sum);
    }
  }

  private final boolean atomic;
  private final Map<String, Map<Partition, Long>> offsets = new HashMap<>();
  private final Map<String, String> results = new HashMap<>();
  private final Map<String, Long> counters = new HashMap<>();

  MemoryOffsetStore() {
    this(true);
  }

  MemoryOffsetStore(boolean atomicAcrossPartitions) {
    this.atomic = atomicAcrossPartitions;
  }

  @Override
  public Capabilities capabilities() {
    return new Capabilities(
        Guarantee.TRANSACTIONAL, atomic, Integer.MAX_VALUE, false, "in-memory test store");
  }

  @Override
  public Class<Tx> handleType() {
    return Tx.class;
  }

  @Override
  public synchronized Map<Partition, Long> positions(
      String group, Collection<Partition> partitions) {
    StoreArguments.group(group);
    Map<Partition, Long> stored = offsets.getOrDefault(group, Map.of());
    Map<Partition, Long> out = new TreeMap<>();
    for (Partition p : StoreArguments.partitions(partitions)) {
      Long at = stored.get(p);
      if (at != null) {
        out.put(p, at);
      }
    }
    return out;
  }

  @Override
  public synchronized Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
    StoreArguments.group(group);
    Map<Partition, Long> sorted = StoreArguments.positions(starts);
    Map<Partition, Long> stored = offsets.computeIfAbsent(group, g -> new HashMap<>());
    Map<Partition, Long> out = new TreeMap<>();
    sorted.forEach((p, at) -> out.put(p, stored.computeIfAbsent(p, x -> at)));
    return out;
  }

  @Override
  public void commit(String group, Collection<OffsetRange> ranges, ResultWriter<Tx> writer) {
    StoreArguments.group(group);
    List<OffsetRange> sorted = StoreArguments.ranges(ranges, Integer.MAX_VALUE);
    StoreArguments.results(writer);
    Tx tx = new Tx();
    try {
      writer.write(tx);
    } catch (Exception e) {
      throw new ResultWriteException("result writer failed: " + e, e);
    }
    synchronized (this) {
      Map<Partition, Long> stored = offsets.computeIfAbsent(group, g -> new HashMap<>());
      List<Conflict> conflicts = new ArrayList<>();
      for (OffsetRange r : sorted) {
        Long at = stored.get(r.partition());
        if (at == null) {
          conflicts.add(Conflict.missing(r.partition(), r.from()));
        } else if (at != r.from()) {
          conflicts.add(Conflict.of(r.partition(), r.from(), at));
        }
      }
      if (!conflicts.isEmpty()) {
        throw new OffsetConflictException(group, conflicts);
      }
      for (OffsetRange r : sorted) {
        stored.put(r.partition(), r.until());
      }
      results.putAll(tx.puts);
      tx.increments.forEach((k, n) -> counters.merge(k, n, Long::sum));
    }
  }

  @Override
  public synchronized Set<String> groups() {
    Set<String> out = new TreeSet<>();
    offsets.forEach(
        (g, m) -> {
          if (!m.isEmpty()) {
            out.add(g);
          }
        });
    return out;
  }

  @Override
  public synchronized Map<Partition, Long> positions(String group) {
    StoreArguments.group(group);
    return new TreeMap<>(offsets.getOrDefault(group, Map.of()));
  }

  @Override
  public synchronized void overwrite(String group, Map<Partition, Long> positions) {
    StoreArguments.group(group);
    offsets
        .computeIfAbsent(group, g -> new HashMap<>())
        .putAll(StoreArguments.positions(positions));
  }

  @Override
  public synchronized boolean delete(String group) {
    StoreArguments.group(group);
    Map<Partition, Long> gone = offsets.remove(group);
    return gone != null && !gone.isEmpty();
  }

  @Override
  public synchronized int delete(String group, Collection<Partition> partitions) {
    StoreArguments.group(group);
    Map<Partition, Long> stored = offsets.getOrDefault(group, new HashMap<>());
    int n = 0;
    for (Partition p : StoreArguments.partitions(partitions)) {
      if (stored.remove(p) != null) {
        n++;
      }
    }
    return n;
  }

  @Override
  public void close() {}

  /** Every committed result. */
  synchronized Map<String, String> results() {
    return new HashMap<>(results);
  }

  /** Every committed counter. */
  synchronized Map<String, Long> counters() {
    return new HashMap<>(counters);
  }
}
