package io.tandem.tck.selftest;

import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.ResultWriter;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import io.tandem.tck.memory.MemoryDatabase;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.tck.memory.MemoryTransaction;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Kit subclasses over the reference store: correct configurations and deliberately broken stores
 * derived from it ({@link BrokenStores}). They live in a package other than the kit's, as a third
 * party's would, and are run through the JUnit launcher by {@link KitSelfTest} (their names do not
 * match Surefire's patterns on purpose). Each kit class has its own database, shared by every store
 * it opens, as a real store's instances share a server.
 */
final class Kits {
  private Kits() {}

  /** One kit run over one store configuration. */
  abstract static class MemoryKit extends OffsetStoreVerification<MemoryTransaction> {
    private final MemoryDatabase database;
    private final Function<MemoryOffsetStore.Builder, MemoryOffsetStore> open;
    private final MemoryOffsetStore.Builder config;

    MemoryKit(
        MemoryDatabase database,
        Function<MemoryOffsetStore.Builder, MemoryOffsetStore> open,
        Guarantee guarantee,
        boolean atomic,
        int maxRanges) {
      this.database = database;
      this.open = open;
      this.config =
          MemoryOffsetStore.builder()
              .database(database)
              .guarantee(guarantee)
              .atomicAcrossPartitions(atomic)
              .maxRangesPerCommit(maxRanges);
    }

    MemoryKit(
        MemoryDatabase database, Function<MemoryOffsetStore.Builder, MemoryOffsetStore> open) {
      this(database, open, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE);
    }

    @Override
    protected OffsetStore<MemoryTransaction> newStore() {
      return open.apply(config);
    }

    @Override
    protected ResultProbe<MemoryTransaction> probe() {
      return new ResultProbe<>() {
        // Keys of the flat result map: namespace, a separator no key contains, key.
        @Override
        public ResultWriter<MemoryTransaction> put(String namespace, Map<String, String> entries) {
          Map<String, String> copy = Map.copyOf(entries);
          return tx -> copy.forEach((k, v) -> tx.put(namespace + ":" + k, v));
        }

        @Override
        public Map<String, String> read(String namespace) {
          Map<String, String> out = new TreeMap<>();
          database
              .results()
              .forEach(
                  (k, v) -> {
                    if (k.startsWith(namespace + ":")) {
                      out.put(k.substring(namespace.length() + 1), v);
                    }
                  });
          return out;
        }
      };
    }
  }

