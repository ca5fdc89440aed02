package io.tandem.jdbc;

import static io.tandem.jdbc.Databases.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The JDBC store's own tests beyond the TCK, run against each database by a subclass: conflicts,
 * writer failures, races, schema, administration, the upsert adapter.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class JdbcStoreContract {

  static final int THREADS = 8;

  JdbcOffsetStore store;
  String table;
  String results;

  abstract Databases database();

  @BeforeAll
  void openStore() throws SQLException {
    table = unique("offsets");
    results = unique("results");
    store =
        JdbcOffsetStore.open(database().config().tableName(table).poolSize(THREADS + 2).build());
    try (Connection c = database().connect();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE "
              + results
              + " (k VARCHAR(200) NOT NULL PRIMARY KEY, v BIGINT, note VARCHAR(200))");
    }
  }

  @AfterAll
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  /** Results table contents: k -> v. */
  Map<String, Long> resultRows() throws SQLException {
    Map<String, Long> rows = new TreeMap<>();
    try (Connection c = database().connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT k, v FROM " + results)) {
      while (rs.next()) {
        rows.put(rs.getString(1), rs.getLong(2));
      }
    }
    return rows;
  }

  Map<String, Long> resultRows(String keyPrefix) throws SQLException {
    Map<String, Long> rows = new TreeMap<>();
    resultRows()
        .forEach(
            (k, v) -> {
              if (k.startsWith(keyPrefix)) {
                rows.put(k, v);
              }
            });
    return rows;
  }

  ResultWriter<Connection> insertRow(String key, long value) {
    return c -> {
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO " + results + " (k, v) VALUES (?, ?)")) {
        ps.setString(1, key);
        ps.setLong(2, value);
        ps.executeUpdate();
      }
    };
  }

  static Map<Partition, Long> at(long position, Partition... partitions) {
    Map<Partition, Long> m = new HashMap<>();
    for (Partition p : partitions) {
      m.put(p, position);
    }
    return m;
  }

  @Test
  void commitMovesEveryPositionAndWritesResultsTogether() throws SQLException {
    String group = unique("g");
    String topic = unique("t");
    Partition p0 = new Partition(topic, 0);
    Partition p1 = new Partition(topic, 1);
    store.initialize(group, at(0, p0, p1));

    store.commit(
        group,
        List.of(new OffsetRange(p1, 0, 7), new OffsetRange(p0, 0, 3)),
        insertRow(group + "/a", 1));

    assertThat(store.positions(group, List.of(p0, p1)))
        .containsOnly(Map.entry(p0, 3L), Map.entry(p1, 7L));
    assertThat(resultRows(group)).containsOnly(Map.entry(group + "/a", 1L));
  }

  @Test
  void conflictReportsEveryMismatchedPartitionAndMovesNothing() throws SQLException {
    String group = unique("g");
    String topic = unique("t");
    Partition p0 = new Partition(topic, 0);
    Partition p1 = new Partition(topic, 1);
    Partition p2 = new Partition(topic, 2);
    Partition p3 = new Partition(topic, 3); // never initialized
    store.initialize(group, at(0, p0, p1, p2));
    store.overwrite(group, Map.of(p0, 5L, p2, 7L));

    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(
                        new OffsetRange(p0, 0, 10),
                        new OffsetRange(p1, 0, 10),
                        new OffsetRange(p2, 0, 10),
                        new OffsetRange(p3, 0, 10)),
                    insertRow(group + "/x", 1)))
        .isInstanceOfSatisfying(
            OffsetConflictException.class,
            e -> {
              assertThat(e.group()).isEqualTo(group);
              assertThat(e.conflicts())
                  .containsExactlyInAnyOrder(
                      Conflict.of(p0, 0, 5), Conflict.of(p2, 0, 7), Conflict.missing(p3, 0));
              assertThat(e.getMessage()).contains(p0.toString(), p2.toString(), p3.toString());
            });

    assertThat(store.positions(group))
        .containsOnly(Map.entry(p0, 5L), Map.entry(p1, 0L), Map.entry(p2, 7L));
    assertThat(resultRows(group)).isEmpty();
  }

  @Test
  void writerFailureLeavesNoResultAndNoPosition() throws SQLException {
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, at(0, p));
    IllegalStateException boom = new IllegalStateException("boom after a write");

    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(new OffsetRange(p, 0, 5)),
                    c -> {
                      insertRow(group + "/half", 1).write(c);
                      throw boom;
                    }))
        .isInstanceOf(ResultWriteException.class)
        .hasCause(boom)
        .hasMessageContaining(group);

    assertThat(store.positions(group)).containsOnly(Map.entry(p, 0L));
    assertThat(resultRows(group)).isEmpty();
  }

  @Test
  void writerSqlErrorAbortsTheCommit() throws SQLException {
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, at(0, p));
    store.commit(group, List.of(new OffsetRange(p, 0, 1)), insertRow(group + "/dup", 1));

    // The same key again: a primary key violation inside the writer.
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(new OffsetRange(p, 1, 2)),
                    c -> {
                      insertRow(group + "/other", 2).write(c);
                      insertRow(group + "/dup", 3).write(c);
                    }))
        .isInstanceOf(ResultWriteException.class)
        .hasCauseInstanceOf(SQLException.class);

    assertThat(store.positions(group)).containsOnly(Map.entry(p, 1L));
    assertThat(resultRows(group)).containsOnly(Map.entry(group + "/dup", 1L));
  }

  @Test
  void writerCannotEndTheTransactionItself() throws SQLException {
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, at(0, p));

    for (ResultWriter<Connection> escape :
        List.<ResultWriter<Connection>>of(
            Connection::commit,
            Connection::rollback,
            c -> c.setAutoCommit(true),
            Connection::close)) {
      assertThatThrownBy(
              () ->
                  store.commit(
                      group,
                      List.of(new OffsetRange(p, 0, 5)),
                      c -> {
                        insertRow(group + "/escape", 1).write(c);
                        escape.write(c);
                      }))
          .isInstanceOf(ResultWriteException.class)
          .hasMessageContaining("not allowed in a ResultWriter");
    }
    assertThat(store.positions(group)).containsOnly(Map.entry(p, 0L));
    assertThat(resultRows(group)).isEmpty();
  }

  @Test
  void handleIsDeadAfterTheCommit() {
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, at(0, p));
    Connection[] kept = new Connection[1];
    store.commit(group, List.of(new OffsetRange(p, 0, 1)), c -> kept[0] = c);

    assertThatThrownBy(() -> kept[0].createStatement())
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("must not keep its handle");
  }

  @Test
  void concurrentCommitsOfOneRangeHaveExactlyOneWinner() throws Exception {
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, at(0, p));
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      for (int round = 0; round < 10; round++) {
        long from = round * 10L;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<String>> outcomes = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          String key = group + "/r" + round + "/t" + t;
          outcomes.add(
              pool.submit(
                  () -> {
                    start.await();
                    try {
                      store.commit(
                          group, List.of(new OffsetRange(p, from, from + 10)), insertRow(key, 1));
                      return "won";
                    } catch (OffsetConflictException e) {
                      assertThat(e.conflicts()).containsExactly(Conflict.of(p, from, from + 10));
                      return "conflict";
                    }
                  }));
        }
        start.countDown();
        List<String> seen = new ArrayList<>();
        for (Future<String> f : outcomes) {
          seen.add(f.get(60, TimeUnit.SECONDS));
        }
        assertThat(seen).as("round %d", round).containsOnlyOnce("won");
        assertThat(seen).filteredOn("conflict"::equals).hasSize(THREADS - 1);
        assertThat(resultRows(group + "/r" + round + "/")).as("round %d", round).hasSize(1);
      }
      assertThat(store.positions(group)).containsOnly(Map.entry(p, 100L));
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Eight workers commit overlapping sets of partitions in random order, each commit adding 1 to a
   * per-partition counter through the upsert adapter's fold. Exactly-once means no range is won
   * twice and every counter equals its partition's position at the end; the partition-ordered
   * updates mean no deadlock surfaces.
   */
  @Test
  void overlappingConcurrentCommitsKeepCountersEqualToPositions() throws Exception {
    raceOverlappingCommits(0);
  }

  /** One round of the race above; {@code seed} varies the workers' choices between rounds. */
  void raceOverlappingCommits(int seed) throws Exception {
    String group = unique("g");
    String topic = unique("t");
    List<Partition> partitions = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      partitions.add(new Partition(topic, i));
    }
    store.initialize(group, at(0, partitions.toArray(Partition[]::new)));
    JdbcUpsert counters = JdbcUpsert.into(results).key("k").columns("v").fold("v");
    AtomicInteger wins = new AtomicInteger();
    AtomicInteger conflicts = new AtomicInteger();
    Set<String> won = ConcurrentHashMap.newKeySet();
    List<String> twice = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Callable<Void>> workers = new ArrayList<>();
      for (int w = 0; w < THREADS; w++) {
        Random random = new Random(seed * 31L + w);
        workers.add(
            () -> {
              for (int i = 0; i < 25; i++) {
                List<Partition> subset = new ArrayList<>(partitions);
                java.util.Collections.shuffle(subset, random);
                subset = subset.subList(0, 1 + random.nextInt(partitions.size()));
                Map<Partition, Long> now = store.positions(group, subset);
                List<OffsetRange> ranges = new ArrayList<>();
                List<Object[]> rows = new ArrayList<>();
                for (Partition p : subset) {
                  ranges.add(new OffsetRange(p, now.get(p), now.get(p) + 1));
                  rows.add(new Object[] {group + "/" + p, 1L});
                }
                try {
                  store.commit(group, ranges, counters.rows(rows, r -> r));
                  wins.incrementAndGet();
                  for (OffsetRange r : ranges) {
                    if (!won.add(r.partition() + "@" + r.from())) {
                      twice.add(r.partition() + "@" + r.from());
                    }
                  }
                } catch (OffsetConflictException e) {
                  conflicts.incrementAndGet();
                }
              }
              return null;
            });
      }
      for (Future<Void> f : pool.invokeAll(workers, 5, TimeUnit.MINUTES)) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(twice).as("ranges committed twice (seed %d)", seed).isEmpty();
    Map<Partition, Long> positions = store.positions(group);
    Map<String, Long> rows = resultRows(group + "/");
    for (Partition p : partitions) {
      assertThat(rows.getOrDefault(group + "/" + p, 0L))
          .as("counter of %s (seed %d)", p, seed)
          .isEqualTo(positions.get(p));
    }
    assertThat(wins.get()).isPositive();
    assertThat(wins.get() + conflicts.get()).isEqualTo(THREADS * 25);
  }

  @Test
  void concurrentInitializeAgreesOnOnePosition() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    Partition p0 = new Partition(topic, 0);
    Partition p1 = new Partition(topic, 1);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Map<Partition, Long>>> answers = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        long startAt = 100 + t;
        answers.add(
            pool.submit(
                () -> {
                  start.await();
                  return store.initialize(group, at(startAt, p0, p1));
                }));
      }
      start.countDown();
      Set<Map<Partition, Long>> distinct = new java.util.HashSet<>();
      for (Future<Map<Partition, Long>> f : answers) {
        distinct.add(f.get(60, TimeUnit.SECONDS));
      }
      assertThat(distinct).hasSize(1);
      assertThat(distinct.iterator().next()).isEqualTo(store.positions(group));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void initializeKeepsExistingPositions() {
    String group = unique("g");
    String topic = unique("t");
    Partition p0 = new Partition(topic, 0);
    Partition p1 = new Partition(topic, 1);
    store.initialize(group, Map.of(p0, 4L));

    assertThat(store.initialize(group, Map.of(p0, 0L, p1, 9L)))
        .containsOnly(Map.entry(p0, 4L), Map.entry(p1, 9L));
  }

  @Test
  void administrationListsOverwritesAndDeletes() {
    String group = unique("g");
    String other = unique("g");
    String topic = unique("t");
    Partition p0 = new Partition(topic, 0);
    Partition p1 = new Partition(topic, 1);
    Partition p2 = new Partition(topic, 2);
    store.overwrite(group, Map.of(p0, 1L, p1, 2L, p2, 3L));
    store.overwrite(other, Map.of(p0, 8L));
    store.overwrite(group, Map.of(p1, 20L));

    assertThat(store.groups()).contains(group, other);
    assertThat(store.positions(group))
        .containsOnly(Map.entry(p0, 1L), Map.entry(p1, 20L), Map.entry(p2, 3L));
    assertThat(store.delete(group, List.of(p1, p2, new Partition(topic, 9)))).isEqualTo(2);
    assertThat(store.positions(group)).containsOnly(Map.entry(p0, 1L));
    assertThat(store.delete(group)).isTrue();
    assertThat(store.delete(group)).isFalse();
    assertThat(store.groups()).doesNotContain(group).contains(other);
    assertThat(store.positions(other)).containsOnly(Map.entry(p0, 8L));
  }

  @Test
  void namesAreKeptExactlyAsGiven() {
    String base = unique("Gr");
    List<String> groups = List.of(base, base.toLowerCase(), base + " ", base + "-ü漢字", " " + base);
    Partition p = new Partition(unique("Topic") + "-ß", 0);
    for (int i = 0; i < groups.size(); i++) {
      store.initialize(groups.get(i), Map.of(p, (long) i));
    }
    for (int i = 0; i < groups.size(); i++) {
      assertThat(store.positions(groups.get(i)))
          .as(groups.get(i))
          .containsOnly(Map.entry(p, (long) i));
    }
    assertThat(store.groups()).containsAll(groups);
  }

  @Test
  void prepareIsIdempotentAndConcurrentSafe() throws Exception {
    String fresh = unique("schema");
    try (JdbcOffsetStore lazy =
        JdbcOffsetStore.open(database().config().tableName(fresh).createSchema(false).build())) {
      Partition p = new Partition(unique("t"), 0);
      assertThatThrownBy(() -> lazy.positions("g", List.of(p)))
          .isInstanceOf(OffsetStoreException.class)
          .hasMessageContaining("prepare()");

      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Callable<Void>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          calls.add(
              () -> {
                try (JdbcOffsetStore other =
                    JdbcOffsetStore.open(
                        database().config().tableName(fresh).createSchema(false).build())) {
                  other.prepare();
                }
                return null;
              });
        }
        for (Future<Void> f : pool.invokeAll(calls)) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
      lazy.prepare();
      lazy.prepare();
      assertThat(lazy.initialize("g", Map.of(p, 3L))).containsOnly(Map.entry(p, 3L));
    }
  }

  @Test
  void upsertAdapterInsertsUpdatesAndFolds() throws SQLException {
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, at(0, p));
    JdbcUpsert replace = JdbcUpsert.into(results).key("k").columns("v", "note");
    JdbcUpsert add = JdbcUpsert.into(results).key("k").columns("v", "note").fold("v");
    record Row(String key, long value, String note) {}
    String a = group + "/a";
    String b = group + "/b";

    store.commit(
        group,
        List.of(new OffsetRange(p, 0, 2)),
        replace.rows(
            List.of(new Row(a, 10, "x"), new Row(b, 5, "y")),
            r -> new Object[] {r.key(), r.value(), r.note()}));
    store.commit(
        group,
        List.of(new OffsetRange(p, 2, 4)),
        add.rows(
            List.of(new Row(a, 3, "x2"), new Row(a, 4, "x3")),
            r -> new Object[] {r.key(), r.value(), r.note()}));
    store.commit(
        group, List.of(new OffsetRange(p, 4, 5)), replace.values(List.of(List.of(b, 1L, "z"))));

    assertThat(resultRows(group)).containsOnly(Map.entry(a, 17L), Map.entry(b, 1L));
    try (Connection c = database().connect();
        PreparedStatement ps = c.prepareStatement("SELECT note FROM " + results + " WHERE k = ?")) {
      ps.setString(1, a);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("x3");
      }
    }

    // A bad mapper is the writer's failure: nothing of the batch stays.
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(new OffsetRange(p, 5, 6)),
                    add.values(List.of(List.of(a, 100L, "n"), List.of(b, 1L)))))
        .isInstanceOf(ResultWriteException.class)
        .hasRootCauseMessage(
            "row mapper for "
                + results
                + " must return 3 values [k, v, note], got 2: ["
                + b
                + ", 1]");
    assertThat(resultRows(group)).containsOnly(Map.entry(a, 17L), Map.entry(b, 1L));
    assertThat(store.positions(group)).containsOnly(Map.entry(p, 5L));
  }

  @Test
  void upsertAdapterBatchesManyRows() throws SQLException {
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, at(0, p));
    List<List<?>> rows = new ArrayList<>();
    for (int i = 0; i < 1234; i++) {
      rows.add(List.of(group + "/" + i, (long) i));
    }
    store.commit(
        group,
        List.of(new OffsetRange(p, 0, 1234)),
        JdbcUpsert.into(results).key("k").columns("v").batchSize(100).values(rows));
    assertThat(resultRows(group + "/")).hasSize(1234).containsEntry(group + "/1233", 1233L);
  }

  @Test
  void capabilitiesAreTransactionalAndAtomic() {
    Capabilities caps = store.capabilities();
    assertThat(caps.guarantee()).isEqualTo(Guarantee.TRANSACTIONAL);
    assertThat(caps.atomicAcrossPartitions()).isTrue();
    assertThat(caps.maxRangesPerCommit()).isEqualTo(JdbcOffsetStore.MAX_RANGES_PER_COMMIT);
    assertThat(caps.description()).contains(table);
  }

  @Test
  void largestBatchCommitsAndOneMoreIsRefused() {
    String group = unique("g");
    String topic = unique("t");
    Map<Partition, Long> starts = new HashMap<>();
    List<OffsetRange> ranges = new ArrayList<>();
    for (int i = 0; i < JdbcOffsetStore.MAX_RANGES_PER_COMMIT; i++) {
      Partition p = new Partition(topic, i);
      starts.put(p, 0L);
      ranges.add(new OffsetRange(p, 0, 1));
    }
    store.initialize(group, starts);
    store.commit(group, ranges, ResultWriter.none());
    assertThat(store.positions(group))
        .hasSize(ranges.size())
        .allSatisfy((p, v) -> assertThat(v).isEqualTo(1L));

    List<OffsetRange> tooMany = new ArrayList<>(ranges);
    tooMany.add(new OffsetRange(new Partition(topic, -1 + 100_000), 1, 2));
    assertThatThrownBy(() -> store.commit(group, tooMany, ResultWriter.none()))
        .isInstanceOf(io.tandem.spi.BatchTooLargeException.class);
  }
}
