package io.tandem.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tandem.spi.BatchTooLargeException;
import io.tandem.spi.Capabilities;
import io.tandem.spi.InvalidBatchException;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestInstance.Lifecycle;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

/**
 * The compatibility kit for {@link OffsetStore}: extend it once per backend and run it with JUnit
 * 5. Every rule of {@code tck/RULES.md} is one test method of this class, in the order of its
 * contract section; a test's display name begins with its rule id ({@code [C3] ...}), so does its
 * method name ({@code c3_...}), and its javadoc says what to check when it fails.
 *
 * <p>The rules are methods of this class itself, not of nested section classes: inherited, they
 * belong to the backend's own test class, so JUnit reports (Surefire's and Failsafe's XML, IDEs, CI
 * dashboards) count every rule under that class, e.g. {@code io.acme.AcmeTckIT}, and two backends'
 * results never merge under a shared section name. (With {@code @Nested} sections, Surefire 3.5.4
 * wrote {@code tests="0"} for the backend's class and the section title as every test case's class
 * name.)
 *
 * <p>A subclass supplies {@link #newStore()} (a fresh store on the backend under test) and {@link
 * #probe()} (writes and reads keyed results through the store's handle):
 *
 * <pre>{@code
 * class AcmeOffsetStoreTckIT extends OffsetStoreVerification<Connection> {
 *   protected OffsetStore<Connection> newStore() { return AcmeOffsetStore.open(DATA); }
 *   protected ResultProbe<Connection> probe() { return new AcmeResultProbe(DATA); }
 * }
 * }</pre>
 *
 * <p>The kit opens stores through {@link #newStore()} and closes every one it opened after each
 * test. Every test uses group, topic and namespace names of its own (they contain the rule id and a
 * random run id), so all tests can share one backend server, run in parallel, and run again against
 * a server that keeps data. Each test and lifecycle method is bounded by the system property {@code
 * tandem.tck.timeout} (seconds, default 60). Every test gets a new instance ({@link
 * Lifecycle#PER_METHOD}, whatever the project's default), so tests share no store and no state.
 *
 * <p>Capability rules (transactional results, atomicity across partitions, bounded batch size) are
 * skipped with a reason when the store's {@link OffsetStore#capabilities()} do not declare them;
 * what a store declares, it is held to.
 *
 * @param <T> the store's unit-of-work handle type
 * @since 0.1
 */
@ExtendWith(TckTimeout.class)
@TestInstance(Lifecycle.PER_METHOD)
public abstract class OffsetStoreVerification<T> {

  /** Distinguishes runs against a server that keeps data from earlier runs. */
  private static final String RUN = randomRunId();

  private static final AtomicLong SEQUENCE = new AtomicLong();

  private static final Pattern RULE_ID = Pattern.compile("^\\[([A-Z][0-9]+)]");

  /** Threads in each concurrency rule. */
  private static final int THREADS = 8;

  private final List<OffsetStore<T>> opened = Collections.synchronizedList(new ArrayList<>());
  private volatile OffsetStore<T> current;
  private volatile ResultProbe<T> probe;
  private volatile Capabilities capabilities;
  private volatile String rule = "X0";

  /** For subclasses. */
  protected OffsetStoreVerification() {}

  /**
   * A new store instance on the backend under test, ready to use. The kit calls it at least once
   * per test and again to check durability (close, then open a new instance) and concurrency (two
   * instances at once); it closes every store it obtained. All instances must see the same data.
   *
   * @return a new, open store; never null
   * @throws Exception if the store cannot be opened; the test fails with it
   */
  protected abstract OffsetStore<T> newStore() throws Exception;

  /**
   * A store opened on the backend under test with credentials it refuses (a wrong password, an
   * unknown user), for rule F1. Opening may throw, or may succeed and leave the refusal to the
   * first operation; either way the kit closes what it gets. Optional: by default F1 is skipped
   * with a reason, for backends whose test server does not enforce credentials. Override it to call
   * {@code Assumptions.abort(reason)} with your own reason where enforcing them is too costly.
   *
   * @return a store whose credentials the backend refuses; never null
   * @throws Exception what opening throws; for F1 that should be a {@link
   *     StoreConfigurationException}
   */
  protected OffsetStore<T> newStoreWithRefusedCredentials() throws Exception {
    Assumptions.abort(
        "no store with refused credentials: override newStoreWithRefusedCredentials() where the"
            + " backend's test server enforces credentials");
    throw new AssertionError("unreachable");
  }

  /**
   * The probe through which the kit writes results inside commits and reads them back. May return
   * the same instance every time.
   *
   * @return the probe; never null
   */
  protected abstract ResultProbe<T> probe();

  /**
   * Records which rule runs, so that the names the test creates carry its id. Not for subclasses to
   * call.
   *
   * @param info the running test
   */
  @BeforeEach
  protected final void tckBeforeEach(TestInfo info) {
    Matcher m = RULE_ID.matcher(info.getDisplayName());
    rule = m.find() ? m.group(1) : "X0";
  }