  /** Correct, TRANSACTIONAL, atomic across partitions, no limit on ranges. */
  static final class TransactionalReference extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    TransactionalReference() {
      super(DB, MemoryOffsetStore.Builder::build);
    }
  }

  /** Correct, IDEMPOTENT, offsets atomic across partitions, at most 64 ranges per commit. */
  static final class IdempotentReference extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    IdempotentReference() {
      super(DB, MemoryOffsetStore.Builder::build, Guarantee.IDEMPOTENT, true, 64);
    }
  }

  /** Correct, TRANSACTIONAL, honestly declares no cross-partition atomicity, 16 ranges at most. */
  static final class PerPartitionReference extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    PerPartitionReference() {
      super(DB, MemoryOffsetStore.Builder::build, Guarantee.TRANSACTIONAL, false, 16);
    }
  }

  /** Claims TRANSACTIONAL, but results bypass the transaction (an idempotent store claiming). */
  static final class WritesOutsideTransaction extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    WritesOutsideTransaction() {
      super(
          DB,
          b -> new BrokenStores.Claiming(b, Guarantee.TRANSACTIONAL, null, null),
          Guarantee.IDEMPOTENT,
          true,
          Integer.MAX_VALUE);
    }
  }

  /** Never checks contiguity. */
  static final class IgnoresFrom extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    IgnoresFrom() {
      super(DB, BrokenStores.IgnoresFrom::new);
    }
  }

  /** Reports only the first conflict of a commit. */
  static final class ReportsFirstConflictOnly extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    ReportsFirstConflictOnly() {
      super(DB, BrokenStores.ReportsFirstConflictOnly::new);
    }
  }

  /** Claims atomicity across partitions, but moves the matching ranges of a conflicting commit. */
  static final class NotAtomicAcrossPartitions extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    NotAtomicAcrossPartitions() {
      super(
          DB,
          b -> new BrokenStores.Claiming(b, null, true, null),
          Guarantee.TRANSACTIONAL,
          false,
          Integer.MAX_VALUE);
    }
  }

  /** Loses every position when a store instance closes. */
  static final class ForgetsOnClose extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    ForgetsOnClose() {
      super(DB, BrokenStores.ForgetsOnClose::new);
    }
  }

  /** prepare() recreates the offsets: stored positions are gone after it. */
  static final class PrepareRecreates extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    PrepareRecreates() {
      super(DB, BrokenStores.PrepareRecreates::new);
    }
  }

  /** Checks, then writes without holding the lock: concurrent commits both win. */
  static final class ChecksThenWritesUnlocked extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();
    private static final BrokenStores.Rendezvous WINDOW = new BrokenStores.Rendezvous();

    ChecksThenWritesUnlocked() {
      super(DB, b -> new BrokenStores.ChecksThenWritesUnlocked(b, WINDOW));
    }
  }

  /** Keeps positions as doubles. */
  static final class StoresPositionsAsDouble extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    StoresPositionsAsDouble() {
      super(DB, BrokenStores.StoresPositionsAsDouble::new);
    }
  }

  /** Matches group and topic names ignoring case. */
  static final class CaseInsensitiveNames extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();
    private static final Map<String, String> SPELLINGS = BrokenStores.Conflating.newSpellings();

    CaseInsensitiveNames() {
      super(DB, b -> new BrokenStores.CaseInsensitiveNames(b, SPELLINGS));
    }
  }

  /** Skips the argument checks. */
  static final class SkipsArgumentChecks extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    SkipsArgumentChecks() {
      super(DB, BrokenStores.SkipsArgumentChecks::new);
    }
  }

  /** Declares 64 ranges per commit at most, accepts any number. */
  static final class IgnoresDeclaredLimit extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    IgnoresDeclaredLimit() {
      super(
          DB,
          b -> new BrokenStores.Claiming(b, null, null, 64),
          Guarantee.IDEMPOTENT,
          true,
          Integer.MAX_VALUE);
    }
  }

  /** Declares 1 000 ranges per commit, but refuses commits touching more than 8 topics. */
  static final class RefusesManyTopicsBelowLimit extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    RefusesManyTopicsBelowLimit() {
      super(
          DB, BrokenStores.RefusesManyTopicsBelowLimit::new, Guarantee.TRANSACTIONAL, true, 1_000);
    }
  }

  /** Declares 300 ranges per commit; past it, writes topic by topic before refusing. */
  static final class HalfWritesPastLimit extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    HalfWritesPastLimit() {
      super(DB, BrokenStores.HalfWritesPastLimit::new, Guarantee.TRANSACTIONAL, true, 300);
    }
  }

  /** Declares no limit, refuses more than 2 000 ranges. */
  static final class RefusesLargeCommits extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    RefusesLargeCommits() {
      super(DB, BrokenStores.RefusesLargeCommits::new);
    }
  }

  /** Initialize overwrites what stands. */
  static final class InitializeOverwrites extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    InitializeOverwrites() {
      super(DB, BrokenStores.InitializeOverwrites::new);
    }
  }

  /** Reads a missing position as 0. */
  static final class ReadsMissingAsZero extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    ReadsMissingAsZero() {
      super(DB, BrokenStores.ReadsMissingAsZero::new);
    }
  }

  /** delete(group) never returns. */
  static final class HangsOnDeleteGroup extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    HangsOnDeleteGroup() {
      super(DB, BrokenStores.HangsOnDeleteGroup::new);
    }
  }

  /** IDEMPOTENT, but advances offsets although the writer failed. */
  static final class MovesOffsetsWhenWriterFails extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    MovesOffsetsWhenWriterFails() {
      super(DB, BrokenStores.MovesOffsetsWhenWriterFails::new, Guarantee.IDEMPOTENT, true, 64);
    }
  }

  /** Hides the writer's exception one level deeper than the contract says. */
  static final class WrapsWriterFailureTwice extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    WrapsWriterFailureTwice() {
      super(DB, BrokenStores.WrapsWriterFailureTwice::new);
    }
  }

  /** Retries on a version change by running the writer again into the same unit of work. */
  static final class RerunsWriterIntoSameTransaction extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();
    private static final BrokenStores.Versions VERSIONS = new BrokenStores.Versions();

    RerunsWriterIntoSameTransaction() {
      super(DB, b -> new BrokenStores.RerunsWriterIntoSameTransaction(b, VERSIONS));
    }
  }

  /** Trims names at both ends. */
  static final class TrimsNames extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();
    private static final Map<String, String> SPELLINGS = BrokenStores.Conflating.newSpellings();

    TrimsNames() {
      super(DB, b -> new BrokenStores.TrimsNames(b, SPELLINGS));
    }
  }

  /** Keeps partition numbers in 16 bits. */
  static final class ShortPartitionNumbers extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();
    private static final Map<io.tandem.spi.Partition, io.tandem.spi.Partition> PARTITIONS =
        BrokenStores.Conflating.newPartitions();

    ShortPartitionNumbers() {
      super(DB, b -> new BrokenStores.ShortPartitionNumbers(b, PARTITIONS));
    }
  }

  /** IDEMPOTENT, moves positions before writing results. */
  static final class AdvancesBeforeResults extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    AdvancesBeforeResults() {
      super(DB, BrokenStores.AdvancesBeforeResults::new, Guarantee.IDEMPOTENT, true, 64);
    }
  }

  /** Correct: a refused login is a non-retriable configuration error at open. */
  static final class RefusesCredentials extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    RefusesCredentials() {
      super(DB, MemoryOffsetStore.Builder::build);
    }

    @Override
    protected OffsetStore<MemoryTransaction> newStoreWithRefusedCredentials() {
      throw new io.tandem.spi.StoreAccessDeniedException(
          "memory: user 'tck' refused", new SecurityException("bad password"));
    }
  }

  /** Reports a refused login as an outage, so a consumer would retry it forever. */
  static final class RetriesRefusedCredentials extends MemoryKit {
    private static final MemoryDatabase DB = new MemoryDatabase();

    RetriesRefusedCredentials() {
      super(DB, MemoryOffsetStore.Builder::build);
    }

    @Override
    protected OffsetStore<MemoryTransaction> newStoreWithRefusedCredentials() {
      throw new io.tandem.spi.StoreUnavailableException(
          "memory: login refused; retry later", new SecurityException("bad password"));
    }
  }
}
