package io.tandem.tck.memory;

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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The reference store: an in-memory {@link OffsetStore} that passes the whole kit, for tests that
 * need a store without testing one, and as the contract written out in one class.
 *
 * <p>Mechanism: positions, results and counters live in a {@link MemoryDatabase}, shared by every
 * store opened on it. A commit runs the writer first; then, holding the database's monitor, it
 * compares each range's {@code from} with the stored position and, if every one matches, moves them
 * all and applies the buffered results (TRANSACTIONAL), so a commit is all or nothing and of
 * concurrent commits of one range exactly one wins. As IDEMPOTENT, results are applied as the
 * writer writes them and the positions move conditionally afterwards. Without atomicity across
 * partitions, each matching range moves even when another conflicts. Not durable: the data lives as
 * long as the database object.
 *
 * <p>Built for extension: the kit's own tests derive deliberately broken stores from it by
 * overriding {@link #conflicts}, the argument checks or the public methods; an override must call
 * the database only while holding its monitor ({@code synchronized (database())}).
 *
 * @since 0.1
 */
public class MemoryOffsetStore implements OffsetStore<MemoryTransaction> {

  private final MemoryDatabase database;
  private final Guarantee guarantee;
  private final boolean atomic;
  private final int maxRanges;

  /**
   * A TRANSACTIONAL store, atomic across partitions, with no limit on ranges, on a database of its
   * own.
   */
  public MemoryOffsetStore() {
    this(builder());
  }

  /**
   * A store as configured.
   *
   * @param builder the configuration
   */
  protected MemoryOffsetStore(Builder builder) {
    this.database = builder.database;
    this.guarantee = builder.guarantee;
    this.atomic = builder.atomic;
    this.maxRanges = builder.maxRanges;
  }

  /**
   * Starts a configuration: by default TRANSACTIONAL, atomic across partitions, unbounded, on a new
   * database.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The database this store reads and writes.
   *
   * @return the database
   */
  public final MemoryDatabase database() {
    return database;
  }

  /**
   * Every committed result of this store's database.
   *
   * @return a snapshot, see {@link MemoryDatabase#results()}
   */
  public final Map<String, String> results() {
    return database.results();
  }

  /**
   * Every committed counter of this store's database.
   *
   * @return a snapshot, see {@link MemoryDatabase#counters()}
   */
  public final Map<String, Long> counters() {
    return database.counters();
  }

  @Override
  public Capabilities capabilities() {
    return new Capabilities(
        guarantee,
        atomic,
        maxRanges,
        false,
        "in-memory reference store, "
            + guarantee
            + (atomic ? ", atomic across partitions" : ", partition by partition")
            + (maxRanges == Integer.MAX_VALUE ? "" : ", at most " + maxRanges + " ranges")
            + ", not durable");
  }

  @Override
  public Class<MemoryTransaction> handleType() {
    return MemoryTransaction.class;
  }

  // ---------------------------------------------------------------- argument checks

  /**
   * Checks a group name; {@link StoreArguments#group} by default.
   *
   * @param group the caller's group
   * @return the group
   */
  protected String checkGroup(String group) {
    return StoreArguments.group(group);
  }

  /**
   * Checks positions to store; {@link StoreArguments#positions} by default.
   *
   * @param positions the caller's positions
   * @return the positions to store
   */
  protected Map<Partition, Long> checkPositions(Map<Partition, Long> positions) {
    return StoreArguments.positions(positions);
  }

  /**
   * Checks a commit's ranges and writer; {@link StoreArguments#ranges} against the configured limit
   * and {@link StoreArguments#results} by default.
   *
   * @param ranges the caller's ranges
   * @param writer the caller's writer
   * @return the ranges, sorted
   */
  protected List<OffsetRange> checkCommit(
      Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
    List<OffsetRange> sorted = StoreArguments.ranges(ranges, maxRanges);
    StoreArguments.results(writer);
    return sorted;
  }

  /**
   * The ranges whose {@code from} differs from the stored position (a missing position is a
   * conflict), all of them. Called holding the database's monitor.
   *
   * @param group the group
   * @param ranges the commit's ranges, sorted
   * @param stored the group's stored positions
   * @return every conflict; empty when the commit may proceed
   */
  protected List<Conflict> conflicts(
      String group, List<OffsetRange> ranges, Map<Partition, Long> stored) {
    List<Conflict> conflicts = new ArrayList<>();
    for (OffsetRange r : ranges) {
      Long at = stored.get(r.partition());
      if (at == null) {
        conflicts.add(Conflict.missing(r.partition(), r.from()));
      } else if (at != r.from()) {
        conflicts.add(Conflict.of(r.partition(), r.from(), at));
      }
    }
    return conflicts;
  }

  // ---------------------------------------------------------------- the contract

  @Override
  public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
    String g = checkGroup(group);
    List<Partition> asked = StoreArguments.partitions(partitions);
    synchronized (database) {
      Map<Partition, Long> stored = database.offsets.getOrDefault(g, Map.of());
      Map<Partition, Long> out = new TreeMap<>();
      for (Partition p : asked) {
        Long at = stored.get(p);
        if (at != null) {
          out.put(p, at);
        }
      }
      return Collections.unmodifiableMap(out);
    }
  }

  @Override
  public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
    String g = checkGroup(group);
    Map<Partition, Long> checked = checkPositions(starts);
    if (checked.isEmpty()) {
      return Map.of();
    }
    synchronized (database) {
      Map<Partition, Long> stored = database.group(g);
      Map<Partition, Long> out = new HashMap<>();
      checked.forEach((p, at) -> out.put(p, stored.computeIfAbsent(p, x -> at)));
      return Map.copyOf(out);
    }
  }

  @Override
  public void commit(
      String group, Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
    String g = checkGroup(group);
    List<OffsetRange> sorted = checkCommit(ranges, writer);
    if (guarantee == Guarantee.IDEMPOTENT) {
      // Keyed results first, applied as they are written; then the conditional advance.
      write(g, sorted, writer, new MemoryTransaction(database));
      advance(g, sorted, null);
    } else {
      MemoryTransaction tx = new MemoryTransaction(null);
      write(g, sorted, writer, tx);
      advance(g, sorted, tx);
    }
  }

  private static void write(
      String group,
      List<OffsetRange> ranges,
      ResultWriter<MemoryTransaction> writer,
      MemoryTransaction tx) {
    try {
      writer.write(tx);
    } catch (Exception e) {
      throw new ResultWriteException(
          "result writer failed for group '" + group + "' " + ranges + "; no position moved", e);
    }
  }

  /** Checks and moves, atomically; {@code tx}'s buffered results are applied only on success. */
  private void advance(String group, List<OffsetRange> sorted, MemoryTransaction tx) {
    synchronized (database) {
      Map<Partition, Long> stored = database.group(group);
      List<Conflict> conflicts = conflicts(group, sorted, stored);
      if (!atomic) {
        Set<Partition> bad = new HashSet<>();
        conflicts.forEach(c -> bad.add(c.partition()));
        for (OffsetRange r : sorted) {
          if (!bad.contains(r.partition())) {
            stored.put(r.partition(), r.until());
          }
        }
      } else if (conflicts.isEmpty()) {
        sorted.forEach(r -> stored.put(r.partition(), r.until()));
      }
      if (!conflicts.isEmpty()) {
        throw new OffsetConflictException(group, conflicts);
      }
      if (tx != null) {
        tx.applyTo(database);
      }
    }
  }

  @Override
  public Set<String> groups() {
    synchronized (database) {
      Set<String> out = new HashSet<>();
      database.offsets.forEach(
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
    String g = checkGroup(group);
    synchronized (database) {
      return new HashMap<>(database.offsets.getOrDefault(g, Map.of()));
    }
  }

  @Override
  public void overwrite(String group, Map<Partition, Long> positions) {
    String g = checkGroup(group);
    Map<Partition, Long> checked = checkPositions(positions);
    synchronized (database) {
      if (!checked.isEmpty()) {
        database.group(g).putAll(checked);
      }
    }
  }

  @Override
  public boolean delete(String group) {
    String g = checkGroup(group);
    synchronized (database) {
      Map<Partition, Long> gone = database.offsets.remove(g);
      return gone != null && !gone.isEmpty();
    }
  }

  @Override
  public int delete(String group, Collection<Partition> partitions) {
    String g = checkGroup(group);
    List<Partition> asked = StoreArguments.partitions(partitions);
    synchronized (database) {
      Map<Partition, Long> stored = database.offsets.get(g);
      if (stored == null) {
        return 0;
      }
      int n = 0;
      for (Partition p : asked) {
        if (stored.remove(p) != null) {
          n++;
        }
      }
      if (stored.isEmpty()) {
        database.offsets.remove(g);
      }
      return n;
    }
  }

  /** Nothing to release: the data stays in the database. Idempotent. */
  @Override
  public void close() {}

  /** Configuration of a {@link MemoryOffsetStore}. */
  public static final class Builder {
    private MemoryDatabase database = new MemoryDatabase();
    private Guarantee guarantee = Guarantee.TRANSACTIONAL;
    private boolean atomic = true;
    private int maxRanges = Integer.MAX_VALUE;

    private Builder() {}

    /**
     * The database to work on, shared with other stores; a new one by default.
     *
     * @param database the database
     * @return this builder
     */
    public Builder database(MemoryDatabase database) {
      this.database = Objects.requireNonNull(database, "database must not be null");
      return this;
    }

    /**
     * TRANSACTIONAL (default) or IDEMPOTENT.
     *
     * @param guarantee the guarantee
     * @return this builder
     */
    public Builder guarantee(Guarantee guarantee) {
      this.guarantee = Objects.requireNonNull(guarantee, "guarantee must not be null");
      return this;
    }

    /**
     * Whether a commit moves all its partitions or none (default true); false moves each matching
     * range on its own.
     *
     * @param atomic atomicity across partitions
     * @return this builder
     */
    public Builder atomicAcrossPartitions(boolean atomic) {
      this.atomic = atomic;
      return this;
    }

    /**
     * The most ranges one commit accepts; unbounded by default.
     *
     * @param maxRanges at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code maxRanges < 1}
     */
    public Builder maxRangesPerCommit(int maxRanges) {
      if (maxRanges < 1) {
        throw new IllegalArgumentException(
            "maxRangesPerCommit must be >= 1, got maxRangesPerCommit=" + maxRanges);
      }
      this.maxRanges = maxRanges;
      return this;
    }

    /**
     * The store.
     *
     * @return a new store on the configured database
     */
    public MemoryOffsetStore build() {
      return new MemoryOffsetStore(this);
    }
  }
}