  /**
   * Closes every store the test opened, newest first. A {@code close()} that throws fails the test:
   * close must be quiet and idempotent. Not for subclasses to call.
   */
  @AfterEach
  protected final void tckAfterEach() {
    List<OffsetStore<T>> toClose;
    synchronized (opened) {
      toClose = new ArrayList<>(opened);
      opened.clear();
    }
    Collections.reverse(toClose);
    RuntimeException failure = null;
    for (OffsetStore<T> s : toClose) {
      try {
        s.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    current = null;
    if (failure != null) {
      fail(
          "closing a store after rule "
              + rule
              + " threw. If this fails, check: close() must release resources quietly and be"
              + " idempotent (it may be called on a store already closed)",
          failure);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Rules
  // ---------------------------------------------------------------------------------------------

  // ---------------------------------------------------------------- P: reading positions

  /**
   * P1. A partition with no stored position is absent from the map {@code positions} returns: not a
   * null value, not a sentinel such as -1 or 0.
   *
   * <p>If this fails, check: the read maps "no row/key/node" to an absent key, and does not default
   * missing partitions.
   */
  @Test
  @DisplayName("[P1] a partition with no stored position is absent from positions")
  void p1_unknownPartitionIsAbsent() {
    String g = group();
    Partition p = partition(topic(), 0);
    assertEquals(
        Map.of(),
        store().positions(g, List.of(p)),
        "positions of a partition never written (group '" + g + "')");
    assertEquals(Map.of(), store().positions(g), "positions(group) of a group never written");
  }

  /**
   * P2. {@code positions(group, [])} returns an empty map without error.
   *
   * <p>If this fails, check: an empty {@code IN ()} list or an empty multi-get is not sent to the
   * server (many servers reject it).
   */
  @Test
  @DisplayName("[P2] positions of an empty collection is an empty map")
  void p2_emptyCollectionGivesEmptyMap() {
    String g = group();
    store().initialize(g, Map.of(partition(topic(), 0), 1L));
    assertEquals(Map.of(), store().positions(g, List.of()), "positions(group, [])");
  }

  /**
   * P3. {@code positions(group, partitions)} returns exactly the asked partitions that have a
   * position, and none other of the group.
   *
   * <p>If this fails, check: the read filters by topic and partition, not by group alone.
   */
  @Test
  @DisplayName("[P3] positions returns only the partitions asked for")
  void p3_onlyAskedPartitions() {
    String g = group();
    String t = topic();
    store().initialize(g, Map.of(partition(t, 0), 10L, partition(t, 1), 11L, partition(t, 2), 12L));
    assertPositions(
        "asking for " + partition(t, 1) + " and unknown " + partition(t, 7),
        g,
        List.of(partition(t, 1), partition(t, 7)),
        Map.of(partition(t, 1), 11L));
  }

  /**
   * P4. Positions are 64-bit: values above 2^53 and up to {@link Long#MAX_VALUE} round-trip exactly
   * through initialize, commit and positions.
   *
   * <p>If this fails, check: positions are stored as 64-bit integers, not doubles (JSON numbers,
   * Lua numbers, BSON double) or 32-bit ints, and parsed with {@link Long#parseLong}.
   */
  @Test
  @DisplayName("[P4] positions up to Long.MAX_VALUE round-trip exactly")
  void p4_largePositionsRoundTrip() {
    String g = group();
    String t = topic();
    long above53 = (1L << 53) + 1;
    Partition a = partition(t, 0);
    Partition b = partition(t, 1);
    store().initialize(g, Map.of(a, above53, b, Long.MAX_VALUE - 1));
    assertPositions(
        "after initialize", g, List.of(a, b), Map.of(a, above53, b, Long.MAX_VALUE - 1));
    store()
        .commit(
            g,
            List.of(
                new OffsetRange(a, above53, above53 + 2),
                new OffsetRange(b, Long.MAX_VALUE - 1, Long.MAX_VALUE)),
            ResultWriter.none());
    assertPositions(
        "after committing up to Long.MAX_VALUE",
        g,
        List.of(a, b),
        Map.of(a, above53 + 2, b, Long.MAX_VALUE));
  }

  /**
   * P5. Position 0 is a stored position like any other: it reads back as 0, is not treated as
   * absent, and a commit from 0 succeeds.
   *
   * <p>If this fails, check: 0 (or an empty string) is not used as the "no position" marker.
   */
  @Test
  @DisplayName("[P5] position 0 is stored and read back, distinct from no position")
  void p5_zeroIsAPosition() {
    String g = group();
    Partition p = partition(topic(), 0);
    assertEquals(Map.of(p, 0L), store().initialize(g, Map.of(p, 0L)), "initialize at 0");
    assertPositions("after initialize at 0", g, List.of(p), Map.of(p, 0L));
    assertEquals(Map.of(p, 0L), store().positions(g), "positions(group) after initialize at 0");
    store().commit(g, List.of(new OffsetRange(p, 0, 3)), ResultWriter.none());
    assertPositions("after committing [0, 3)", g, List.of(p), Map.of(p, 3L));
  }

  // ---------------------------------------------------------------- I: initialize

  /**
   * I1. {@code initialize} stores the given position where none is stored and returns it.
   *
   * <p>If this fails, check: the insert-if-absent statement actually inserts, and the return value
   * is read after the insert.
   */
  @Test
  @DisplayName("[I1] initialize stores a position where none is and returns it")
  void i1_insertsWhenAbsent() {
    String g = group();
    Partition p = partition(topic(), 3);
    assertEquals(Map.of(p, 42L), store().initialize(g, Map.of(p, 42L)), "initialize returned");
    assertPositions("after initialize", g, List.of(p), Map.of(p, 42L));
  }

  /**
   * I2. An existing position wins: {@code initialize} does not change it and returns the position
   * that stands, not the one asked for.
   *
   * <p>If this fails, check: initialize is an insert-if-absent ({@code ON CONFLICT DO NOTHING},
   * {@code HSETNX}, create without overwrite), and it returns the stored value, not the argument.
   */
  @Test
  @DisplayName("[I2] initialize keeps an existing position and returns the one that stands")
  void i2_existingWins() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 5L));
    store().commit(g, List.of(new OffsetRange(p, 5, 9)), ResultWriter.none());
    assertEquals(
        Map.of(p, 9L),
        store().initialize(g, Map.of(p, 100L)),
        "initialize over an existing position 9 must return 9");
    assertPositions("after initialize over an existing position", g, List.of(p), Map.of(p, 9L));
  }

  /**
   * I3. In one call mixing known and unknown partitions, known ones keep their positions, unknown
   * ones get the given start, and the result lists every partition of the call.
   *
   * <p>If this fails, check: one existing partition does not abort the inserts of the others, and
   * the returned map covers every partition asked.
   */
  @Test
  @DisplayName("[I3] initialize of a mix keeps known positions, inserts unknown ones, returns all")
  void i3_mixKnownAndUnknown() {
    String g = group();
    String t = topic();
    Partition known = partition(t, 0);
    Partition fresh = partition(t, 1);
    store().initialize(g, Map.of(known, 7L));
    Map<Partition, Long> expected = Map.of(known, 7L, fresh, 0L);
    assertEquals(
        expected, store().initialize(g, Map.of(known, 0L, fresh, 0L)), "initialize returned");
    assertPositions("after mixed initialize", g, List.of(known, fresh), expected);
  }

  /**
   * I4. What {@code initialize} returns is what {@code positions} then reads, for several topics
   * and partitions at once.
   *
   * <p>If this fails, check: initialize and positions use the same key encoding for topic and
   * partition.
   */
  @Test
  @DisplayName("[I4] positions after initialize agree with what initialize returned")
  void i4_initializeAndPositionsAgree() {
    String g = group();
    Map<Partition, Long> starts = new HashMap<>();
    for (int i = 0; i < 3; i++) {
      String t = topic();
      for (int n = 0; n < 4; n++) {
        starts.put(partition(t, n), (long) (i * 100 + n));
      }
    }
    Map<Partition, Long> returned = store().initialize(g, starts);
    assertEquals(starts, returned, "initialize of unknown partitions returns the starts");
    assertPositions("after initialize", g, starts.keySet(), returned);
    assertEquals(returned, store().positions(g), "positions(group) after initialize");
  }

  /**
   * I5. {@code initialize} of an empty map returns an empty map and stores nothing: the group does
   * not appear in {@code groups()}.
   *
   * <p>If this fails, check: an empty call does not create a group record (an empty hash, a group
   * node, a document without partitions that groups() lists).
   */
  @Test
  @DisplayName("[I5] initialize of an empty map returns an empty map and creates no group")
  void i5_emptyInitialize() {
    String g = group();
    assertEquals(Map.of(), store().initialize(g, Map.of()), "initialize(group, {})");
    assertFalse(
        store().groups().contains(g),
        "groups() lists '" + g + "' although only an empty initialize was called");
  }

  // ---------------------------------------------------------------- C: commit and contiguity

  /**
   * C1. A commit whose range starts at the stored position moves it to the range's end.
   *
   * <p>If this fails, check: the conditional update compares with {@code from} and writes {@code
   * until}.
   */
  @Test
  @DisplayName("[C1] a commit from the stored position moves it to until")
  void c1_exactFromMovesToUntil() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 10L));
    store().commit(g, List.of(new OffsetRange(p, 10, 25)), ResultWriter.none());
    assertPositions("after committing [10, 25)", g, List.of(p), Map.of(p, 25L));
  }

  /**
   * C2. The results a commit's writer wrote are visible to a fresh reader as soon as {@code commit}
   * returns.
   *
   * <p>If this fails, check: the transaction is committed (not left open), the writer's handle is
   * the one committed, and no write is buffered after return.
   */
  @Test
  @DisplayName("[C2] a committed batch's results are visible when commit returns")
  void c2_resultsVisibleAfterCommit() {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    Map<String, String> entries = entries("r", 5);
    store().commit(g, List.of(new OffsetRange(p, 0, 5)), put(ns, entries));
    assertResults("after a successful commit", ns, entries);
  }

  /**
   * C3. A range that starts after the stored position (a gap) is a conflict; nothing of the commit
   * is written and no position moves.
   *
   * <p>If this fails, check: the store compares the stored position with {@code from} for equality,
   * not {@code <=}, before writing.
   */
  @Test
  @DisplayName("[C3] a gap between stored position and range start is a conflict")
  void c3_gapIsConflict() {
    conflictScenario(10L, 12, 20, "a gap: stored 10, range [12, 20)");
  }

  /**
   * C4. A range that starts before the stored position (an overlap) is a conflict; nothing of the
   * commit is written and no position moves.
   *
   * <p>If this fails, check: the comparison is equality, not {@code >=}.
   */
  @Test
  @DisplayName("[C4] a range starting before the stored position (overlap) is a conflict")
  void c4_overlapIsConflict() {
    conflictScenario(10L, 5, 15, "an overlap: stored 10, range [5, 15)");
  }

  /**
   * C5. Committing a range again after it was committed (a stale {@code from}) is a conflict, and
   * the second writer's results do not stay.
   *
   * <p>If this fails, check: the check reads the current stored position inside the commit, not a
   * cached one.
   */
  @Test
  @DisplayName("[C5] committing the same range twice (stale from) is a conflict")
  void c5_staleFromIsConflict() {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    store().commit(g, List.of(new OffsetRange(p, 0, 10)), put(ns, Map.of("first", "1")));
    Map<String, String> second = Map.of("second", "2");
    OffsetConflictException e =
        expectConflict(
            "committing [0, 10) again after it was committed",
            () -> store().commit(g, List.of(new OffsetRange(p, 0, 10)), put(ns, second)));
    assertConflicts(e, g, List.of(Conflict.of(p, 0, 10)));
    assertPositions("after the stale commit", g, List.of(p), Map.of(p, 10L));
    Map<String, String> expected = new HashMap<>(Map.of("first", "1"));
    assertFailedCommitResults("after the stale commit", ns, expected, second);
  }

  /**
   * C6. A range on a partition with no stored position is a conflict whose found position is empty;
   * the commit does not create the position.
   *
   * <p>If this fails, check: a missing row/key is a conflict (an {@code UPDATE} of 0 rows, a nil
   * {@code HGET}, a missing node), not an implicit insert.
   */
  @Test
  @DisplayName("[C6] a range on a partition with no stored position is a conflict, found empty")
  void c6_missingPositionIsConflict() {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    Map<String, String> attempted = Map.of("k", "v");
    OffsetConflictException e =
        expectConflict(
            "committing [0, 5) on a partition with no position",
            () -> store().commit(g, List.of(new OffsetRange(p, 0, 5)), put(ns, attempted)));
    assertConflicts(e, g, List.of(Conflict.missing(p, 0)));
    assertPositions("after the conflicting commit", g, List.of(p), Map.of());
    assertFailedCommitResults("after the conflicting commit", ns, Map.of(), attempted);
  }

  /**
   * C7. When several ranges of one commit mismatch, one {@link OffsetConflictException} reports
   * every one, each with expected and found position (empty when none is stored).
   *
   * <p>If this fails, check: the store checks every range before throwing, instead of stopping at
   * the first mismatch.
   */
  @Test
  @DisplayName(
      "[C7] every mismatching partition is reported in one exception with expected and found")
  void c7_allConflictsReported() {
    assumeRanges(3);
    String g = group();
    String ns = namespace();
    String t = topic();
    Partition gap = partition(t, 0);
    Partition overlap = partition(t, 1);
    Partition missing = partition(t, 2);
    store().initialize(g, Map.of(gap, 10L, overlap, 10L));
    Map<String, String> attempted = Map.of("k", "v");
    OffsetConflictException e =
        expectConflict(
            "a commit where all three ranges mismatch",
            () ->
                store()
                    .commit(
                        g,
                        List.of(
                            new OffsetRange(gap, 12, 20),
                            new OffsetRange(overlap, 4, 20),
                            new OffsetRange(missing, 0, 20)),
                        put(ns, attempted)));
    assertConflicts(
        e,
        g,
        List.of(
            Conflict.of(gap, 12, 10), Conflict.of(overlap, 4, 10), Conflict.missing(missing, 0)));
    assertPositions(
        "after the conflicting commit",
        g,
        List.of(gap, overlap, missing),
        Map.of(gap, 10L, overlap, 10L));
    assertFailedCommitResults("after the conflicting commit", ns, Map.of(), attempted);
  }

  /**
   * C8. A conflict names the commit's group and lists only the partitions that mismatched, not
   * those whose position matched.
   *
   * <p>If this fails, check: the conflict list is built from the failed comparisons only, and the
   * exception gets the caller's group.
   */
  @Test
  @DisplayName("[C8] a conflict names the group and lists only the mismatching partitions")
  void c8_conflictListsOnlyMismatches() {
    assumeRanges(3);
    String g = group();
    String t = topic();
    Partition ok1 = partition(t, 0);
    Partition bad = partition(t, 1);
    Partition ok2 = partition(t, 2);
    store().initialize(g, Map.of(ok1, 0L, bad, 50L, ok2, 0L));
    OffsetConflictException e =
        expectConflict(
            "a commit where only " + bad + " mismatches",
            () ->
                store()
                    .commit(
                        g,
                        List.of(
                            new OffsetRange(ok1, 0, 5),
                            new OffsetRange(bad, 40, 60),
                            new OffsetRange(ok2, 0, 5)),
                        ResultWriter.none()));
    assertConflicts(e, g, List.of(Conflict.of(bad, 40, 50)));
    assertPositions("the mismatching partition", g, List.of(bad), Map.of(bad, 50L));
  }

  /**
   * C9. An empty range {@code [n, n)} at the stored position succeeds, runs the writer, and moves
   * nothing.
   *
   * <p>If this fails, check: an update that writes the same value still counts as matched (MySQL
   * reports 0 "changed" rows unless the client asks for found rows), and empty ranges are not
   * rejected.
   */
  @Test
  @DisplayName("[C9] an empty range at the stored position succeeds and moves nothing")
  void c9_emptyRangeChecksWithoutMoving() {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 7L));
    store().commit(g, List.of(new OffsetRange(p, 7, 7)), put(ns, Map.of("k", "v")));
    assertPositions("after committing the empty range [7, 7)", g, List.of(p), Map.of(p, 7L));
    assertResults("after committing the empty range [7, 7)", ns, Map.of("k", "v"));
  }

  /**
   * C10. An empty range {@code [n, n)} where the stored position is not {@code n} is a conflict: an
   * empty range still checks.
   *
   * <p>If this fails, check: empty ranges are not skipped before the contiguity check.
   */
  @Test
  @DisplayName("[C10] an empty range away from the stored position is a conflict")
  void c10_emptyRangeStillChecks() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 7L));
    OffsetConflictException e =
        expectConflict(
            "committing the empty range [3, 3) at stored position 7",
            () -> store().commit(g, List.of(new OffsetRange(p, 3, 3)), ResultWriter.none()));
    assertConflicts(e, g, List.of(Conflict.of(p, 3, 7)));
    assertPositions("after the conflicting empty range", g, List.of(p), Map.of(p, 7L));
  }

  /**
   * C11. A commit with {@link ResultWriter#none()} moves positions and writes no result.
   *
   * <p>If this fails, check: the store does not require the writer to write something.
   */
  @Test
  @DisplayName("[C11] a commit with ResultWriter.none() moves positions only")
  void c11_offsetsOnly() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    store().commit(g, List.of(new OffsetRange(p, 0, 4)), ResultWriter.none());
    assertPositions("after an offsets-only commit", g, List.of(p), Map.of(p, 4L));
  }

  /**
   * C12. A commit over several partitions of several topics moves each to its own {@code until}.
   *
   * <p>If this fails, check: every range's update is part of the commit, and ranges are not mixed
   * up by partition number across topics.
   */
  @Test
  @DisplayName("[C12] a commit over several partitions moves each to its until")
  void c12_severalPartitions() {
    assumeRanges(4);
    String g = group();
    String t1 = topic();
    String t2 = topic();
    Map<Partition, Long> starts =
        Map.of(
            partition(t1, 0),
            0L,
            partition(t1, 1),
            5L,
            partition(t2, 0),
            100L,
            partition(t2, 1),
            7L);
    store().initialize(g, starts);
    List<OffsetRange> ranges = new ArrayList<>();
    Map<Partition, Long> expected = new HashMap<>();
    long len = 1;
    for (Map.Entry<Partition, Long> e : new TreeMap<>(starts).entrySet()) {
      ranges.add(new OffsetRange(e.getKey(), e.getValue(), e.getValue() + len));
      expected.put(e.getKey(), e.getValue() + len);
      len += 3;
    }
    String ns = namespace();
    store().commit(g, ranges, put(ns, Map.of("k", "v")));
    assertPositions("after committing " + ranges, g, starts.keySet(), expected);
    assertResults("after committing " + ranges, ns, Map.of("k", "v"));
  }

  /**
   * C13. 100 sequential commits, each from where the previous ended, all succeed; the position ends
   * at the sum of their lengths and every batch's results are present.
   *
   * <p>If this fails, check: the position written by one commit is the one the next compares with
   * (no caching, no off-by-one between {@code until} and the next {@code from}).
   */
  @Test
  @DisplayName("[C13] 100 sequential commits advance the position contiguously")
  void c13_sequentialCommits() {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    long position = 0;
    Map<String, String> all = new HashMap<>();
    for (int i = 0; i < 100; i++) {
      long until = position + 1 + (i % 5);
      Map<String, String> batch = Map.of("b" + i, Long.toString(position));
      store().commit(g, List.of(new OffsetRange(p, position, until)), put(ns, batch));
      all.putAll(batch);
      position = until;
    }
    assertPositions("after 100 sequential commits", g, List.of(p), Map.of(p, position));
    assertResults("after 100 sequential commits", ns, all);
  }

  // ---------------------------------------------------------------- T: atomicity of results and
  // positions

  /**
   * T1. A writer that throws fails the commit with {@link ResultWriteException} whose cause is the
   * very exception the writer threw (here a checked {@link IOException}).
   *
   * <p>If this fails, check: the store catches {@link Throwable}/{@link Exception} from the writer,
   * rolls back and wraps it, instead of letting a checked exception escape as-is or wrapping it in
   * another layer.
   */
  @Test
  @DisplayName("[T1] a writer that throws fails the commit with ResultWriteException, cause kept")
  void t1_writerFailureIsResultWriteException() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    IOException boom = new IOException("tck: writer fails on purpose");
    ResultWriteException e =
        assertThrows(
            ResultWriteException.class,
            () ->
                store()
                    .commit(
                        g,
                        List.of(new OffsetRange(p, 0, 5)),
                        failing(namespace(), Map.of("k", "v"), boom)),
            "a commit whose writer throws IOException");
    assertSame(
        boom, e.getCause(), "the ResultWriteException's cause must be what the writer threw");
  }

  /**
   * T2. A writer failure moves no position of the commit, whatever the guarantee.
   *
   * <p>If this fails, check: positions are written after the writer returned, or in the same
   * transaction that the failure rolls back.
   */
  @Test
  @DisplayName("[T2] a writer failure moves no position")
  void t2_writerFailureMovesNoPosition() {
    int n = Math.min(3, maxRanges());
    String g = group();
    String t = topic();
    Map<Partition, Long> starts = new HashMap<>();
    List<OffsetRange> ranges = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      starts.put(partition(t, i), 10L * i);
      ranges.add(new OffsetRange(partition(t, i), 10L * i, 10L * i + 5));
    }
    store().initialize(g, starts);
    assertThrows(
        ResultWriteException.class,
        () ->
            store()
                .commit(
                    g,
                    ranges,
                    failing(
                        namespace(),
                        Map.of("k", "v"),
                        new IllegalStateException("tck: writer fails on purpose"))),
        "a commit whose writer throws");
    assertPositions("after a writer failure", g, starts.keySet(), starts);
  }

  /**
   * T3. For a {@link io.tandem.spi.Guarantee#TRANSACTIONAL} store, what a writer wrote before it
   * threw does not stay.
   *
   * <p>If this fails, check: the writer's handle is the commit's transaction (not a separate
   * auto-commit connection), and every failure path rolls back.
   */
  @Test
  @DisplayName("[T3] a writer failure leaves no result (TRANSACTIONAL)")
  void t3_writerFailureLeavesNoResult() {
    assumeTrue(caps().transactional(), "store declares IDEMPOTENT results: they may stand");
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    assertThrows(
        ResultWriteException.class,
        () ->
            store()
                .commit(
                    g,
                    List.of(new OffsetRange(p, 0, 5)),
                    failing(
                        ns,
                        entries("w", 10),
                        new IllegalStateException("tck: writer fails on purpose after writing"))),
        "a commit whose writer writes 10 entries, then throws");
    assertResults(
        "after a writer that wrote, then threw. If this fails, check: results are written through"
            + " the commit's transaction and rolled back",
        ns,
        Map.of());
  }

  /**
   * T4. When one range of a multi-partition commit conflicts, no position of the commit moves, on a
   * store that declares {@link Capabilities#atomicAcrossPartitions()}.
   *
   * <p>If this fails, check: all conditional updates run in one atomic step (one transaction, one
   * {@code multi}, one LWT batch) and a single failed condition aborts all of them.
   */
  @Test
  @DisplayName(
      "[T4] one conflicting partition among several moves no position (atomic across partitions)")
  void t4_oneConflictMovesNothing() {
    assumeTrue(caps().atomicAcrossPartitions(), "store declares no cross-partition atomicity");
    assumeRanges(4);
    String g = group();
    String t = topic();
    Map<Partition, Long> starts =
        Map.of(partition(t, 0), 0L, partition(t, 1), 0L, partition(t, 2), 9L, partition(t, 3), 0L);
    store().initialize(g, starts);
    List<OffsetRange> ranges = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ranges.add(new OffsetRange(partition(t, i), 0, 5));
    }
    OffsetConflictException e =
        expectConflict(
            "a commit where only " + partition(t, 2) + " conflicts",
            () -> store().commit(g, ranges, ResultWriter.none()));
    assertConflicts(e, g, List.of(Conflict.of(partition(t, 2), 0, 9)));
    assertPositions("after one range of four conflicted", g, starts.keySet(), starts);
  }

  /**
   * T5. For a {@link io.tandem.spi.Guarantee#TRANSACTIONAL} store, a commit with one conflicting
   * range among several leaves no result.
   *
   * <p>If this fails, check: the conflict check happens inside the results' transaction and a
   * conflict rolls it back.
   */
  @Test
  @DisplayName("[T5] one conflicting partition among several leaves no result (TRANSACTIONAL)")
  void t5_oneConflictLeavesNoResult() {
    assumeTrue(caps().transactional(), "store declares IDEMPOTENT results: they may stand");
    assumeRanges(3);
    String g = group();
    String ns = namespace();
    String t = topic();
    store().initialize(g, Map.of(partition(t, 0), 0L, partition(t, 1), 3L, partition(t, 2), 0L));
    expectConflict(
        "a commit where only " + partition(t, 1) + " conflicts",
        () ->
            store()
                .commit(
                    g,
                    List.of(
                        new OffsetRange(partition(t, 0), 0, 5),
                        new OffsetRange(partition(t, 1), 0, 5),
                        new OffsetRange(partition(t, 2), 0, 5)),
                    put(ns, entries("r", 3))));
    assertResults("after a commit with one conflicting range", ns, Map.of());
  }

  /**
   * T6. An unchecked exception from the writer is wrapped in {@link ResultWriteException} too, with
   * the same instance as cause.
   *
   * <p>If this fails, check: the store does not let the writer's {@link RuntimeException} pass
   * through unwrapped, nor map it to {@link io.tandem.spi.StoreUnavailableException}.
   */
  @Test
  @DisplayName("[T6] an unchecked writer exception is wrapped in ResultWriteException too")
  void t6_uncheckedWriterFailureWrapped() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    IllegalArgumentException boom = new IllegalArgumentException("tck: writer fails on purpose");
    ResultWriteException e =
        assertThrows(
            ResultWriteException.class,
            () ->
                store()
                    .commit(
                        g, List.of(new OffsetRange(p, 0, 5)), failing(namespace(), Map.of(), boom)),
            "a commit whose writer throws IllegalArgumentException");
    assertSame(
        boom, e.getCause(), "the ResultWriteException's cause must be what the writer threw");
    assertPositions("after a writer failure", g, List.of(p), Map.of(p, 0L));
  }

  /**
   * T7. After a commit failed (writer failure, then conflict), the same ranges commit normally from
   * the unchanged positions: nothing is left locked or half-open.
   *
   * <p>If this fails, check: connections, locks, sessions and {@code WATCH}es are released and
   * reset on every failure path.
   */
  @Test
  @DisplayName("[T7] after failed commits the same ranges commit normally")
  void t7_failureLeavesStoreUsable() {
    assumeRanges(2);
    String g = group();
    String ns = namespace();
    String t = topic();
    Partition a = partition(t, 0);
    Partition b = partition(t, 1);
    store().initialize(g, Map.of(a, 0L, b, 0L));
    List<OffsetRange> ranges = List.of(new OffsetRange(a, 0, 5), new OffsetRange(b, 0, 5));
    assertThrows(
        ResultWriteException.class,
        () ->
            store()
                .commit(
                    g,
                    ranges,
                    failing(
                        ns,
                        Map.of("x", "1"),
                        new IllegalStateException("tck: writer fails on purpose"))),
        "a commit whose writer throws");
    expectConflict(
        "a commit with a gap",
        () -> store().commit(g, List.of(new OffsetRange(a, 3, 5)), ResultWriter.none()));
    store().commit(g, ranges, put(ns, Map.of("x", "2")));
    assertPositions(
        "after the failed commits and a good one", g, List.of(a, b), Map.of(a, 5L, b, 5L));
    assertResults("after the failed commits and a good one", ns, Map.of("x", "2"));
  }

  // ---------------------------------------------------------------- X: concurrency

  /**
   * X1. Of {@value #THREADS} threads (on two store instances) committing the same range at once,
   * exactly one succeeds and every other gets {@link OffsetConflictException}; the position moves
   * once.
   *
   * <p>If this fails, check: the check and the update are one atomic step on the server (a
   * conditional update, {@code WATCH}/{@code MULTI}, a versioned {@code setData}, an LWT), not a
   * read followed by a blind write; a lost race surfaces as a conflict, not another error.
   */
  @Test
  @DisplayName("[X1] of 8 threads committing the same range exactly one wins, the others conflict")
  void x1_sameRangeOneWinner() {
    Race race = sameRangeRace();
    assertEquals(
        1,
        race.winners.size(),
        () ->
            "threads whose commit of [0, 10) succeeded: "
                + race.winners
                + "; failures: "
                + race.failures);
    assertNone(
        race.otherFailures(),
        "losing threads must get OffsetConflictException, these got something else");
    assertPositions(
        "after the race", race.group, List.of(race.partition), Map.of(race.partition, 10L));
  }

  /**
   * X2. After the race of X1, the winner's results stand; on a {@link
   * io.tandem.spi.Guarantee#TRANSACTIONAL} store no loser's result does.
   *
   * <p>If this fails, check: a losing commit rolls back its results, and the writer's handle is
   * private to its commit (not shared between threads).
   */
  @Test
  @DisplayName("[X2] after a race the winner's results stand and (TRANSACTIONAL) no loser's")
  void x2_raceResults() {
    Race race = sameRangeRace();
    assertEquals(
        1,
        race.winners.size(),
        () -> "threads whose commit succeeded: " + race.winners + "; failures: " + race.failures);
    int winner = race.winners.get(0);
    Map<String, String> found = results(race.namespace);
    assertEquals(
        "won",
        found.get("thread-" + winner),
        () -> "the winner's (thread-" + winner + ") result in " + found);
    if (caps().transactional()) {
      assertEquals(
          Map.of("thread-" + winner, "won"),
          found,
          "a TRANSACTIONAL store must keep only the winner's results");
    }
  }

  /**
   * X3. {@value #THREADS} threads committing disjoint partitions of one group at once all succeed.
   *
   * <p>If this fails, check: the store does not lock or version the whole group for a commit of one
   * partition (or, if it does, retries internally instead of reporting a conflict that is not one),
   * and it does not deadlock.
   */
  @Test
  @DisplayName("[X3] 8 threads committing disjoint partitions all succeed")
  void x3_disjointPartitionsAllWin() {
    String g = group();
    String ns = namespace();
    String t = topic();
    Map<Partition, Long> starts = new HashMap<>();
    for (int i = 0; i < THREADS; i++) {
      starts.put(partition(t, i), 0L);
    }
    store().initialize(g, starts);
    OffsetStore<T> second = open();
    Race race =
        race(
            g,
            ns,
            null,
            i -> {
              OffsetStore<T> s = i % 2 == 0 ? store() : second;
              s.commit(
                  g,
                  List.of(new OffsetRange(partition(t, i), 0, 3)),
                  put(ns, Map.of("thread-" + i, "won")));
            });
    assertNone(race.failures, "every commit of a disjoint partition must succeed");
    Map<Partition, Long> expected = new HashMap<>();
    Map<String, String> results = new HashMap<>();
    for (int i = 0; i < THREADS; i++) {
      expected.put(partition(t, i), 3L);
      results.put("thread-" + i, "won");
    }
    assertPositions("after 8 disjoint commits", g, expected.keySet(), expected);
    assertResults("after 8 disjoint commits", ns, results);
  }

  /**
   * X4. {@value #THREADS} threads commit at once, each a batch over one shared partition and one
   * partition of its own: exactly one wins, and no loser's own partition moves (on a store atomic
   * across partitions).
   *
   * <p>If this fails, check: a conflict on one range aborts the other ranges' updates of the same
   * commit even under concurrency (all conditions are evaluated in the same atomic step).
   */
  @Test
  @DisplayName(
      "[X4] of 8 threads committing overlapping batches one wins and no loser's partition moves (atomic across partitions)")
  void x4_overlappingBatchesAtomic() {
    assumeTrue(caps().atomicAcrossPartitions(), "store declares no cross-partition atomicity");
    assumeRanges(2);
    String g = group();
    String ns = namespace();
    String t = topic();
    Partition shared = partition(t, 0);
    Map<Partition, Long> starts = new HashMap<>();
    starts.put(shared, 0L);
    for (int i = 1; i <= THREADS; i++) {
      starts.put(partition(t, i), 0L);
    }
    store().initialize(g, starts);
    OffsetStore<T> second = open();
    Race race =
        race(
            g,
            ns,
            shared,
            i -> {
              OffsetStore<T> s = i % 2 == 0 ? store() : second;
              s.commit(
                  g,
                  List.of(
                      new OffsetRange(shared, 0, 5), new OffsetRange(partition(t, i + 1), 0, 5)),
                  ResultWriter.none());
            });
    assertEquals(
        1,
        race.winners.size(),
        () -> "threads whose commit succeeded: " + race.winners + "; failures: " + race.failures);
    assertNone(race.otherFailures(), "losing threads must get OffsetConflictException");
    Map<Partition, Long> expected = new HashMap<>(starts);
    expected.put(shared, 5L);
    expected.put(partition(t, race.winners.get(0) + 1), 5L);
    assertPositions(
        "after the race (winner thread-" + race.winners.get(0) + ")", g, starts.keySet(), expected);
  }

  /**
   * X5. {@value #THREADS} threads initializing the same partitions at once with different starts
   * all get the same answer, one of the starts, and it is what stands.
   *
   * <p>If this fails, check: initialize is an atomic insert-if-absent on the server and returns the
   * value stored, not its own argument.
   */
  @Test
  @DisplayName("[X5] concurrent initialize of the same partitions agrees on one position")
  void x5_concurrentInitializeAgrees() {
    String g = group();
    String t = topic();
    List<Partition> ps = List.of(partition(t, 0), partition(t, 1), partition(t, 2));
    OffsetStore<T> second = open();
    Map<Integer, Map<Partition, Long>> answers = new ConcurrentHashMap<>();
    Race race =
        race(
            g,
            null,
            null,
            i -> {
              OffsetStore<T> s = i % 2 == 0 ? store() : second;
              Map<Partition, Long> starts = new HashMap<>();
              for (Partition p : ps) {
                starts.put(p, 100L * (i + 1));
              }
              answers.put(i, s.initialize(g, starts));
            });
    assertNone(race.failures, "concurrent initialize must not fail");
    Map<Partition, Long> stored = store().positions(g, ps);
    assertEquals(Set.copyOf(ps), stored.keySet(), "every partition initialized");
    for (Map.Entry<Integer, Map<Partition, Long>> a : answers.entrySet()) {
      assertEquals(
          stored,
          a.getValue(),
          "thread-" + a.getKey() + "'s initialize returned something else than what stands");
    }
    Set<Long> values = new HashSet<>(stored.values());
    assertTrue(
        values.size() >= 1
            && values.stream().allMatch(v -> v % 100 == 0 && v >= 100 && v <= 100L * THREADS),
        () -> "stored positions are not among the starts: " + stored);
  }

  /**
   * X6. {@value #THREADS} threads advance one partition by one position at a time, re-reading the
   * position after every conflict, until it reaches 64: no update is lost (the position is 64,
   * exactly 64 commits succeeded, each position was won once) and (TRANSACTIONAL) the results are
   * exactly the winners'.
   *
   * <p>If this fails, check: two commits from the same {@code from} can never both succeed (a
   * read-then-write race), and a losing commit's results roll back.
   */
  @Test
  @DisplayName("[X6] 8 threads advancing one partition with retries lose no update")
  void x6_noLostUpdate() {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    long target = 64;
    store().initialize(g, Map.of(p, 0L));
    OffsetStore<T> second = open();
    Map<Long, Integer> winners = new ConcurrentHashMap<>();
    List<String> doubleWins = Collections.synchronizedList(new ArrayList<>());
    Race race =
        race(
            g,
            ns,
            null,
            i -> {
              OffsetStore<T> s = i % 2 == 0 ? store() : second;
              while (true) {
                Long at = s.positions(g, List.of(p)).get(p);
                if (at == null || at >= target) {
                  return;
                }
                try {
                  s.commit(
                      g,
                      List.of(new OffsetRange(p, at, at + 1)),
                      put(ns, Map.of("o" + at, "thread-" + i)));
                  Integer before = winners.putIfAbsent(at, i);
                  if (before != null) {
                    doubleWins.add(
                        "position " + at + " won by thread-" + before + " and thread-" + i);
                  }
                } catch (OffsetConflictException e) {
                  // lost the race: re-read and try again, as a consumer would
                }
              }
            });
    assertNone(race.failures, "threads failed with something else than a conflict");
    assertTrue(
        doubleWins.isEmpty(),
        () ->
            doubleWins.size()
                + " times two commits from the same position both succeeded, e.g. "
                + doubleWins.subList(0, Math.min(5, doubleWins.size())));
    assertPositions("after the contended sequence", g, List.of(p), Map.of(p, target));
    assertEquals(target, winners.size(), () -> "successful commits: " + new TreeMap<>(winners));
    Map<String, String> expected = new HashMap<>();
    winners.forEach((at, i) -> expected.put("o" + at, "thread-" + i));
    Map<String, String> found = results(ns);
    if (caps().transactional()) {
      assertEquals(
          new TreeMap<>(expected),
          new TreeMap<>(found),
          "results must be exactly the winning commits'");
    } else {
      assertEquals(
          new TreeMap<>(expected).keySet(),
          new TreeMap<>(found).keySet(),
          "result keys must be exactly the committed positions'");
    }
  }

  /**
   * X7. {@value #THREADS} threads on two store instances commit one partition at once: half advance
   * it by one position at a time up to 32, half commit empty ranges at the position they read (an
   * empty poll). Every writer writes a key unique to its run, so each run is visible: after each
   * successful commit exactly one run of its writer stands, and at the end the results are exactly
   * one run per successful commit and no run of a failed one (on a {@link
   * io.tandem.spi.Guarantee#TRANSACTIONAL} store; an IDEMPOTENT store keeps what losers wrote).
   *
   * <p>If this fails, check: when the store retries internally (a {@code WATCH} that fired, a
   * version that moved while the value stayed, a transient transaction error), the retry runs the
   * writer on a fresh unit of work and the first run's writes are discarded; otherwise a user's
   * fold (a counter, a balance) is applied twice.
   */
  @Test
  @DisplayName(
      "[X7] under contention each successful commit leaves exactly one run of its writer (TRANSACTIONAL)")
  void x7_oneWriterRunPerCommitUnderContention() {
    assumeTrue(
        caps().transactional(),
        "store declares IDEMPOTENT: results of a lost or retried run may stand by contract");
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    long target = 32;
    int emptyCommitsPerThread = 16;
    store().initialize(g, Map.of(p, 0L));
    OffsetStore<T> second = open();
    WriterRuns runs = new WriterRuns(ns);
    List<String> problems = Collections.synchronizedList(new ArrayList<>());
    Race race =
        race(
            g,
            ns,
            null,
            i -> {
              OffsetStore<T> s = i % 2 == 0 ? store() : second;
              boolean advancing = (i / 2) % 2 == 0;
              int empties = 0;
              while (true) {
                Long at = s.positions(g, List.of(p)).get(p);
                if (at == null || at >= target) {
                  return;
                }
                if (!advancing && empties++ >= emptyCommitsPerThread) {
                  return;
                }
                String commit = runs.newCommit();
                long until = advancing ? at + 1 : at;
                try {
                  s.commit(g, List.of(new OffsetRange(p, at, until)), runs.writer(commit));
                } catch (OffsetConflictException e) {
                  runs.failed(commit);
                  continue;
                } catch (StoreUnavailableException e) {
                  // Retriable by contract (e.g. ZooKeeper gives up when versions keep moving while
                  // values stay, as the empty commits here make them): the outcome is the store's
                  // to report, so only "never two runs" is checked for it.
                  runs.unknownOutcome(commit);
                  continue;
                }
                runs.succeeded(commit);
                List<String> standing = runs.standing(commit, results(ns));
                if (standing.size() != 1) {
                  problems.add(
                      "commit "
                          + commit
                          + " of ["
                          + at
                          + ", "
                          + until
                          + ") ran its writer "
                          + runs.count(commit)
                          + " time(s); runs standing when it returned: "
                          + standing);
                }
              }
            });
    assertNone(race.failures, "threads failed with something else than a conflict");
    assertTrue(
        problems.isEmpty(),
        () ->
            problems.size()
                + " successful commit(s) did not leave exactly one run of their writer, e.g. "
                + problems.subList(0, Math.min(5, problems.size())));
    runs.assertOneRunPerSuccessfulCommit("after the contended sequence");
    assertPositions("after the contended sequence", g, List.of(p), Map.of(p, target));
  }

  // ---------------------------------------------------------------- N: names and isolation

  /**
   * N1. Group and topic names in any script, with characters outside the BMP and combining marks,
   * are kept exactly: {@code positions(group)} and {@code groups()} return them unchanged.
   *
   * <p>If this fails, check: columns/keys are UTF-8 (MySQL {@code utf8mb4}, not {@code utf8}), no
   * normalization or lower-casing, and length is counted in characters, not bytes.
   */
  @Test
  @DisplayName("[N1] unicode group and topic names round-trip exactly")
  void n1_unicodeNames() {
    String g = group() + "-Grüße-群組-🚀-e\u0301";
    String t = "tópico-主题-" + RUN + "-🦄-عربى";
    roundTrip(g, t);
  }

  /**
   * N2. Names with slashes, quotes, dots, spaces, backslashes, percent, underscores, wildcards,
   * braces, dollars, colons, hashes and dashes-with-digits are kept exactly and do not match one
   * another.
   *
   * <p>If this fails, check: names are bound as parameters, never spliced into SQL, CQL, key
   * patterns, paths or field names; path separators and field-name rules ({@code .}, {@code $},
   * {@code /}) are escaped reversibly.
   */
  @Test
  @DisplayName("[N2] names with slashes, quotes, dots, spaces, backslash and percent round-trip")
  void n2_punctuationNames() {
    String base = group();
    String g = base + " /a\\b'c\"d.e%f_g*h?i[j]{k}$l:m#n-1";
    String t = "t/" + RUN + "/x.y 'z\"\\%_*?[]{}$:#-0-1";
    roundTrip(g, t);
    // Lookalike names must not share positions with these.
    Partition p = partition(t, 0);
    assertEquals(
        Map.of(),
        store().positions(base, List.of(p)),
        "group '" + base + "' is a prefix of '" + g + "'");
    assertEquals(
        Map.of(),
        store().positions(g, List.of(partition("t/" + RUN + "/x.y", 0))),
        "a topic that is a prefix of '" + t + "'");
  }

  /**
   * N3. A topic of {@value Partition#MAX_TOPIC_LENGTH} characters (the Kafka limit) is kept
   * exactly.
   *
   * <p>If this fails, check: the topic column/key/path has room for 249 characters (and 4 bytes
   * each in UTF-8 if characters are counted in bytes).
   */
  @Test
  @DisplayName("[N3] a topic of 249 characters round-trips")
  void n3_longTopic() {
    StringBuilder sb = new StringBuilder(RUN).append('-');
    while (sb.length() < Partition.MAX_TOPIC_LENGTH) {
      sb.append((char) ('a' + sb.length() % 26));
    }
    roundTrip(group(), sb.toString());
  }

  /**
   * N4. Two groups on the same topic keep separate positions: initialize, commit and delete in one
   * never affect the other.
   *
   * <p>If this fails, check: the group is part of every key and every condition.
   */
  @Test
  @DisplayName("[N4] two groups on the same topic are independent")
  void n4_groupsIndependent() {
    String g1 = group();
    String g2 = group();
    Partition p = partition(topic(), 0);
    store().initialize(g1, Map.of(p, 0L));
    store().initialize(g2, Map.of(p, 100L));
    store().commit(g1, List.of(new OffsetRange(p, 0, 10)), ResultWriter.none());
    assertPositions("group 1 after its commit", g1, List.of(p), Map.of(p, 10L));
    assertPositions("group 2 after group 1's commit", g2, List.of(p), Map.of(p, 100L));
    expectConflict(
        "group 2 committing from group 1's position",
        () -> store().commit(g2, List.of(new OffsetRange(p, 10, 20)), ResultWriter.none()));
    store().delete(g1);
    assertPositions("group 2 after group 1 was deleted", g2, List.of(p), Map.of(p, 100L));
  }

  /**
   * N5. Partitions of one topic keep separate positions: a commit on one never moves another.
   *
   * <p>If this fails, check: the partition number is part of every key and condition.
   */
  @Test
  @DisplayName("[N5] partitions of the same topic are independent")
  void n5_partitionsIndependent() {
    String g = group();
    String t = topic();
    store().initialize(g, Map.of(partition(t, 0), 0L, partition(t, 1), 0L));
    store().commit(g, List.of(new OffsetRange(partition(t, 0), 0, 10)), ResultWriter.none());
    assertPositions(
        "after a commit on partition 0",
        g,
        List.of(partition(t, 0), partition(t, 1)),
        Map.of(partition(t, 0), 10L, partition(t, 1), 0L));
  }

  /**
   * N6. Names that differ only in letter case are different groups and topics.
   *
   * <p>If this fails, check: the collation is case-sensitive (MySQL/MariaDB default collations are
   * not: use a binary collation), and names are not lower-cased.
   */
  @Test
  @DisplayName("[N6] names that differ only in case are distinct")
  void n6_caseSensitive() {
    String g = group();
    String gUpper = g.toUpperCase(java.util.Locale.ROOT);
    String t = topic();
    String tUpper = t.toUpperCase(java.util.Locale.ROOT);
    store().initialize(g, Map.of(partition(t, 0), 1L));
    store().initialize(g, Map.of(partition(tUpper, 0), 2L));
    store().initialize(gUpper, Map.of(partition(t, 0), 3L));
    assertPositions(
        "group " + g,
        g,
        List.of(partition(t, 0), partition(tUpper, 0)),
        Map.of(partition(t, 0), 1L, partition(tUpper, 0), 2L));
    assertPositions(
        "group " + gUpper,
        gUpper,
        List.of(partition(t, 0), partition(tUpper, 0)),
        Map.of(partition(t, 0), 3L));
  }

  /**
   * N7. A group whose name is a prefix or a wildcard pattern of another ({@code g}, {@code g*},
   * {@code g%}, {@code g_}) neither sees nor deletes the other's positions.
   *
   * <p>If this fails, check: groups are matched by equality, never by {@code LIKE}, {@code KEYS} or
   * {@code SCAN MATCH} patterns or path prefixes.
   */
  @Test
  @DisplayName("[N7] groups named like prefixes or patterns of others stay separate")
  void n7_prefixAndPatternGroups() {
    String g = group();
    Partition p = partition(topic(), 0);
    List<String> lookalikes =
        List.of(g + "*", g + "%", g + "_", g + "x", g + "/x", g + ":x", g + ".x");
    for (String other : lookalikes) {
      store().initialize(other, Map.of(p, 5L));
    }
    store().initialize(g, Map.of(p, 1L));
    assertEquals(
        Map.of(p, 1L),
        store().positions(g),
        "positions(group) of '" + g + "' with lookalike groups " + lookalikes);
    assertTrue(store().delete(g), "delete('" + g + "')");
    for (String other : lookalikes) {
      assertEquals(
          Map.of(p, 5L),
          store().positions(other),
          "group '" + other + "' after deleting '" + g + "'");
    }
  }

  /**
   * N8. Topic and partition pairs whose names concatenate alike ({@code x}/10 and {@code x1}/0,
   * {@code x-1}/0) are different partitions.
   *
   * <p>If this fails, check: keys separate topic and partition unambiguously (a separator the topic
   * cannot end with, or separate fields), and parsing splits at the last separator.
   */
  @Test
  @DisplayName("[N8] topic and partition pairs that concatenate alike stay distinct")
  void n8_concatenationAmbiguity() {
    String g = group();
    String x = topic();
    Map<Partition, Long> starts =
        Map.of(
            partition(x, 10),
            1L,
            partition(x + "1", 0),
            2L,
            partition(x + "-1", 0),
            3L,
            partition(x + "-10", 0),
            4L,
            partition(x, 1),
            5L);
    assertEquals(starts, store().initialize(g, starts), "initialize of lookalike partitions");
    assertEquals(starts, store().positions(g), "positions(group) of lookalike partitions");
  }

  /**
   * N9. Names are kept to the last character at both ends: groups and topics that begin or end with
   * a space, a dot, a slash or a dash are distinct from their trimmed forms and from each other,
   * and every read returns them exactly.
   *
   * <p>If this fails, check: names are not trimmed or normalized on the way in or out (a {@code
   * CHAR} column, a {@code PAD SPACE} collation that ignores trailing spaces, a path join that
   * drops a leading or trailing slash, a key parser that splits on the first or last separator).
   */
  @Test
  @DisplayName(
      "[N9] names that begin or end with spaces, dots, slashes or dashes round-trip exactly")
  void n9_nameEdges() {
    String base = group();
    String t = topic();
    List<String> groups =
        List.of(base, " " + base, base + " ", base + "  ", "/" + base, base + "/");
    List<String> topics = List.of(t, " " + t, t + " ", "." + t, t + ".", t + "-", "/" + t + "/");
    long v = 1;
    Map<String, Map<Partition, Long>> expected = new LinkedHashMap<>();
    for (String g : groups) {
      Map<Partition, Long> starts = new HashMap<>();
      for (String topic : topics) {
        starts.put(partition(topic, 0), v++);
      }
      assertEquals(starts, store().initialize(g, starts), "initialize of group '" + g + "'");
      expected.put(g, starts);
    }
    for (Map.Entry<String, Map<Partition, Long>> e : expected.entrySet()) {
      String g = e.getKey();
      assertPositions("group '" + g + "'", g, e.getValue().keySet(), e.getValue());
      assertEquals(
          new TreeMap<>(e.getValue()),
          sortedOrSame(store().positions(g)),
          () -> "positions(group) of '" + g + "' must return every topic exactly as given");
    }
    Set<String> listed = store().groups();
    for (String g : groups) {
      assertTrue(listed.contains(g), () -> "groups() must list '" + g + "' exactly as given");
    }
    String g = groups.get(2);
    Partition p = partition(topics.get(2), 0);
    long at = expected.get(g).get(p);
    store().commit(g, List.of(new OffsetRange(p, at, at + 5)), ResultWriter.none());
    assertEquals(1, store().delete(groups.get(1), List.of(partition(topics.get(1), 0))));
    assertTrue(store().delete(groups.get(4)), () -> "delete('" + groups.get(4) + "')");
    expected.get(g).put(p, at + 5);
    expected.get(groups.get(1)).remove(partition(topics.get(1), 0));
    expected.remove(groups.get(4));
    for (Map.Entry<String, Map<Partition, Long>> e : expected.entrySet()) {
      assertEquals(
          new TreeMap<>(e.getValue()),
          sortedOrSame(store().positions(e.getKey())),
          () ->
              "positions(group) of '"
                  + e.getKey()
                  + "' after a commit, a delete of partitions and a delete of a group, each on a"
                  + " name that differs from others only at an end");
    }
  }

  /**
   * N10. A partition is its topic and its full 32-bit number in every operation: partitions 1, 65
   * 537 and {@link Integer#MAX_VALUE} of one topic are distinct in initialize, positions, commit,
   * overwrite and delete.
   *
   * <p>If this fails, check: the partition number is stored as a 32-bit integer (not a 16-bit or
   * 8-bit one, not a prefix of a string), and every operation keys on topic and number, not only
   * commit.
   */
  @Test
  @DisplayName("[N10] a partition is identified by its topic and full number in every operation")
  void n10_partitionIdentity() {
    String g = group();
    String t = topic();
    Partition p1 = partition(t, 1);
    Partition p65537 = partition(t, 65_537);
    Partition pMax = partition(t, Integer.MAX_VALUE);
    Partition p0 = partition(t, 0);
    Partition p65536 = partition(t, 65_536);
    Map<Partition, Long> starts = Map.of(p0, 10L, p1, 11L, p65536, 12L, p65537, 13L, pMax, 14L);
    assertEquals(starts, store().initialize(g, starts), "initialize");
    assertPositions("after initialize", g, starts.keySet(), starts);
    assertEquals(
        Map.of(p65537, 13L), store().positions(g, List.of(p65537)), "positions of " + p65537);
    assertEquals(
        Map.of(p1, 11L),
        store().initialize(g, Map.of(p1, 99L)),
        "initialize of " + p1 + " where it stands");
    store().commit(g, List.of(new OffsetRange(p65537, 13, 20)), ResultWriter.none());
    store().overwrite(g, Map.of(pMax, 40L));
    assertEquals(1, store().delete(g, List.of(p65536)), "delete(" + p65536 + ")");
    Map<Partition, Long> expected = Map.of(p0, 10L, p1, 11L, p65537, 20L, pMax, 40L);
    assertEquals(
        new TreeMap<>(expected),
        sortedOrSame(store().positions(g)),
        "positions(group) after a commit of "
            + p65537
            + ", an overwrite of "
            + pMax
            + " and a delete of "
            + p65536);
    expectConflict(
        "a commit of " + p1 + " from " + p65537 + "'s position",
        () -> store().commit(g, List.of(new OffsetRange(p1, 20, 21)), ResultWriter.none()));
  }

  // ---------------------------------------------------------------- V: argument validation

  /**
   * V1. The SPI types reject negative offsets, {@code until < from}, empty topics and negative
   * partitions before a store sees them ({@link IllegalArgumentException}). The kit relies on it:
   * no store test sends such values.
   *
   * <p>If this fails, check: the {@code tandem-spi} on the class path is the one this kit was built
   * with.
   */
  @Test
  @DisplayName("[V1] negative offsets, until < from and empty topics cannot be constructed")
  void v1_valueTypesReject() {
    assertThrows(IllegalArgumentException.class, () -> OffsetRange.of("t", 0, -1, 5), "from = -1");
    assertThrows(
        IllegalArgumentException.class, () -> OffsetRange.of("t", 0, 7, 3), "until < from");
    assertThrows(IllegalArgumentException.class, () -> new Partition("", 0), "empty topic");
    assertThrows(
        IllegalArgumentException.class, () -> new Partition("t", -1), "negative partition");
  }

  /**
   * V2. An empty group is an {@link InvalidBatchException} on every method that takes a group, and
   * nothing is written.
   *
   * <p>If this fails, check: each method calls {@code StoreArguments.group(group)} first.
   */
  @Test
  @DisplayName("[V2] an empty group is an InvalidBatchException on every method, nothing written")
  void v2_emptyGroup() {
    Partition p = partition(topic(), 0);
    String ns = namespace();
    AtomicBoolean called = new AtomicBoolean();
    assertThrows(
        InvalidBatchException.class,
        () -> store().positions("", List.of(p)),
        "positions(\"\", partitions)");
    assertThrows(InvalidBatchException.class, () -> store().positions(""), "positions(\"\")");
    assertThrows(
        InvalidBatchException.class,
        () -> store().initialize("", Map.of(p, 1L)),
        "initialize(\"\", ...)");
    assertThrows(
        InvalidBatchException.class,
        () ->
            store()
                .commit(
                    "",
                    List.of(new OffsetRange(p, 0, 1)),
                    tracking(called, put(ns, Map.of("k", "v")))),
        "commit(\"\", ...)");
    assertThrows(
        InvalidBatchException.class,
        () -> store().overwrite("", Map.of(p, 1L)),
        "overwrite(\"\", ...)");
    assertThrows(InvalidBatchException.class, () -> store().delete(""), "delete(\"\")");
    assertThrows(
        InvalidBatchException.class,
        () -> store().delete("", List.of(p)),
        "delete(\"\", partitions)");
    assertFalse(called.get(), "commit with an empty group ran the writer");
    assertFalse(store().groups().contains(""), "groups() lists the empty group");
    assertResults("after the rejected calls", ns, Map.of());
  }

  /**
   * V3. A commit naming one partition twice is an {@link InvalidBatchException}; the writer does
   * not run and no position moves.
   *
   * <p>If this fails, check: the store calls {@code StoreArguments.ranges(ranges, max)} before
   * anything else, and does not merge or apply duplicate ranges one after the other.
   */
  @Test
  @DisplayName(
      "[V3] a commit naming a partition twice is an InvalidBatchException, nothing written")
  void v3_duplicatePartitions() {
    assumeRanges(2);
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    AtomicBoolean called = new AtomicBoolean();
    assertThrows(
        InvalidBatchException.class,
        () ->
            store()
                .commit(
                    g,
                    List.of(new OffsetRange(p, 0, 5), new OffsetRange(p, 5, 10)),
                    tracking(called, put(ns, Map.of("k", "v")))),
        "a commit with [0, 5) and [5, 10) on " + p);
    assertFalse(called.get(), "the writer ran for an invalid batch");
    assertPositions("after the rejected commit", g, List.of(p), Map.of(p, 0L));
    assertResults("after the rejected commit", ns, Map.of());
  }

  /**
   * V4. A commit with no ranges is an {@link InvalidBatchException}; the writer does not run.
   *
   * <p>If this fails, check: an empty range list is rejected rather than committed as a
   * results-only transaction.
   */
  @Test
  @DisplayName("[V4] a commit with no ranges is an InvalidBatchException, writer not run")
  void v4_noRanges() {
    String g = group();
    String ns = namespace();
    AtomicBoolean called = new AtomicBoolean();
    assertThrows(
        InvalidBatchException.class,
        () -> store().commit(g, List.of(), tracking(called, put(ns, Map.of("k", "v")))),
        "a commit with no ranges");
    assertFalse(called.get(), "the writer ran for a commit with no ranges");
    assertResults("after the rejected commit", ns, Map.of());
  }

  /**
   * V5. A null writer is a {@link NullPointerException} and no position moves.
   *
   * <p>If this fails, check: the store calls {@code StoreArguments.results(results)} before the
   * conditional update.
   */
  @Test
  @DisplayName("[V5] a null writer is a NullPointerException, nothing written")
  void v5_nullWriter() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    assertThrows(
        NullPointerException.class,
        () -> store().commit(g, List.of(new OffsetRange(p, 0, 5)), null),
        "commit with a null writer");
    assertPositions("after the rejected commit", g, List.of(p), Map.of(p, 0L));
  }

  /**
   * V6. More ranges than {@link Capabilities#maxRangesPerCommit()} is a {@link
   * BatchTooLargeException}; the writer does not run, no position moves. Skipped for stores that
   * declare no limit.
   *
   * <p>If this fails, check: the store passes its own declared limit to {@code
   * StoreArguments.ranges}, and checks before writing.
   */
  @Test
  @DisplayName(
      "[V6] more ranges than maxRangesPerCommit is a BatchTooLargeException, nothing written (bounded stores)")
  void v6_tooManyRanges() {
    int max = maxRanges();
    assumeTrue(max != Integer.MAX_VALUE, "store declares no limit on ranges per commit");
    assumeTrue(max < 100_000, "store's limit of " + max + " ranges is too large to test");
    String g = group();
    String ns = namespace();
    String t = topic();
    Map<Partition, Long> starts = new HashMap<>();
    List<OffsetRange> ranges = new ArrayList<>();
    for (int i = 0; i <= max; i++) {
      starts.put(partition(t, i), 0L);
      ranges.add(new OffsetRange(partition(t, i), 0, 1));
    }
    store().initialize(g, starts);
    AtomicBoolean called = new AtomicBoolean();
    assertThrows(
        BatchTooLargeException.class,
        () -> store().commit(g, ranges, tracking(called, put(ns, Map.of("k", "v")))),
        "a commit of " + (max + 1) + " ranges, one more than the declared maxRangesPerCommit");
    assertFalse(called.get(), "the writer ran for a batch too large");
    assertEquals(starts, store().positions(g), "positions after the rejected commit");
    assertResults("after the rejected commit", ns, Map.of());
  }

  /**
   * V7. Exactly {@link Capabilities#maxRangesPerCommit()} ranges are accepted and all move (skipped
   * when the store declares no limit or one above 10 000).
   *
   * <p>If this fails, check: the declared limit is really what the backend can do in one atomic
   * step (ZooKeeper {@code jute.maxbuffer}, Cassandra batch size warnings/failures, statement
   * size).
   */
  @Test
  @DisplayName("[V7] exactly maxRangesPerCommit ranges are accepted (bounded stores)")
  void v7_maxRangesAccepted() {
    int max = maxRanges();
    assumeTrue(max != Integer.MAX_VALUE, "store declares no limit on ranges per commit");
    assumeTrue(max <= 10_000, "store's limit of " + max + " ranges is too large to test");
    String g = group();
    String t = topic();
    Map<Partition, Long> starts = new HashMap<>();
    Map<Partition, Long> expected = new HashMap<>();
    List<OffsetRange> ranges = new ArrayList<>();
    for (int i = 0; i < max; i++) {
      starts.put(partition(t, i), 0L);
      expected.put(partition(t, i), 2L);
      ranges.add(new OffsetRange(partition(t, i), 0, 2));
    }
    store().initialize(g, starts);
    store().commit(g, ranges, ResultWriter.none());
    assertEquals(
        expected, store().positions(g), "positions after a commit of exactly " + max + " ranges");
  }

  /**
   * V8. A negative position in {@code initialize} or {@code overwrite} is an {@link
   * InvalidBatchException} and nothing of that call is written, not even its valid entries.
   *
   * <p>If this fails, check: the store calls {@code StoreArguments.positions(...)} on the whole map
   * before writing any entry.
   */
  @Test
  @DisplayName(
      "[V8] a negative position in initialize or overwrite is an InvalidBatchException, nothing written")
  void v8_negativePositions() {
    String g = group();
    String t = topic();
    Partition a = partition(t, 0);
    Partition b = partition(t, 1);
    Map<Partition, Long> bad = new LinkedHashMap<>();
    bad.put(a, 5L);
    bad.put(b, -1L);
    assertThrows(
        InvalidBatchException.class,
        () -> store().initialize(g, bad),
        "initialize with " + b + " = -1");
    assertPositions("after the rejected initialize", g, List.of(a, b), Map.of());
    store().initialize(g, Map.of(a, 1L, b, 1L));
    Map<Partition, Long> badOverwrite = new LinkedHashMap<>();
    badOverwrite.put(a, 9L);
    badOverwrite.put(b, -3L);
    assertThrows(
        InvalidBatchException.class,
        () -> store().overwrite(g, badOverwrite),
        "overwrite with " + b + " = -3");
    assertPositions("after the rejected overwrite", g, List.of(a, b), Map.of(a, 1L, b, 1L));
  }

  /**
   * V9. Null arguments (group, ranges, a null range, partitions, positions) are {@link
   * NullPointerException}s, and nothing is written.
   *
   * <p>If this fails, check: the store calls the {@code StoreArguments} checks before doing
   * anything, instead of failing later with another exception.
   */
  @Test
  @DisplayName("[V9] null arguments are NullPointerExceptions, nothing written")
  void v9_nullArguments() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    List<OffsetRange> withNull = Arrays.asList(new OffsetRange(p, 0, 5), null);
    assertThrows(
        NullPointerException.class,
        () -> store().positions(null, List.of(p)),
        "positions(null, partitions)");
    assertThrows(
        NullPointerException.class, () -> store().positions(g, null), "positions(group, null)");
    assertThrows(
        NullPointerException.class, () -> store().initialize(g, null), "initialize(group, null)");
    assertThrows(
        NullPointerException.class,
        () -> store().commit(null, List.of(new OffsetRange(p, 0, 5)), ResultWriter.none()),
        "commit(null, ...)");
    assertThrows(
        NullPointerException.class,
        () -> store().commit(g, null, ResultWriter.none()),
        "commit(group, null, writer)");
    assertThrows(
        NullPointerException.class,
        () -> store().commit(g, withNull, ResultWriter.none()),
        "commit with a null range");
    assertThrows(
        NullPointerException.class, () -> store().overwrite(g, null), "overwrite(group, null)");
    assertThrows(NullPointerException.class, () -> store().delete(g, null), "delete(group, null)");
    assertPositions("after the rejected calls", g, List.of(p), Map.of(p, 0L));
  }

  // ---------------------------------------------------------------- A: administration

  /**
   * A1. {@code groups()} lists every group that has a stored position.
   *
   * <p>If this fails, check: the listing covers every group record, not a cached or paged subset.
   */
  @Test
  @DisplayName("[A1] groups lists every group that has a stored position")
  void a1_groupsListed() {
    String g1 = group();
    String g2 = group();
    store().initialize(g1, Map.of(partition(topic(), 0), 0L));
    store().initialize(g2, Map.of(partition(topic(), 3), 9L));
    Set<String> groups = store().groups();
    assertTrue(
        groups.containsAll(Set.of(g1, g2)),
        () -> "groups() must contain " + g1 + " and " + g2 + ", got " + abbreviate(groups));
  }

  /**
   * A2. {@code positions(group)} reads every stored position of the group, across topics.
   *
   * <p>If this fails, check: the read is by group only, over all topics.
   */
  @Test
  @DisplayName("[A2] positions(group) reads every position of the group across topics")
  void a2_allPositionsOfGroup() {
    String g = group();
    Map<Partition, Long> starts =
        Map.of(partition(topic(), 0), 1L, partition(topic(), 2), 2L, partition(topic(), 5), 3L);
    store().initialize(g, starts);
    assertEquals(starts, store().positions(g), "positions(group)");
  }

  /**
   * A3. {@code overwrite} sets positions unconditionally: forward, backward and where none was.
   *
   * <p>If this fails, check: overwrite is an upsert without the contiguity condition.
   */
  @Test
  @DisplayName("[A3] overwrite forces positions forward, backward and where none was")
  void a3_overwriteForces() {
    String g = group();
    String t = topic();
    Partition fwd = partition(t, 0);
    Partition back = partition(t, 1);
    Partition none = partition(t, 2);
    store().initialize(g, Map.of(fwd, 10L, back, 10L));
    store().overwrite(g, Map.of(fwd, 50L, back, 3L, none, 7L));
    Map<Partition, Long> expected = Map.of(fwd, 50L, back, 3L, none, 7L);
    assertPositions("after overwrite", g, expected.keySet(), expected);
    store().commit(g, List.of(new OffsetRange(back, 3, 4)), ResultWriter.none());
    assertPositions(
        "after committing from the overwritten position", g, List.of(back), Map.of(back, 4L));
  }

  /**
   * A4. {@code overwrite} leaves the group's other partitions untouched.
   *
   * <p>If this fails, check: overwrite does not replace the whole group record.
   */
  @Test
  @DisplayName("[A4] overwrite leaves partitions it does not name untouched")
  void a4_overwriteLeavesOthers() {
    String g = group();
    String t = topic();
    store().initialize(g, Map.of(partition(t, 0), 1L, partition(t, 1), 2L));
    store().overwrite(g, Map.of(partition(t, 0), 20L));
    assertEquals(
        Map.of(partition(t, 0), 20L, partition(t, 1), 2L),
        store().positions(g),
        "positions(group) after overwriting one partition");
  }

  /**
   * A5. {@code delete(group)} removes every position of the group and returns true; results and
   * other groups are untouched.
   *
   * <p>If this fails, check: delete removes offset records only, by exact group.
   */
  @Test
  @DisplayName(
      "[A5] delete(group) removes every position, returns true, leaves results and other groups")
  void a5_deleteGroup() {
    String g = group();
    String other = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    Partition q = partition(topic(), 1);
    store().initialize(g, Map.of(p, 0L, q, 0L));
    store().initialize(other, Map.of(p, 4L));
    store().commit(g, List.of(new OffsetRange(p, 0, 2)), put(ns, Map.of("kept", "yes")));
    assertTrue(store().delete(g), "delete of a group with positions must return true");
    assertEquals(Map.of(), store().positions(g), "positions(group) after delete(group)");
    assertEquals(
        Map.of(),
        store().positions(g, List.of(p, q)),
        "positions(group, partitions) after delete(group)");
    assertEquals(Map.of(p, 4L), store().positions(other), "another group after delete(group)");
    assertResults("after delete(group): results are the user's", ns, Map.of("kept", "yes"));
  }

  /**
   * A6. {@code delete(group)} of a group with no stored position returns false.
   *
   * <p>If this fails, check: the return value reflects whether anything was deleted.
   */
  @Test
  @DisplayName("[A6] delete(group) of a group without positions returns false")
  void a6_deleteUnknownGroup() {
    String g = group();
    assertFalse(store().delete(g), "delete of a group never written must return false");
    store().initialize(g, Map.of(partition(topic(), 0), 1L));
    assertTrue(store().delete(g), "first delete of a group with a position");
    assertFalse(store().delete(g), "second delete of the same group");
  }

  /**
   * A7. {@code delete(group, partitions)} removes exactly those positions, returns how many
   * existed, and leaves the group's other positions and the results untouched.
   *
   * <p>If this fails, check: the delete is keyed by topic and partition and the count is of
   * positions actually removed (not of partitions asked).
   */
  @Test
  @DisplayName("[A7] delete(group, partitions) removes just those and returns the number removed")
  void a7_deletePartitions() {
    String g = group();
    String ns = namespace();
    String t = topic();
    store().initialize(g, Map.of(partition(t, 0), 0L, partition(t, 1), 1L, partition(t, 2), 2L));
    store()
        .commit(g, List.of(new OffsetRange(partition(t, 0), 0, 3)), put(ns, Map.of("kept", "yes")));
    assertEquals(
        2,
        store().delete(g, List.of(partition(t, 0), partition(t, 2), partition(t, 9))),
        "delete of 2 stored partitions and 1 unknown");
    assertEquals(
        Map.of(partition(t, 1), 1L),
        store().positions(g),
        "positions(group) after deleting two partitions");
    assertResults("after delete(group, partitions)", ns, Map.of("kept", "yes"));
    assertEquals(0, store().delete(g, List.of()), "delete of no partitions");
  }

  /**
   * A8. A group whose positions were all deleted is no longer listed by {@code groups()}.
   *
   * <p>If this fails, check: deleting the last partition removes the group record (an empty hash,
   * an empty group node, an empty document).
   */
  @Test
  @DisplayName("[A8] a group whose positions are all deleted is not listed")
  void a8_deletedGroupNotListed() {
    String g1 = group();
    String g2 = group();
    Partition p = partition(topic(), 0);
    store().initialize(g1, Map.of(p, 0L));
    store().initialize(g2, Map.of(p, 0L));
    store().delete(g1);
    store().delete(g2, List.of(p));
    Set<String> groups = store().groups();
    assertFalse(groups.contains(g1), "groups() still lists '" + g1 + "' after delete(group)");
    assertFalse(
        groups.contains(g2), "groups() still lists '" + g2 + "' after deleting its only partition");
  }

  /**
   * A9. After deletion a partition starts afresh: initialize stores the new start and commits
   * continue from it.
   *
   * <p>If this fails, check: delete leaves no tombstone, version or cached value that the next
   * initialize or commit trips over (ZooKeeper versions, Cassandra tombstones with LWT).
   */
  @Test
  @DisplayName("[A9] after delete a partition is initialized and committed afresh")
  void a9_reinitializeAfterDelete() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 100L));
    store().commit(g, List.of(new OffsetRange(p, 100, 110)), ResultWriter.none());
    store().delete(g, List.of(p));
    assertEquals(Map.of(p, 0L), store().initialize(g, Map.of(p, 0L)), "initialize after delete");
    store().commit(g, List.of(new OffsetRange(p, 0, 5)), ResultWriter.none());
    assertPositions("after a commit following delete and initialize", g, List.of(p), Map.of(p, 5L));
  }

  // ---------------------------------------------------------------- D: durability across store
  // instances

  /**
   * D1. Positions survive closing the store and opening a new instance.
   *
   * <p>If this fails, check: positions are written to the server, not kept in the store object, and
   * {@code close()} does not drop them (temporary tables, in-memory databases closed with the last
   * connection, ephemeral nodes).
   */
  @Test
  @DisplayName("[D1] positions survive closing the store and opening a new one")
  void d1_positionsSurviveReopen() {
    String g = group();
    String t = topic();
    store().initialize(g, Map.of(partition(t, 0), 0L, partition(t, 1), 5L));
    store().commit(g, List.of(new OffsetRange(partition(t, 0), 0, 8)), ResultWriter.none());
    reopen();
    assertEquals(
        Map.of(partition(t, 0), 8L, partition(t, 1), 5L),
        store().positions(g),
        "positions(group) after reopening");
    assertTrue(store().groups().contains(g), "groups() after reopening lists '" + g + "'");
  }

  /**
   * D2. Committed results survive closing the store and opening a new instance.
   *
   * <p>If this fails, check: the commit's transaction is committed, not merely flushed, before
   * {@code commit} returns.
   */
  @Test
  @DisplayName("[D2] committed results survive closing the store and opening a new one")
  void d2_resultsSurviveReopen() {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    store().commit(g, List.of(new OffsetRange(p, 0, 3)), put(ns, Map.of("a", "1", "b", "2")));
    reopen();
    assertResults("after reopening", ns, Map.of("a", "1", "b", "2"));
    store().commit(g, List.of(new OffsetRange(p, 3, 4)), put(ns, Map.of("c", "3")));
    assertResults("after a commit on the reopened store", ns, Map.of("a", "1", "b", "2", "c", "3"));
  }

  /**
   * D3. {@code close()} is idempotent: a second call neither throws nor affects other instances.
   *
   * <p>If this fails, check: close guards against double release (pools, sessions, clients).
   */
  @Test
  @DisplayName("[D3] close is idempotent")
  void d3_closeIdempotent() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 3L));
    OffsetStore<T> extra = open();
    extra.close();
    extra.close();
    assertPositions(
        "through another instance after one was closed twice", g, List.of(p), Map.of(p, 3L));
  }

  /**
   * D4. Two store instances open at once see each other's commits immediately.
   *
   * <p>If this fails, check: positions are not cached in the store object between calls.
   */
  @Test
  @DisplayName("[D4] two open instances see each other's commits")
  void d4_instancesShareState() {
    String g = group();
    Partition p = partition(topic(), 0);
    OffsetStore<T> other = open();
    store().initialize(g, Map.of(p, 0L));
    assertEquals(
        Map.of(p, 0L), other.positions(g, List.of(p)), "the other instance after initialize");
    other.commit(g, List.of(new OffsetRange(p, 0, 6)), ResultWriter.none());
    assertPositions("the first instance after the other committed", g, List.of(p), Map.of(p, 6L));
    expectConflict(
        "the first instance committing a range the other already did",
        () -> store().commit(g, List.of(new OffsetRange(p, 0, 6)), ResultWriter.none()));
  }

  /**
   * D5. {@link OffsetStore#prepare()} is idempotent: called again and again, on this instance and
   * on another, it keeps every stored position and result, and the store commits normally after it.
   *
   * <p>If this fails, check: prepare creates only what is missing ({@code IF NOT EXISTS}, an
   * "already exists" answer taken as success), never drops or truncates, and leaves the store
   * usable (no statement prepared against a table it replaced, no session closed).
   */
  @Test
  @DisplayName("[D5] prepare is idempotent, keeps what is stored, and the store works after it")
  void d5_prepareIdempotent() {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().prepare();
    store().initialize(g, Map.of(p, 0L));
    store().commit(g, List.of(new OffsetRange(p, 0, 2)), put(ns, Map.of("a", "1")));
    store().prepare();
    OffsetStore<T> other = open();
    other.prepare();
    other.prepare();
    assertPositions("after prepare() on two instances", g, List.of(p), Map.of(p, 2L));
    assertResults("after prepare() on two instances", ns, Map.of("a", "1"));
    store().commit(g, List.of(new OffsetRange(p, 2, 5)), put(ns, Map.of("b", "2")));
    other.commit(g, List.of(new OffsetRange(p, 5, 6)), ResultWriter.none());
    assertPositions("after commits following prepare()", g, List.of(p), Map.of(p, 6L));
    assertResults("after commits following prepare()", ns, Map.of("a", "1", "b", "2"));
  }

  // ---------------------------------------------------------------- S: scale

  /**
   * S1. 10 000 partitions (10 topics of 1 000) initialized in one call are all read back by one
   * {@code positions(group, partitions)} call.
   *
   * <p>If this fails, check: large {@code IN} lists, pipelines and multi-gets are chunked below the
   * server's limits (bind parameters, request size, {@code jute.maxbuffer}).
   */
  @Test
  @DisplayName(
      "[S1] 10 000 partitions initialized in one call are read back by positions(group, partitions)")
  void s1_manyPartitionsByList() {
    String g = group();
    Map<Partition, Long> starts = manyPartitions();
    assertEquals(
        starts.size(),
        store().initialize(g, starts).size(),
        "entries returned by initialize of 10 000 partitions");
    Map<Partition, Long> found = store().positions(g, starts.keySet());
    assertEquals(
        starts.size(),
        found.size(),
        "positions(group, partitions) of 10 000 partitions: number found");
    assertEquals(starts, found, "positions(group, partitions) of 10 000 partitions");
  }

  /**
   * S2. 10 000 partitions initialized in one call are all read back by {@code positions(group)}.
   *
   * <p>If this fails, check: the group read is not truncated by a default page size or scan count.
   */
  @Test
  @DisplayName("[S2] 10 000 partitions initialized in one call are read back by positions(group)")
  void s2_manyPartitionsByGroup() {
    String g = group();
    Map<Partition, Long> starts = manyPartitions();
    store().initialize(g, starts);
    Map<Partition, Long> found = store().positions(g);
    assertEquals(
        starts.size(), found.size(), "positions(group) of 10 000 partitions: number found");
    assertEquals(starts, found, "positions(group) of 10 000 partitions");
  }

  /**
   * S3. One commit of {@code min(maxRangesPerCommit, 1000)} ranges moves every position and writes
   * its results.
   *
   * <p>If this fails, check: a wide commit does not exceed a statement, batch or request limit the
   * store did not declare.
   */
  @Test
  @DisplayName("[S3] a commit of up to 1 000 ranges moves every position")
  void s3_wideCommit() {
    int n = Math.min(maxRanges(), 1000);
    String g = group();
    String ns = namespace();
    String t = topic();
    Map<Partition, Long> starts = new HashMap<>();
    Map<Partition, Long> expected = new HashMap<>();
    List<OffsetRange> ranges = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      starts.put(partition(t, i), (long) i);
      expected.put(partition(t, i), i + 10L);
      ranges.add(new OffsetRange(partition(t, i), i, i + 10L));
    }
    store().initialize(g, starts);
    store().commit(g, ranges, put(ns, entries("r", 50)));
    assertEquals(expected, store().positions(g), "positions after a commit of " + n + " ranges");
    assertResults("after a commit of " + n + " ranges", ns, entries("r", 50));
  }

  /**
   * S4. What a store declares about its batch size holds at full size. A store that declares a
   * limit ({@link Capabilities#maxRangesPerCommit()}) commits exactly that many ranges spread over
   * many topics, with results, and refuses one more with a {@link BatchTooLargeException} before
   * anything is written: the writer does not run, no position moves, in any topic. A store that
   * declares no limit commits {@code tandem.tck.unbounded.ranges} ranges (default 5 000) with
   * results. Declared limits up to {@code tandem.tck.limit.ranges} (default 20 000) are tested at
   * full size; a larger one is skipped with the property to raise.
   *
   * <p>If this fails, check: the declared limit is what the backend accepts in one atomic step
   * whatever the batch's shape (results included, ranges over many topics, not only one); the limit
   * is checked for the whole batch before the first write, never per topic or per chunk as the
   * batch is written; and a store declaring no limit has none below the tested size (statement
   * parameters, request size, transaction size).
   */
  @Test
  @DisplayName(
      "[S4] a declared limit holds at full size over many topics with results, and no limit means a large commit succeeds")
  void s4_declaredLimitAtFullSize() {
    int max = maxRanges();
    String g = group();
    String ns = namespace();
    boolean bounded = max != Integer.MAX_VALUE;
    int n = bounded ? max : intSetting("tandem.tck.unbounded.ranges", 5_000);
    int cap = intSetting("tandem.tck.limit.ranges", 20_000);
    assumeTrue(
        n <= cap,
        "store's limit of "
            + max
            + " ranges is above tandem.tck.limit.ranges="
            + cap
            + "; raise the property to test it at full size");
    // 100 partitions per topic: a batch at the limit spans many topics.
    List<String> topics = new ArrayList<>();
    for (int i = 0; i <= n / 100; i++) {
      topics.add(topic());
    }
    Map<Partition, Long> starts = new HashMap<>();
    Map<Partition, Long> moved = new HashMap<>();
    List<OffsetRange> ranges = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Partition p = partition(topics.get(i / 100), i % 100);
      starts.put(p, (long) i);
      moved.put(p, i + 3L);
      ranges.add(new OffsetRange(p, i, i + 3L));
    }
    assertEquals(n, store().initialize(g, starts).size(), "initialize of " + n + " partitions");
    store().commit(g, ranges, put(ns, entries("r", 10)));
    assertEquals(
        moved,
        store().positions(g),
        "positions after a commit of "
            + n
            + " ranges over "
            + topics.size()
            + " topics"
            + (bounded ? ", exactly the declared maxRangesPerCommit" : " (no declared limit)"));
    assertResults("after a commit of " + n + " ranges", ns, entries("r", 10));
    if (!bounded) {
      return;
    }
    // One more range than the limit, spread the same way: refused before anything is written.
    Partition extra = partition(topic(), 0);
    store().initialize(g, Map.of(extra, 0L));
    Map<Partition, Long> before = new HashMap<>(moved);
    before.put(extra, 0L);
    List<OffsetRange> tooMany = new ArrayList<>();
    moved.forEach((p, at) -> tooMany.add(new OffsetRange(p, at, at + 1)));
    tooMany.add(new OffsetRange(extra, 0, 1));
    String ns2 = namespace();
    AtomicBoolean called = new AtomicBoolean();
    assertThrows(
        BatchTooLargeException.class,
        () -> store().commit(g, tooMany, tracking(called, put(ns2, Map.of("k", "v")))),
        "a commit of " + (max + 1) + " ranges over many topics, one more than maxRangesPerCommit");
    Map<Partition, Long> after = store().positions(g);
    Map<Partition, Long> changed = new TreeMap<>();
    after.forEach(
        (p, at) -> {
          if (!at.equals(before.get(p))) {
            changed.put(p, at);
          }
        });
    assertEquals(
        Map.of(),
        changed,
        "positions that moved in a refused commit of "
            + (max + 1)
            + " ranges (nothing may be half-written)");
    assertEquals(before, after, "positions after the refused commit");
    assertFalse(called.get(), "the writer ran for a batch over the declared limit");
    assertResults("after the refused commit", ns2, Map.of());
  }

  // ---------------------------------------------------------------- R: replay

  /**
   * R1. On an {@link io.tandem.spi.Guarantee#IDEMPOTENT} store, replaying a committed batch (its
   * results written again, its commit now a conflict) leaves the results exactly as they were and
   * the position where it was.
   *
   * <p>If this fails, check: results are upserts keyed by the probe's key (no duplicates, no
   * appends), and the conflict leaves the offset untouched.
   */
  @Test
  @DisplayName("[R1] replaying a committed batch leaves results unchanged (IDEMPOTENT)")
  void r1_replayLeavesResults() {
    assumeFalse(
        caps().transactional(), "store declares TRANSACTIONAL: replays write nothing (see C5)");
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    Map<String, String> batch = entries("k", 5);
    store().commit(g, List.of(new OffsetRange(p, 0, 5)), put(ns, batch));
    Map<String, String> before = results(ns);
    assertEquals(batch, before, "results after the first commit");
    expectConflict(
        "replaying [0, 5)",
        () -> store().commit(g, List.of(new OffsetRange(p, 0, 5)), put(ns, batch)));
    assertResults("after the replay", ns, before);
    assertPositions("after the replay", g, List.of(p), Map.of(p, 5L));
  }

  /**
   * R2. A batch whose first commit failed in its writer commits on the retry with exactly its
   * results, once.
   *
   * <p>If this fails, check: a failed attempt leaves nothing that the retry adds to (partial
   * results, a moved position, a held lock).
   */
  @Test
  @DisplayName("[R2] a batch retried after a writer failure commits once with exactly its results")
  void r2_retryAfterWriterFailure() {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    Map<String, String> batch = entries("k", 4);
    assertThrows(
        ResultWriteException.class,
        () ->
            store()
                .commit(
                    g,
                    List.of(new OffsetRange(p, 0, 4)),
                    failing(ns, batch, new IllegalStateException("tck: writer fails on purpose"))),
        "first attempt, writer fails");
    store().commit(g, List.of(new OffsetRange(p, 0, 4)), put(ns, batch));
    assertResults("after the retry", ns, batch);
    assertPositions("after the retry", g, List.of(p), Map.of(p, 4L));
  }

  /**
   * R3. While a commit's writer runs, another store instance rewrites the committed partition's
   * position to the value it already has (an administrator's overwrite, a racing no-op). The commit
   * still succeeds, and exactly one run of its writer stands (each run writes a key of its own), on
   * a {@link io.tandem.spi.Guarantee#TRANSACTIONAL} store. This forces an internal retry on stores
   * that detect concurrent writes by version or {@code WATCH}; a store that locks the position for
   * the commit makes the rewrite wait (the writer waits for it 2 s at most), and the rule then
   * checks the results only.
   *
   * <p>If this fails, check: a retry after a version change with an unchanged value runs the writer
   * on a fresh unit of work (a new {@code MULTI}, a new op list, a new transaction) and discards
   * the first run's writes; and such a retry is not reported as a conflict, since the stored
   * position still equals {@code from}.
   */
  @Test
  @DisplayName(
      "[R3] a commit disturbed while its writer runs leaves exactly one run of its writer (TRANSACTIONAL)")
  void r3_disturbedCommitOneWriterRun() throws Exception {
    assumeTrue(
        caps().transactional(),
        "store declares IDEMPOTENT: results of a retried run may stand by contract");
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 5L));
    OffsetStore<T> second = open();
    WriterRuns runs = new WriterRuns(ns);
    String commit = runs.newCommit();
    ResultWriter<T> run = runs.writer(commit);
    ExecutorService pool = Executors.newSingleThreadExecutor(daemon());
    AtomicReference<Future<?>> disturbance = new AtomicReference<>();
    AtomicBoolean disturbedInTime = new AtomicBoolean();
    try {
      store()
          .commit(
              g,
              List.of(new OffsetRange(p, 5, 8)),
              handle -> {
                if (disturbance.get() == null) {
                  Future<?> f =
                      pool.submit(
                          () -> {
                            second.overwrite(g, Map.of(p, 5L));
                            return null;
                          });
                  disturbance.set(f);
                  try {
                    f.get(2, TimeUnit.SECONDS);
                    disturbedInTime.set(true);
                  } catch (java.util.concurrent.TimeoutException e) {
                    // The store holds the position locked for this commit: nothing to retry.
                  }
                }
                run.write(handle);
              });
      runs.succeeded(commit);
      Future<?> f = disturbance.get();
      assertNotNull(f, "the writer was never run");
      f.get(TckTimeout.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      pool.shutdownNow();
    }
    runs.assertOneRunPerSuccessfulCommit("after a commit disturbed by a same-value overwrite");
    if (disturbedInTime.get()) {
      assertPositions(
          "after a commit disturbed by a same-value overwrite", g, List.of(p), Map.of(p, 8L));
    }
  }

  /**
   * R4. On an {@link io.tandem.spi.Guarantee#IDEMPOTENT} store a commit's results are in place
   * before its positions move, as another reader sees it while the commit runs: a second store
   * instance, read from inside the writer, still finds the position at {@code from}; a reader
   * polling during the commit that finds the position at {@code until} finds every result too.
   *
   * <p>If this fails, check: the conditional advance of the positions is sent only after every
   * result write was acknowledged (not in the same unordered batch, not before the writer runs);
   * otherwise a crash between the two loses a batch whose offsets are stored.
   */
  @Test
  @DisplayName(
      "[R4] results are visible before positions move, seen by another reader during a commit (IDEMPOTENT)")
  void r4_resultsBeforePositions() throws Exception {
    assumeFalse(
        caps().transactional(),
        "store declares TRANSACTIONAL: results and positions become visible together (see T3)");
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    OffsetStore<T> reader = open();
    Map<String, String> batch = entries("k", 20);
    ResultWriter<T> results = put(ns, batch);
    AtomicReference<Map<Partition, Long>> seenInWriter = new AtomicReference<>();
    AtomicBoolean done = new AtomicBoolean();
    List<String> early = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger polls = new AtomicInteger();
    ExecutorService pool = Executors.newSingleThreadExecutor(daemon());
    Future<?> poller =
        pool.submit(
            () -> {
              while (!done.get()) {
                polls.incrementAndGet();
                Long at = reader.positions(g, List.of(p)).get(p);
                if (at != null && at == 20L) {
                  Map<String, String> found = results(ns);
                  if (!found.equals(batch)) {
                    early.add("position 20 with results " + new TreeMap<>(found).keySet());
                  }
                  return null;
                }
              }
              return null;
            });
    try {
      store()
          .commit(
              g,
              List.of(new OffsetRange(p, 0, 20)),
              handle -> {
                if (seenInWriter.get() == null) {
                  seenInWriter.set(reader.positions(g, List.of(p)));
                }
                results.write(handle);
              });
      poller.get(TckTimeout.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      done.set(true);
      pool.shutdownNow();
    }
    assertEquals(
        Map.of(p, 0L),
        seenInWriter.get(),
        "another instance's positions while the writer ran: the position moved before the results"
            + " were written");
    assertTrue(
        early.isEmpty(),
        () -> "a reader saw the position moved before the results were there: " + early);
    assertResults("after the commit", ns, batch);
    assertPositions("after the commit", g, List.of(p), Map.of(p, 20L));
  }

  // ---------------------------------------------------------------- M: model-based histories

  /**
   * M1. Random sequential histories of every operation (initialize, commits that match, gap,
   * overlap, are empty or whose writer throws, overwrite, delete of partitions and of the group,
   * reads, prepare, reopening) give exactly the answers of a model of the contract, on partitions
   * whose names differ only in case, by a trailing dot, or in the high bits of their number, with
   * positions above 2^53. Sizes: {@code tandem.model.runs} (default 5) runs of {@code
   * tandem.model.ops} (default 30) operations; a failure is shrunk and names the seed that replays
   * it ({@code -Dtandem.model.seed=}).
   *
   * <p>If this fails, check: the shrunk history in the message, call by call; the first answer the
   * model refused is the violation, usually of a rule of sections P, I, C, T, N or A.
   */
  @Test
  @DisplayName("[M1] random sequential histories match the model of the contract exactly")
  void m1_sequentialHistoriesMatchTheModel() throws Exception {
    modelCheck(1, 5, 30);
  }

  /**
   * M2. Random histories of three concurrent actors, each on partitions of its own and all on
   * shared ones, are allowed by the model: own partitions answer exactly; on shared ones initialize
   * returns the first position stored, positions never go back, conflicts report a position that
   * stood, and the successful commits form one chain from the initialized position to the final
   * one. Sizes: {@code tandem.model.runs} (default 3) runs of {@code tandem.model.ops} (default 15)
   * operations per actor; the seed is in the failure message.
   *
   * <p>If this fails, check: the shrunk history in the message; two winners from one position point
   * to a read-then-write race (see X1), a broken chain to a commit that moved a position without
   * succeeding or succeeded without moving it.
   */
  @Test
  @DisplayName("[M2] random concurrent histories of several actors are allowed by the model")
  void m2_concurrentHistoriesAllowedByTheModel() throws Exception {
    modelCheck(3, 3, 15);
  }

  // ---------------------------------------------------------------- F: failure classification

  /**
   * F1. A store whose credentials the backend refuses fails with a {@link
   * StoreConfigurationException} (not the retriable {@link StoreUnavailableException}), when opened
   * or at its first operation, within the kit's timeout: a consumer whose credentials were revoked
   * stops instead of retrying forever. Skipped where {@link #newStoreWithRefusedCredentials()} is
   * not provided.
   *
   * <p>If this fails, check: the store's one error-mapping method recognises the backend's
   * authentication and authorization errors (SQLState class 28 and 42501, Redis {@code NOAUTH} /
   * {@code WRONGPASS} / {@code NOPERM}, ZooKeeper {@code AUTHFAILED} / {@code NOAUTH}, the drivers'
   * authentication exceptions) before its check for unavailability, and that opening does not retry
   * a refused login until a connection timeout.
   */
  @Test
  @DisplayName("[F1] refused credentials are a non-retriable configuration error, promptly")
  void f1_refusedCredentialsAreAConfigurationError() {
    String g = group();
    Partition p = partition(topic(), 0);
    Throwable thrown;
    try {
      OffsetStore<T> s = newStoreWithRefusedCredentials();
      assertNotNull(s, "newStoreWithRefusedCredentials()");
      opened.add(s);
      s.initialize(g, Map.of(p, 0L));
      s.positions(g, List.of(p));
      thrown = null;
    } catch (org.opentest4j.TestAbortedException e) {
      throw e;
    } catch (Exception e) {
      thrown = e;
    }
    if (thrown == null) {
      fail(
          "a store with refused credentials initialized and read positions: the backend accepted"
              + " them, or the store never used them");
    }
    Throwable refusal = thrown;
    assertFalse(
        refusal instanceof StoreUnavailableException,
        () -> "refused credentials were reported as retriable: " + refusal);
    assertInstanceOf(
        StoreConfigurationException.class,
        refusal,
        () -> "refused credentials must be a StoreConfigurationException, got " + refusal);
  }

  // ---------------------------------------------------------------- K: capabilities and handle

  /**
   * K1. {@code capabilities()} is stable across calls and instances and has a non-blank
   * description; {@code handleType()} is not null.
   *
   * <p>If this fails, check: capabilities are derived from configuration and server state that does
   * not change during the run, and the description says what the store is.
   */
  @Test
  @DisplayName("[K1] capabilities are stable and described")
  void k1_capabilitiesStable() {
    Capabilities first = store().capabilities();
    assertNotNull(first, "capabilities()");
    assertEquals(first, store().capabilities(), "capabilities() called twice");
    assertEquals(first, open().capabilities(), "capabilities() of another instance");
    assertFalse(first.description().isBlank(), "capabilities().description() is blank");
    assertNotNull(store().handleType(), "handleType()");
  }

  /**
   * K2. The writer receives a non-null handle that is an instance of {@code handleType()}.
   *
   * <p>If this fails, check: the store passes its unit of work (connection, transaction, op list)
   * to the writer, of the declared type.
   */
  @Test
  @DisplayName("[K2] the writer gets a handle of handleType()")
  void k2_handleMatchesType() {
    String g = group();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    AtomicReference<Object> seen = new AtomicReference<>();
    store().commit(g, List.of(new OffsetRange(p, 0, 1)), handle -> seen.set(handle));
    assertNotNull(seen.get(), "the handle passed to the writer");
    assertInstanceOf(
        store().handleType(), seen.get(), "the handle passed to the writer is not of handleType()");
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  private static String randomRunId() {
    String s =
        Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36 * 36), 36);
    return "000000".substring(s.length()) + s;
  }

  /** A whole-number system property {@code > 0}, or the default; a bad value fails loudly. */
  private static int intSetting(String property, int fallback) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(property + " must be a whole number > 0, got '" + v + "'");
  }

  /** Runs the model check under the kit's timeout, on stores the kit closes after the test. */
  private void modelCheck(int actors, int runs, int operations) throws Exception {
    long budget = TckTimeout.timeout().toMillis();
    io.tandem.tck.model.ModelCheck.of(this::open, probeInstance())
        .groupPrefix("tck-" + rule + "-" + RUN)
        .actors(actors)
        .runs(runs)
        .operations(operations)
        .timeouts(budget / 3, budget / 4)
        .run();
  }

  /** The test's main store, opened on first use. */
  private OffsetStore<T> store() {
    OffsetStore<T> s = current;
    if (s == null) {
      synchronized (this) {
        if (current == null) {
          current = open();
        }
        s = current;
      }
    }
    return s;
  }

  /** Another store instance on the same backend, closed after the test. */
  private OffsetStore<T> open() {
    OffsetStore<T> s;
    try {
      s = newStore();
    } catch (Exception e) {
      return fail("newStore() threw while setting up rule " + rule, e);
    }
    assertNotNull(s, "newStore() returned null");
    opened.add(s);
    return s;
  }

  /** Closes the main store and opens a new one in its place. */
  private void reopen() {
    OffsetStore<T> old = store();
    old.close();
    current = open();
  }

  private Capabilities caps() {
    Capabilities c = capabilities;
    if (c == null) {
      c = store().capabilities();
      assertNotNull(c, "capabilities() returned null");
      capabilities = c;
    }
    return c;
  }

  private int maxRanges() {
    return caps().maxRangesPerCommit();
  }

  private void assumeRanges(int needed) {
    assumeTrue(
        maxRanges() >= needed,
        "rule needs " + needed + " ranges per commit, store accepts " + maxRanges());
  }

  private ResultProbe<T> probeInstance() {
    ResultProbe<T> p = probe;
    if (p == null) {
      p = probe();
      assertNotNull(p, "probe() returned null");
      probe = p;
    }
    return p;
  }

  private String group() {
    return "tck-" + rule + "-" + RUN + "-" + SEQUENCE.incrementAndGet();
  }

  private String topic() {
    return "tck-"
        + rule.toLowerCase(java.util.Locale.ROOT)
        + "-"
        + RUN
        + "-"
        + SEQUENCE.incrementAndGet();
  }

  private String namespace() {
    return rule.toLowerCase(java.util.Locale.ROOT) + "_" + RUN + "_" + SEQUENCE.incrementAndGet();
  }

  private static Partition partition(String topic, int n) {
    return new Partition(topic, n);
  }

  private static Map<String, String> entries(String prefix, int n) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < n; i++) {
      m.put(prefix + i, "value-" + i);
    }
    return m;
  }

  private static Map<Partition, Long> manyPartitions() {
    Map<Partition, Long> m = new HashMap<>();
    for (int t = 0; t < 10; t++) {
      String topic = "tck-s-" + RUN + "-" + SEQUENCE.incrementAndGet();
      for (int n = 0; n < 1000; n++) {
        m.put(new Partition(topic, n), (long) n * 7 + t);
      }
    }
    return m;
  }

  private ResultWriter<T> put(String ns, Map<String, String> entries) {
    ResultWriter<T> w = probeInstance().put(ns, entries);
    assertNotNull(w, "probe().put returned null");
    return w;
  }

  /** A writer that writes its entries through the probe, then throws {@code failure}. */
  private ResultWriter<T> failing(String ns, Map<String, String> entries, Exception failure) {
    ResultWriter<T> w = put(ns, entries);
    return handle -> {
      w.write(handle);
      throw failure;
    };
  }

  private static <T> ResultWriter<T> tracking(AtomicBoolean called, ResultWriter<T> w) {
    return handle -> {
      called.set(true);
      w.write(handle);
    };
  }

  private Map<String, String> results(String ns) {
    Map<String, String> found;
    try {
      found = probeInstance().read(ns);
    } catch (Exception e) {
      return fail("probe().read(\"" + ns + "\") threw", e);
    }
    assertNotNull(found, "probe().read returned null");
    return found;
  }

  private void assertResults(String when, String ns, Map<String, String> expected) {
    Map<String, String> found = results(ns);
    assertEquals(
        new TreeMap<>(expected),
        new TreeMap<>(found),
        () -> when + ": results in namespace '" + ns + "'");
  }

  /**
   * After a failed commit: nothing may stay on a TRANSACTIONAL store; an IDEMPOTENT one may keep
   * what the failed writer wrote (keyed, so a replay overwrites it), but nothing else.
   */
  private void assertFailedCommitResults(
      String when, String ns, Map<String, String> before, Map<String, String> attempted) {
    Map<String, String> found = results(ns);
    if (caps().transactional()) {
      assertEquals(
          new TreeMap<>(before),
          new TreeMap<>(found),
          () ->
              when
                  + ": a TRANSACTIONAL store kept results of a failed commit in namespace '"
                  + ns
                  + "'. If this fails, check: the check runs inside the results' transaction and a"
                  + " conflict rolls it back");
    } else {
      Map<String, String> allowed = new HashMap<>(before);
      allowed.putAll(attempted);
      for (Map.Entry<String, String> e : found.entrySet()) {
        assertEquals(
            allowed.get(e.getKey()),
            e.getValue(),
            () -> when + ": result '" + e.getKey() + "' was written by no commit of this test");
      }
      for (String k : before.keySet()) {
        assertTrue(
            found.containsKey(k),
            () -> when + ": result '" + k + "' of an earlier commit vanished");
      }
    }
  }

  /**
   * A single-range commit from {@code from} while {@code stored} stands: a conflict reporting
   * (from, stored), no position moved, and (TRANSACTIONAL) no result kept.
   */
  private void conflictScenario(long stored, long from, long until, String what) {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, stored));
    Map<String, String> attempted = Map.of("k", "v");
    OffsetConflictException e =
        expectConflict(
            what,
            () -> store().commit(g, List.of(new OffsetRange(p, from, until)), put(ns, attempted)));
    assertConflicts(e, g, List.of(Conflict.of(p, from, stored)));
    assertPositions("after " + what, g, List.of(p), Map.of(p, stored));
    assertFailedCommitResults("after " + what, ns, Map.of(), attempted);
  }

  private void assertPositions(
      String when, String group, Collection<Partition> asked, Map<Partition, Long> expected) {
    Map<Partition, Long> found = store().positions(group, List.copyOf(asked));
    assertNotNull(found, "positions() returned null");
    assertEquals(
        new TreeMap<>(expected),
        sortedOrSame(found),
        () -> when + ": positions of group '" + group + "' (absent = no position)");
  }

  /**
   * Sorts for a readable message; a map with null keys or values is returned as is. Checks entry by
   * entry: {@code containsKey(null)} throws on sorted and immutable maps, which stores may return.
   */
  private static Map<Partition, Long> sortedOrSame(Map<Partition, Long> m) {
    for (Map.Entry<Partition, Long> e : m.entrySet()) {
      if (e.getKey() == null || e.getValue() == null) {
        return m;
      }
    }
    return new TreeMap<>(m);
  }

  private static OffsetConflictException expectConflict(String what, Executable commit) {
    return assertThrows(
        OffsetConflictException.class,
        commit,
        () -> what + " must fail with OffsetConflictException");
  }

  private static void assertConflicts(
      OffsetConflictException e, String group, List<Conflict> expected) {
    assertEquals(group, e.group(), "OffsetConflictException.group()");
    List<Conflict> found = e.conflicts();
    Supplier<String> message =
        () ->
            "OffsetConflictException.conflicts(): expected exactly "
                + expected
                + " (any order), found "
                + found
                + ". If this fails, check: every range is compared before throwing and each"
                + " conflict carries the range's from as expected and the stored position as found"
                + " (empty when none)";
    assertEquals(expected.size(), found.size(), message);
    assertEquals(new HashSet<>(expected), new HashSet<>(found), message);
  }

  private static String abbreviate(Collection<String> names) {
    if (names.size() <= 20) {
      return names.toString();
    }
    return names.stream().limit(20).toList() + " ... (" + names.size() + " in all)";
  }

  /** Asserts a store returns a group and topic name unchanged through every read. */
  private void roundTrip(String g, String t) {
    Partition p = partition(t, 3);
    assertEquals(
        Map.of(p, 4L),
        store().initialize(g, Map.of(p, 4L)),
        "initialize with group '" + g + "' and topic '" + t + "'");
    store().commit(g, List.of(new OffsetRange(p, 4, 9)), ResultWriter.none());
    assertPositions("group '" + g + "', topic '" + t + "'", g, List.of(p), Map.of(p, 9L));
    Map<Partition, Long> all = store().positions(g);
    assertEquals(
        Map.of(p, 9L),
        all,
        () ->
            "positions(group) must return the topic exactly as given: '"
                + t
                + "', got "
                + all.keySet());
    assertTrue(
        store().groups().contains(g), () -> "groups() must list '" + g + "' exactly as given");
    assertEquals(1, store().delete(g, List.of(p)), "delete(group, partitions) with these names");
    assertEquals(
        Map.of(),
        store().positions(g),
        () -> "positions(group) after deleting the only partition of '" + g + "'");
  }

  /** One racing thread's work; {@code thread} is 0 to {@value #THREADS} - 1. */
  @FunctionalInterface
  private interface ThreadBody {
    void run(int thread) throws Exception;
  }

  /**
   * Fails if any racing thread threw, with the first throwable as cause (its stack shows where the
   * store failed) and the others suppressed.
   */
  private static void assertNone(List<Throwable> failures, String what) {
    List<Throwable> copy;
    synchronized (failures) {
      copy = new ArrayList<>(failures);
    }
    if (copy.isEmpty()) {
      return;
    }
    AssertionError error =
        new AssertionError(
            what + ": " + copy.size() + " thread(s) threw, e.g. " + copy, copy.get(0));
    copy.stream().skip(1).limit(7).forEach(error::addSuppressed);
    throw error;
  }

  /**
   * Writers whose every run writes one key of its own ({@code c<commit>-r<run>}), so the kit sees
   * how often a store ran each commit's writer and which runs' writes stand.
   */
  private final class WriterRuns {
    private final String namespace;
    private final AtomicInteger commits = new AtomicInteger();
    private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    private final Set<String> succeeded = ConcurrentHashMap.newKeySet();
    private final Set<String> failed = ConcurrentHashMap.newKeySet();
    private final Set<String> unknownOutcome = ConcurrentHashMap.newKeySet();

    WriterRuns(String namespace) {
      this.namespace = namespace;
    }

    String newCommit() {
      String c = "c" + commits.incrementAndGet();
      runs.put(c, new AtomicInteger());
      return c;
    }

    ResultWriter<T> writer(String commit) {
      AtomicInteger count = runs.get(commit);
      return handle -> {
        int n = count.incrementAndGet();
        put(namespace, Map.of(commit + "-r" + n, "run " + n + " of " + commit)).write(handle);
      };
    }

    int count(String commit) {
      return runs.get(commit).get();
    }

    void succeeded(String commit) {
      succeeded.add(commit);
    }

    void unknownOutcome(String commit) {
      unknownOutcome.add(commit);
    }

    void failed(String commit) {
      failed.add(commit);
    }

    /** The keys of {@code commit}'s runs among {@code found}. */
    List<String> standing(String commit, Map<String, String> found) {
      List<String> out = new ArrayList<>();
      for (String k : new TreeMap<>(found).keySet()) {
        if (k.startsWith(commit + "-r")) {
          out.add(k);
        }
      }
      return out;
    }

    /** Exactly one run of every successful commit stands, and nothing else. */
    void assertOneRunPerSuccessfulCommit(String when) {
      Map<String, String> found = results(namespace);
      Map<String, List<String>> byCommit = new TreeMap<>();
      List<String> unknown = new ArrayList<>();
      for (String k : found.keySet()) {
        int at = k.indexOf("-r");
        String c = at < 0 ? null : k.substring(0, at);
        if (c == null || !runs.containsKey(c)) {
          unknown.add(k);
        } else {
          byCommit.computeIfAbsent(c, x -> new ArrayList<>()).add(k);
        }
      }
      List<String> problems = new ArrayList<>();
      for (String c : succeeded) {
        List<String> standing = byCommit.getOrDefault(c, List.of());
        if (standing.size() != 1) {
          problems.add(
              "successful commit " + c + " ran its writer " + count(c) + "x, standing " + standing);
        }
      }
      for (String c : failed) {
        List<String> standing = byCommit.getOrDefault(c, List.of());
        if (!standing.isEmpty()) {
          problems.add("failed commit " + c + " left " + standing);
        }
      }
      for (String c : unknownOutcome) {
        List<String> standing = byCommit.getOrDefault(c, List.of());
        if (standing.size() > 1) {
          problems.add("commit " + c + " (store unavailable) left " + standing);
        }
      }
      if (!unknown.isEmpty()) {
        problems.add("keys written by no run of this test: " + unknown);
      }
      assertTrue(
          problems.isEmpty(),
          () ->
              when
                  + ": results in namespace '"
                  + namespace
                  + "' are not exactly one writer run per successful commit ("
                  + succeeded.size()
                  + " succeeded, "
                  + failed.size()
                  + " failed): "
                  + problems.subList(0, Math.min(8, problems.size()))
                  + ". If this fails, check: an internal retry runs the writer on a fresh unit of"
                  + " work and discards the earlier run's writes");
    }
  }

  /** What happened in a concurrency rule. */
  private static final class Race {
    final String group;
    final String namespace;
    final Partition partition;
    final List<Integer> winners = Collections.synchronizedList(new ArrayList<>());
    final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());

    Race(String group, String namespace, Partition partition) {
      this.group = group;
      this.namespace = namespace;
      this.partition = partition;
    }

    List<Throwable> otherFailures() {
      List<Throwable> other = new ArrayList<>();
      for (Throwable t : failures) {
        if (!(t instanceof OffsetConflictException)) {
          other.add(t);
        }
      }
      return other;
    }
  }

  /** {@value #THREADS} threads on two store instances commit the same range [0, 10). */
  private Race sameRangeRace() {
    String g = group();
    String ns = namespace();
    Partition p = partition(topic(), 0);
    store().initialize(g, Map.of(p, 0L));
    OffsetStore<T> second = open();
    return race(
        g,
        ns,
        p,
        i -> {
          OffsetStore<T> s = i % 2 == 0 ? store() : second;
          s.commit(g, List.of(new OffsetRange(p, 0, 10)), put(ns, Map.of("thread-" + i, "won")));
        });
  }

  /**
   * Runs {@value #THREADS} tasks released together; a task that returns counts as a winner, one
   * that throws as a failure.
   */
  private Race race(String group, String ns, Partition p, ThreadBody body) {
    Race race = new Race(group, ns, p);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS, daemon());
    CountDownLatch ready = new CountDownLatch(THREADS);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    AtomicInteger done = new AtomicInteger();
    try {
      for (int i = 0; i < THREADS; i++) {
        int id = i;
        futures.add(
            pool.submit(
                () -> {
                  ready.countDown();
                  go.await();
                  try {
                    body.run(id);
                    race.winners.add(id);
                  } catch (Throwable t) {
                    race.failures.add(t);
                  } finally {
                    done.incrementAndGet();
                  }
                  return null;
                }));
      }
      ready.await();
      go.countDown();
      for (Future<?> f : futures) {
        f.get(TckTimeout.timeout().toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(
          "interrupted while waiting for the racing threads ("
              + done.get()
              + " of "
              + THREADS
              + " done)",
          e);
    } catch (Exception e) {
      fail("racing threads did not finish (" + done.get() + " of " + THREADS + " done)", e);
    } finally {
      pool.shutdownNow();
    }
    return race;
  }

  private static java.util.concurrent.ThreadFactory daemon() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "tandem-tck-race-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
