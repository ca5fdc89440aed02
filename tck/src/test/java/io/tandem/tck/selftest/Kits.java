package io.tandem.tck.selftest;

import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetStore;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import java.util.Map;
import java.util.Set;

/**
 * Kit subclasses over the in-memory store: correct references and deliberately broken stores. They
 * live in a package other than the kit's, as a third party's would, and are run through the JUnit
 * launcher by {@link KitSelfTest} (their names do not match Surefire's patterns on purpose).
 */
final class Kits {
  private Kits() {}

  /** One kit run over one configuration of the in-memory store. */
  abstract static class MemoryKit extends OffsetStoreVerification<MemoryTx> {
    private final MemoryBackend backend;
    private final Guarantee guarantee;
    private final boolean atomic;
    private final int maxRanges;
    private final Set<Flaw> flaws;

    MemoryKit(
        MemoryBackend backend, Guarantee guarantee, boolean atomic, int maxRanges, Flaw... flaws) {
      this.backend = backend;
      this.guarantee = guarantee;
      this.atomic = atomic;
      this.maxRanges = maxRanges;
      this.flaws = Set.of(flaws);
    }

    @Override
    protected OffsetStore<MemoryTx> newStore() {
      return new MemoryStore(backend, guarantee, atomic, maxRanges, flaws);
    }

    @Override
    protected ResultProbe<MemoryTx> probe() {
      return new ResultProbe<>() {
        @Override
        public io.tandem.spi.ResultWriter<MemoryTx> put(
            String namespace, Map<String, String> entries) {
          Map<String, String> copy = Map.copyOf(entries);
          return tx -> copy.forEach((k, v) -> tx.put(namespace, k, v));
        }

        @Override
        public Map<String, String> read(String namespace) {
          return backend.readResults(namespace);
        }
      };
    }
  }

