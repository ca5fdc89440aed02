package io.tandem.tck.selftest;

/** A deliberate contract violation of the in-memory store, to prove the kit catches it. */
enum Flaw {
  /** Results go straight to the backend as the writer runs, before the check, never rolled back. */
  WRITES_OUTSIDE_TRANSACTION,
  /** Never compares the stored position with {@code from}: every commit moves to {@code until}. */
  IGNORES_FROM,
  /** Reports only the first mismatching range of a commit. */
  REPORTS_FIRST_CONFLICT_ONLY,
  /** Advances each matching range even when another range of the commit conflicts. */
  MOVES_MATCHING_RANGES_ON_CONFLICT,
  /** close() wipes every stored position, like an in-memory database dropped with its last user. */
  FORGETS_ON_CLOSE,
  /** Checks positions, releases the lock, then writes: a read-then-write race. */
  CHECKS_THEN_WRITES_UNLOCKED,
  /** Keeps positions as doubles: above 2^53 they lose precision. */
  STORES_POSITIONS_AS_DOUBLE,
  /** Compares group and topic names ignoring case, like a default MySQL collation. */
  CASE_INSENSITIVE_NAMES,
  /** Skips the StoreArguments checks. */
  SKIPS_ARGUMENT_CHECKS,
  /** Declares a limit of ranges per commit but accepts more. */
  IGNORES_DECLARED_LIMIT,
  /** initialize overwrites existing positions (an upsert instead of insert-if-absent). */
  INITIALIZE_OVERWRITES,
  /** positions(group, partitions) answers 0 for partitions with no stored position. */
  READS_MISSING_AS_ZERO,
  /** An idempotent store that still advances offsets when the writer failed. */
  MOVES_OFFSETS_WHEN_WRITER_FAILS,
  /** Wraps the writer's exception in another exception before the ResultWriteException. */
  WRAPS_WRITER_FAILURE_TWICE,
  /** delete(group) blocks until interrupted, like a call waiting on a lock nobody releases. */
  HANGS_ON_DELETE_GROUP,
  /** prepare() drops and recreates the offsets, like DDL without IF NOT EXISTS after a DROP. */
  PREPARE_RECREATES
}
