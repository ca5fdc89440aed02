package io.tandem.tck.selftest;

import io.tandem.spi.BatchTooLargeException;
import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.tck.memory.MemoryTransaction;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * Deliberate contract violations, each a subclass of the reference store that changes one thing, to
 * prove the kit catches it. A store that claims more than it does is the reference configured for
 * less with {@link #capabilities()} claiming more.
 */
final class BrokenStores {
  private BrokenStores() {}

  /** Claims the configured store's capabilities with one field changed. */
  static class Claiming extends MemoryOffsetStore {
    private final Guarantee claimedGuarantee;
    private final Boolean claimedAtomic;
    private final Integer claimedMaxRanges;

    Claiming(Builder b, Guarantee guarantee, Boolean atomic, Integer maxRanges) {
      super(b);
      this.claimedGuarantee = guarantee;
      this.claimedAtomic = atomic;
      this.claimedMaxRanges = maxRanges;
    }

    @Override
    public Capabilities capabilities() {
      Capabilities real = super.capabilities();
      return new Capabilities(
          claimedGuarantee != null ? claimedGuarantee : real.guarantee(),
          claimedAtomic != null ? claimedAtomic : real.atomicAcrossPartitions(),
          claimedMaxRanges != null ? claimedMaxRanges : real.maxRangesPerCommit(),
          real.durable(),
          "broken: " + getClass().getSimpleName());
    }
  }

  /** Never compares the stored position with {@code from}: every commit moves to {@code until}. */
  static final class IgnoresFrom extends MemoryOffsetStore {
    IgnoresFrom(Builder b) {
      super(b);
    }

    @Override
    protected List<Conflict> conflicts(
        String group, List<OffsetRange> ranges, Map<Partition, Long> stored) {
      return List.of();
    }
  }

  /** Reports only the first mismatching range of a commit. */
  static final class ReportsFirstConflictOnly extends MemoryOffsetStore {
    ReportsFirstConflictOnly(Builder b) {
      super(b);
    }

    @Override
    protected List<Conflict> conflicts(
        String group, List<OffsetRange> ranges, Map<Partition, Long> stored) {
      List<Conflict> all = super.conflicts(group, ranges, stored);
      return all.size() > 1 ? List.of(all.get(0)) : all;
    }
  }

  /** prepare() wipes the database: stored positions and results are gone after it. */
  static final class PrepareRecreates extends MemoryOffsetStore {
    PrepareRecreates(Builder b) {
      super(b);
    }

    /** Drops and recreates, like DDL without IF NOT EXISTS after a DROP. */
    @Override
    public void prepare() {
      database().clear();
    }
  }

  /** close() wipes the database, like an in-memory database dropped with its last user. */
  static final class ForgetsOnClose extends MemoryOffsetStore {
    ForgetsOnClose(Builder b) {
      super(b);
    }

    @Override
    public void close() {
      database().clear();
    }
  }

  /**
   * Checks positions, releases the lock, then writes: a read-then-write race. In the kit's
   * concurrency rules (groups named after the rule, "tck-X1-..."; races start at position 0) a
   * commit waits in the window for a second one, so the race has two winners however loaded the
   * machine is. Other rules' commits never wait.
   */
  static final class ChecksThenWritesUnlocked extends MemoryOffsetStore {
    private final Rendezvous rendezvous;

    ChecksThenWritesUnlocked(Builder b, Rendezvous rendezvous) {
      super(b);
      this.rendezvous = rendezvous;
    }

    @Override
    public void commit(
        String group, Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      String g = checkGroup(group);
      List<OffsetRange> sorted = checkCommit(ranges, writer);
      Map<Partition, Long> froms = new HashMap<>();
      synchronized (database()) {
        List<Conflict> conflicts =
            conflicts(g, sorted, new HashMap<>(positions(g, partitions(sorted))));
        if (!conflicts.isEmpty()) {
          throw new OffsetConflictException(g, conflicts);
        }
        sorted.forEach(r -> froms.put(r.partition(), r.from()));
      }
      if (g.startsWith("tck-X") && sorted.stream().allMatch(r -> r.from() == 0)) {
        rendezvous.meetAnother();
      }
      synchronized (database()) {
        // The write trusts the earlier check: it puts the checked positions back first.
        overwrite(g, froms);
        super.commit(g, sorted, writer);
      }
    }

    private static List<Partition> partitions(List<OffsetRange> ranges) {
      return ranges.stream().map(OffsetRange::partition).toList();
    }
  }

  /** Keeps positions as doubles: above 2^53 they lose precision. */
  static final class StoresPositionsAsDouble extends MemoryOffsetStore {
    StoresPositionsAsDouble(Builder b) {
      super(b);
    }

    private static long lossy(long position) {
      return (long) (double) position;
    }

    private static Map<Partition, Long> lossy(Map<Partition, Long> positions) {
      if (positions == null) {
        return null;
      }
      Map<Partition, Long> out = new LinkedHashMap<>();
      positions.forEach((p, v) -> out.put(p, v == null || v < 0 ? v : lossy(v)));
      return out;
    }

    @Override
    public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
      return super.initialize(group, lossy(starts));
    }

    @Override
    public void overwrite(String group, Map<Partition, Long> positions) {
      super.overwrite(group, lossy(positions));
    }

    @Override
    public void commit(
        String group, Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      if (ranges == null) {
        super.commit(group, null, writer);
        return;
      }
      List<OffsetRange> stored = new ArrayList<>();
      for (OffsetRange r : ranges) {
        stored.add(
            r == null
                ? null
                : new OffsetRange(r.partition(), r.from(), Math.max(r.from(), lossy(r.until()))));
      }
      super.commit(group, stored, writer);
    }
  }

  /**
   * Conflates names or partition numbers that should be distinct: a name is stored in the spelling
   * first seen and any spelling with the same key finds it (a case-insensitive or trimming
   * collation); a partition likewise (a partition number kept in too few bits).
   */
  static class Conflating extends MemoryOffsetStore {
    private final Map<String, String> spellings;
    private final Map<Partition, Partition> partitions;
    private final java.util.function.UnaryOperator<String> nameKey;
    private final java.util.function.IntUnaryOperator numberKey;

    Conflating(
        Builder b,
        Map<String, String> spellings,
        Map<Partition, Partition> partitions,
        java.util.function.UnaryOperator<String> nameKey,
        java.util.function.IntUnaryOperator numberKey) {
      super(b);
      this.spellings = spellings;
      this.partitions = partitions;
      this.nameKey = nameKey;
      this.numberKey = numberKey;
    }

    static Map<String, String> newSpellings() {
      return new ConcurrentHashMap<>();
    }

    static Map<Partition, Partition> newPartitions() {
      return new ConcurrentHashMap<>();
    }

    private String name(String name) {
      return name == null ? null : spellings.computeIfAbsent(nameKey.apply(name), k -> name);
    }

    private Partition partition(Partition p) {
      if (p == null) {
        return null;
      }
      String topic = name(p.topic());
      return partitions.computeIfAbsent(
          Partition.of(topic, numberKey.applyAsInt(p.partition())),
          k -> Partition.of(topic, p.partition()));
    }

    @Override
    public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
      if (partitions == null) {
        return super.positions(name(group), null);
      }
      Map<Partition, Partition> asked = new LinkedHashMap<>();
      List<Partition> stored = new ArrayList<>();
      for (Partition p : partitions) {
        Partition s = partition(p);
        stored.add(s);
        if (s != null) {
          asked.put(s, p);
        }
      }
      Map<Partition, Long> out = new TreeMap<>();
      super.positions(name(group), stored).forEach((s, v) -> out.put(asked.get(s), v));
      return out;
    }

    @Override
    public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
      if (starts == null) {
        return super.initialize(name(group), null);
      }
      Map<Partition, Partition> given = new HashMap<>();
      Map<Partition, Long> stored = new LinkedHashMap<>();
      starts.forEach(
          (p, v) -> {
            Partition s = partition(p);
            stored.put(s, v);
            given.put(s, p);
          });
      Map<Partition, Long> out = new HashMap<>();
      super.initialize(name(group), stored).forEach((s, v) -> out.put(given.get(s), v));
      return out;
    }

    @Override
    public void commit(
        String group, Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      if (ranges == null) {
        super.commit(name(group), null, writer);
        return;
      }
      List<OffsetRange> stored = new ArrayList<>();
      for (OffsetRange r : ranges) {
        stored.add(
            r == null ? null : new OffsetRange(partition(r.partition()), r.from(), r.until()));
      }
      super.commit(name(group), stored, writer);
    }

    @Override
    public Map<Partition, Long> positions(String group) {
      return super.positions(name(group));
    }

    @Override
    public void overwrite(String group, Map<Partition, Long> positions) {
      if (positions == null) {
        super.overwrite(name(group), null);
        return;
      }
      Map<Partition, Long> stored = new LinkedHashMap<>();
      positions.forEach((p, v) -> stored.put(partition(p), v));
      super.overwrite(name(group), stored);
    }

    @Override
    public boolean delete(String group) {
      return super.delete(name(group));
    }

    @Override
    public int delete(String group, Collection<Partition> partitions) {
      if (partitions == null) {
        return super.delete(name(group), null);
      }
      List<Partition> stored = new ArrayList<>();
      partitions.forEach(p -> stored.add(partition(p)));
      return super.delete(name(group), stored);
    }
  }

  /** Compares group and topic names ignoring case, like a default MySQL collation. */
  static final class CaseInsensitiveNames extends Conflating {
    CaseInsensitiveNames(Builder b, Map<String, String> spellings) {
      super(b, spellings, newPartitions(), n -> n.toLowerCase(Locale.ROOT), n -> n);
    }
  }

  /** Trims names: a CHAR column, a PAD SPACE collation, a path join that drops end slashes. */
  static final class TrimsNames extends Conflating {
    TrimsNames(Builder b, Map<String, String> spellings) {
      super(
          b, spellings, newPartitions(), n -> n.strip().replaceAll("^[./-]+|[./-]+$", ""), n -> n);
    }
  }

  /** Keeps partition numbers in 16 bits: 65 537 is partition 1. */
  static final class ShortPartitionNumbers extends Conflating {
    ShortPartitionNumbers(Builder b, Map<Partition, Partition> partitions) {
      super(b, newSpellings(), partitions, n -> n, n -> n & 0xFFFF);
    }
  }

  /**
   * IDEMPOTENT, but moves the positions first and writes the results after (an unordered batch, or
   * the two statements sent the other way round): a crash in between loses the batch.
   */
  static final class AdvancesBeforeResults extends MemoryOffsetStore {
    AdvancesBeforeResults(Builder b) {
      super(b);
    }

    @Override
    public void commit(
        String group, Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      if (group == null
          || ranges == null
          || writer == null
          || ranges.stream().anyMatch(r -> r == null)) {
        super.commit(group, ranges, writer);
        return;
      }
      super.commit(group, ranges, ResultWriter.none());
      // Then the results, through an empty commit at the new positions (it moves nothing).
      List<OffsetRange> after = new ArrayList<>();
      ranges.forEach(r -> after.add(new OffsetRange(r.partition(), r.until(), r.until())));
      super.commit(group, after, writer);
    }
  }

  /** Skips every argument check: bad input is taken as it comes. */
  static final class SkipsArgumentChecks extends MemoryOffsetStore {
    SkipsArgumentChecks(Builder b) {
      super(b);
    }

    @Override
    protected String checkGroup(String group) {
      return group;
    }

    @Override
    protected Map<Partition, Long> checkPositions(Map<Partition, Long> positions) {
      return positions;
    }

    @Override
    protected List<OffsetRange> checkCommit(
        Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      return new ArrayList<>(ranges);
    }
  }

  /** initialize overwrites existing positions (an upsert instead of insert-if-absent). */
  static final class InitializeOverwrites extends MemoryOffsetStore {
    InitializeOverwrites(Builder b) {
      super(b);
    }

    @Override
    public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
      overwrite(group, starts);
      return super.initialize(group, starts);
    }
  }

  /** positions(group, partitions) answers 0 for partitions with no stored position. */
  static final class ReadsMissingAsZero extends MemoryOffsetStore {
    ReadsMissingAsZero(Builder b) {
      super(b);
    }

    @Override
    public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
      Map<Partition, Long> out = new TreeMap<>(super.positions(group, partitions));
      partitions.forEach(p -> out.putIfAbsent(p, 0L));
      return out;
    }
  }

  /** An idempotent store that still advances offsets when the writer failed. */
  static final class MovesOffsetsWhenWriterFails extends MemoryOffsetStore {
    MovesOffsetsWhenWriterFails(Builder b) {
      super(b);
    }

    @Override
    public void commit(
        String group, Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      try {
        super.commit(group, ranges, writer);
      } catch (ResultWriteException e) {
        super.commit(group, ranges, ResultWriter.none());
        throw e;
      }
    }
  }

  /** Wraps the writer's exception in another exception before the ResultWriteException. */
  static final class WrapsWriterFailureTwice extends MemoryOffsetStore {
    WrapsWriterFailureTwice(Builder b) {
      super(b);
    }

    @Override
    public void commit(
        String group, Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      super.commit(
          group,
          ranges,
          writer == null
              ? null
              : tx -> {
                try {
                  writer.write(tx);
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
    }
  }

  /** delete(group) blocks until interrupted, like a call waiting on a lock nobody releases. */
  static final class HangsOnDeleteGroup extends MemoryOffsetStore {
    HangsOnDeleteGroup(Builder b) {
      super(b);
    }

    @Override
    public boolean delete(String group) {
      checkGroup(group);
      try {
        new CountDownLatch(1).await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while hanging on purpose", e);
      }
      return super.delete(group);
    }
  }

  /**
   * Detects concurrent writes by version, as {@code WATCH} or a versioned {@code setData} does:
   * every commit and overwrite of a group bumps the group's version. When the version moved while
   * the writer ran but the positions still equal the commit's {@code from}s, it retries, and the
   * retry runs the writer again into the same unit of work instead of a fresh one: the first run's
   * writes stay, so a fold is applied twice. In the kit's X7 rule (groups "tck-X7-...") a commit
   * waits up to 200 ms after its writer for a concurrent write, like a slow round trip between
   * {@code WATCH} and {@code EXEC}, so the retry happens however the threads are scheduled.
   */
  static final class RerunsWriterIntoSameTransaction extends MemoryOffsetStore {
    private final Versions versions;

    RerunsWriterIntoSameTransaction(Builder b, Versions versions) {
      super(b);
      this.versions = versions;
    }

    @Override
    public void commit(
        String group, Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      if (group == null
          || ranges == null
          || writer == null
          || ranges.stream().anyMatch(r -> r == null)) {
        super.commit(group, ranges, writer);
        return;
      }
      Map<Partition, Long> froms = new HashMap<>();
      ranges.forEach(r -> froms.put(r.partition(), r.from()));
      long seen = versions.get(group);
      super.commit(
          group,
          ranges,
          tx -> {
            writer.write(tx);
            if (group.startsWith("tck-X7")) {
              versions.awaitChange(group, seen, 200);
            }
            long now = seen;
            while (versions.get(group) != now) {
              now = versions.get(group);
              if (!positions(group, froms.keySet()).equals(froms)) {
                return; // moved: the conditional advance reports the conflict
              }
              writer.write(tx); // the flaw: the retry reuses the unit of work
            }
          });
      versions.bump(group);
    }

    @Override
    public void overwrite(String group, Map<Partition, Long> positions) {
      super.overwrite(group, positions);
      versions.bump(group);
    }
  }

  /**
   * Declares its limit in ranges, but keeps one document per topic and a transaction takes at most
   * 8 documents: a batch at the declared limit spread over more topics is refused.
   */
  static final class RefusesManyTopicsBelowLimit extends MemoryOffsetStore {
    RefusesManyTopicsBelowLimit(Builder b) {
      super(b);
    }

    @Override
    protected List<OffsetRange> checkCommit(
        Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      List<OffsetRange> sorted = super.checkCommit(ranges, writer);
      long topics = sorted.stream().map(r -> r.partition().topic()).distinct().count();
      if (topics > 8) {
        throw new BatchTooLargeException(
            "a commit may touch at most 8 topics, got "
                + topics
                + " ("
                + sorted.size()
                + " ranges)");
      }
      return sorted;
    }
  }

  /**
   * Past its declared limit, commits the batch topic by topic and refuses only when the running
   * count passes the limit: the topics before that are already written. A batch within the limit
   * commits as one.
   */
  static final class HalfWritesPastLimit extends MemoryOffsetStore {
    HalfWritesPastLimit(Builder b) {
      super(b);
    }

    @Override
    public void commit(
        String group, Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      int max = capabilities().maxRangesPerCommit();
      if (group == null || ranges == null || writer == null || ranges.size() <= max) {
        super.commit(group, ranges, writer);
        return;
      }
      Map<String, List<OffsetRange>> byTopic = new TreeMap<>();
      for (OffsetRange r : ranges) {
        byTopic.computeIfAbsent(r.partition().topic(), t -> new ArrayList<>()).add(r);
      }
      int written = 0;
      boolean first = true;
      for (List<OffsetRange> chunk : byTopic.values()) {
        if (written + chunk.size() > max) {
          throw new BatchTooLargeException(
              "more than " + max + " ranges: " + ranges.size() + " given");
        }
        super.commit(group, chunk, first ? writer : ResultWriter.none());
        written += chunk.size();
        first = false;
      }
    }
  }

  /** Declares no limit, but a statement takes at most 2 000 ranges: larger commits are refused. */
  static final class RefusesLargeCommits extends MemoryOffsetStore {
    RefusesLargeCommits(Builder b) {
      super(b);
    }

    @Override
    protected List<OffsetRange> checkCommit(
        Collection<OffsetRange> ranges, ResultWriter<MemoryTransaction> writer) {
      List<OffsetRange> sorted = super.checkCommit(ranges, writer);
      if (sorted.size() > 2_000) {
        throw new BatchTooLargeException("at most 2000 ranges per statement, got " + sorted.size());
      }
      return sorted;
    }
  }

  /** Version counters per group, shared by the stores of one kit class. */
  static final class Versions {
    private final Map<String, Long> versions = new HashMap<>();

    synchronized long get(String group) {
      return versions.getOrDefault(group, 0L);
    }

    synchronized void bump(String group) {
      versions.merge(group, 1L, Long::sum);
      notifyAll();
    }

    synchronized void awaitChange(String group, long seen, long millis) {
      long deadline = System.nanoTime() + millis * 1_000_000L;
      while (get(group) == seen) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        try {
          wait(left / 1_000_000L + 1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /**
   * Two callers that meet both return at once; a lone caller gives up after 5 s. Holds a broken
   * store's check-then-write window open until a second commit is inside it.
   */
  static final class Rendezvous {
    private int arrived;
    private long generation;

    synchronized void meetAnother() {
      long mine = generation;
      if (++arrived >= 2) {
        arrived = 0;
        generation++;
        notifyAll();
        return;
      }
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (generation == mine) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          arrived--;
          return;
        }
        try {
          wait(left / 1_000_000L + 1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          arrived--;
          return;
        }
      }
    }
  }
}