  /** Correct, TRANSACTIONAL, atomic across partitions, no limit on ranges. */
  static final class TransactionalReference extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    TransactionalReference() {
      super(BACKEND, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE);
    }
  }

  /** Correct, IDEMPOTENT, offsets atomic across partitions, at most 64 ranges per commit. */
  static final class IdempotentReference extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    IdempotentReference() {
      super(BACKEND, Guarantee.IDEMPOTENT, true, 64);
    }
  }

  /** Correct, TRANSACTIONAL, honestly declares no cross-partition atomicity, 16 ranges at most. */
  static final class PerPartitionReference extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    PerPartitionReference() {
      super(BACKEND, Guarantee.TRANSACTIONAL, false, 16);
    }
  }

  /** Claims TRANSACTIONAL, but results bypass the transaction. */
  static final class WritesOutsideTransaction extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    WritesOutsideTransaction() {
      super(
          BACKEND,
          Guarantee.TRANSACTIONAL,
          true,
          Integer.MAX_VALUE,
          Flaw.WRITES_OUTSIDE_TRANSACTION);
    }
  }

  /** Never checks contiguity. */
  static final class IgnoresFrom extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    IgnoresFrom() {
      super(BACKEND, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE, Flaw.IGNORES_FROM);
    }
  }

  /** Reports only the first conflict of a commit. */
  static final class ReportsFirstConflictOnly extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    ReportsFirstConflictOnly() {
      super(
          BACKEND,
          Guarantee.TRANSACTIONAL,
          true,
          Integer.MAX_VALUE,
          Flaw.REPORTS_FIRST_CONFLICT_ONLY);
    }
  }

  /** Claims atomicity across partitions, but moves the matching ranges of a conflicting commit. */
  static final class NotAtomicAcrossPartitions extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    NotAtomicAcrossPartitions() {
      super(
          BACKEND,
          Guarantee.TRANSACTIONAL,
          true,
          Integer.MAX_VALUE,
          Flaw.MOVES_MATCHING_RANGES_ON_CONFLICT);
    }
  }

  /** Loses every position when a store instance closes. */
  static final class ForgetsOnClose extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    ForgetsOnClose() {
      super(BACKEND, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE, Flaw.FORGETS_ON_CLOSE);
    }
  }

  /** Checks, then writes without holding the lock: concurrent commits both win. */
  static final class ChecksThenWritesUnlocked extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    ChecksThenWritesUnlocked() {
      super(
          BACKEND,
          Guarantee.TRANSACTIONAL,
          true,
          Integer.MAX_VALUE,
          Flaw.CHECKS_THEN_WRITES_UNLOCKED);
    }
  }

  /** Keeps positions as doubles. */
  static final class StoresPositionsAsDouble extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    StoresPositionsAsDouble() {
      super(
          BACKEND,
          Guarantee.TRANSACTIONAL,
          true,
          Integer.MAX_VALUE,
          Flaw.STORES_POSITIONS_AS_DOUBLE);
    }
  }

  /** Matches group and topic names ignoring case. */
  static final class CaseInsensitiveNames extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(true);

    CaseInsensitiveNames() {
      super(BACKEND, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE, Flaw.CASE_INSENSITIVE_NAMES);
    }
  }

  /** Skips the argument checks. */
  static final class SkipsArgumentChecks extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    SkipsArgumentChecks() {
      super(BACKEND, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE, Flaw.SKIPS_ARGUMENT_CHECKS);
    }
  }

  /** Declares 64 ranges per commit at most, accepts any number. */
  static final class IgnoresDeclaredLimit extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    IgnoresDeclaredLimit() {
      super(BACKEND, Guarantee.IDEMPOTENT, true, 64, Flaw.IGNORES_DECLARED_LIMIT);
    }
  }

  /** Initialize overwrites what stands. */
  static final class InitializeOverwrites extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    InitializeOverwrites() {
      super(BACKEND, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE, Flaw.INITIALIZE_OVERWRITES);
    }
  }

  /** Reads a missing position as 0. */
  static final class ReadsMissingAsZero extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    ReadsMissingAsZero() {
      super(BACKEND, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE, Flaw.READS_MISSING_AS_ZERO);
    }
  }

  /** delete(group) never returns. */
  static final class HangsOnDeleteGroup extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    HangsOnDeleteGroup() {
      super(BACKEND, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE, Flaw.HANGS_ON_DELETE_GROUP);
    }
  }

  /** IDEMPOTENT, but advances offsets although the writer failed. */
  static final class MovesOffsetsWhenWriterFails extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    MovesOffsetsWhenWriterFails() {
      super(BACKEND, Guarantee.IDEMPOTENT, true, 64, Flaw.MOVES_OFFSETS_WHEN_WRITER_FAILS);
    }
  }

  /** Hides the writer's exception one level deeper than the contract says. */
  static final class WrapsWriterFailureTwice extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    WrapsWriterFailureTwice() {
      super(
          BACKEND,
          Guarantee.TRANSACTIONAL,
          true,
          Integer.MAX_VALUE,
          Flaw.WRAPS_WRITER_FAILURE_TWICE);
    }
  }

  /** Correct: a refused login is a non-retriable configuration error at open. */
  static final class RefusesCredentials extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    RefusesCredentials() {
      super(BACKEND, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE);
    }

    @Override
    protected OffsetStore<MemoryTx> newStoreWithRefusedCredentials() {
      throw new io.tandem.spi.StoreAccessDeniedException(
          "memory: user 'tck' refused", new SecurityException("bad password"));
    }
  }

  /** Reports a refused login as an outage, so a consumer would retry it forever. */
  static final class RetriesRefusedCredentials extends MemoryKit {
    private static final MemoryBackend BACKEND = new MemoryBackend(false);

    RetriesRefusedCredentials() {
      super(BACKEND, Guarantee.TRANSACTIONAL, true, Integer.MAX_VALUE);
    }

    @Override
    protected OffsetStore<MemoryTx> newStoreWithRefusedCredentials() {
      throw new io.tandem.spi.StoreUnavailableException(
          "memory: login refused; retry later", new SecurityException("bad password"));
    }
  }
}
