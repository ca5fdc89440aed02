package io.tandem.jdbc;

import static io.tandem.jdbc.Databases.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The JDBC store's mechanism on every test database (PostgreSQL, H2, MariaDB), beyond the contract
 * the TCK subclasses check: SQL errors and transaction escapes inside the writer, the handle's
 * guard, overlapping commits racing with a fold, schema creation, the upsert adapter, and what the
 * store declares. Each database's own behaviour is in its own IT.
 */
class JdbcStoreIT {

  private static final Map<Databases, JdbcFixture> FIXTURES =
      new java.util.EnumMap<>(Databases.class);

  /** One store per database for this class, opened on first use. */
  private static synchronized JdbcFixture fixture(Databases db) throws SQLException {
    JdbcFixture f = FIXTURES.get(db);
    if (f == null) {
      f = JdbcFixture.open(db);
      FIXTURES.put(db, f);
    }
    return f;
  }

  @AfterAll
  static synchronized void closeStores() {
    FIXTURES.values().forEach(JdbcFixture::close);
    FIXTURES.clear();
  }

  @ParameterizedTest
  @EnumSource(Databases.class)
  void writerSqlErrorAbortsTheCommit(Databases db) throws SQLException {
    JdbcFixture fx = fixture(db);
    JdbcOffsetStore store = fx.store;
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, JdbcFixture.at(0, p));
    store.commit(group, List.of(new OffsetRange(p, 0, 1)), fx.insertRow(group + "/dup", 1));

    // The same key again: a primary key violation inside the writer.
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(new OffsetRange(p, 1, 2)),
                    c -> {
                      fx.insertRow(group + "/other", 2).write(c);
                      fx.insertRow(group + "/dup", 3).write(c);
                    }))
        .isInstanceOf(ResultWriteException.class)
        .hasCauseInstanceOf(SQLException.class);

    assertThat(store.positions(group)).containsOnly(Map.entry(p, 1L));
    assertThat(fx.resultRows(group)).containsOnly(Map.entry(group + "/dup", 1L));
  }

  @ParameterizedTest
  @EnumSource(Databases.class)
  void writerCannotEndTheTransactionItself(Databases db) throws SQLException {
    JdbcFixture fx = fixture(db);
    JdbcOffsetStore store = fx.store;
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, JdbcFixture.at(0, p));

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
                        fx.insertRow(group + "/escape", 1).write(c);
                        escape.write(c);
                      }))
          .isInstanceOf(ResultWriteException.class)
          .hasMessageContaining("not allowed in a ResultWriter");
    }
    assertThat(store.positions(group)).containsOnly(Map.entry(p, 0L));
    assertThat(fx.resultRows(group)).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Databases.class)
  void handleIsDeadAfterTheCommit(Databases db) throws SQLException {
    JdbcFixture fx = fixture(db);
    JdbcOffsetStore store = fx.store;
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, JdbcFixture.at(0, p));
    Connection[] kept = new Connection[1];
    store.commit(group, List.of(new OffsetRange(p, 0, 1)), c -> kept[0] = c);

    assertThatThrownBy(() -> kept[0].createStatement())
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("must not keep its handle");
  }

  /**
   * Eight workers commit overlapping sets of partitions in random order, each commit adding 1 to a
   * per-partition counter through the upsert adapter's fold. Exactly-once means no range is won
   * twice and every counter equals its partition's position at the end; the partition-ordered
   * updates mean no deadlock surfaces.
   */
  @ParameterizedTest
  @EnumSource(Databases.class)
  void overlappingConcurrentCommitsKeepCountersEqualToPositions(Databases db) throws Exception {
    JdbcFixture fx = fixture(db);
    fx.raceOverlappingCommits(0);
  }

  @ParameterizedTest
  @EnumSource(Databases.class)
  void prepareIsIdempotentAndConcurrentSafe(Databases db) throws Exception {
    JdbcFixture fx = fixture(db);
    String fresh = unique("schema");
    try (JdbcOffsetStore lazy =
        JdbcOffsetStore.open(db.config().tableName(fresh).createSchema(false).build())) {
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
                        db.config().tableName(fresh).createSchema(false).build())) {
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

  @ParameterizedTest
  @EnumSource(Databases.class)
  void upsertAdapterInsertsUpdatesAndFolds(Databases db) throws SQLException {
    JdbcFixture fx = fixture(db);
    JdbcOffsetStore store = fx.store;
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, JdbcFixture.at(0, p));
    JdbcUpsert replace = JdbcUpsert.into(fx.results).key("k").columns("v", "note");
    JdbcUpsert add = JdbcUpsert.into(fx.results).key("k").columns("v", "note").fold("v");
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

    assertThat(fx.resultRows(group)).containsOnly(Map.entry(a, 17L), Map.entry(b, 1L));
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement("SELECT note FROM " + fx.results + " WHERE k = ?")) {
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
                + fx.results
                + " must return 3 values [k, v, note], got 2: ["
                + b
                + ", 1]");
    assertThat(fx.resultRows(group)).containsOnly(Map.entry(a, 17L), Map.entry(b, 1L));
    assertThat(store.positions(group)).containsOnly(Map.entry(p, 5L));
  }

  @ParameterizedTest
  @EnumSource(Databases.class)
  void upsertAdapterBatchesManyRows(Databases db) throws SQLException {
    JdbcFixture fx = fixture(db);
    JdbcOffsetStore store = fx.store;
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, JdbcFixture.at(0, p));
    List<List<?>> rows = new ArrayList<>();
    for (int i = 0; i < 1234; i++) {
      rows.add(List.of(group + "/" + i, (long) i));
    }
    store.commit(
        group,
        List.of(new OffsetRange(p, 0, 1234)),
        JdbcUpsert.into(fx.results).key("k").columns("v").batchSize(100).values(rows));
    assertThat(fx.resultRows(group + "/")).hasSize(1234).containsEntry(group + "/1233", 1233L);
  }

  /**
   * The one-statement advance of many ranges (PostgreSQL: one UPDATE over arrays; MariaDB: one
   * multi-table UPDATE per {@value JdbcOffsetStore#RANGES_PER_STATEMENT} ranges, so 2 500 ranges
   * take three): a moved and a missing position far into the batch are both reported, exactly, and
   * nothing moves; the right ranges then commit all at once.
   */
  @ParameterizedTest
  @EnumSource(Databases.class)
  void manyRangesInOneStatementReportExactlyTheMismatches(Databases db) throws SQLException {
    JdbcFixture fx = fixture(db);
    JdbcOffsetStore store = fx.store;
    String group = unique("g");
    String topic = unique("t");
    int n = 2_500;
    Map<Partition, Long> starts = new java.util.HashMap<>();
    for (int p = 0; p < n; p++) {
      if (p != 2_222) {
        starts.put(new Partition(topic, p), 10L);
      }
    }
    store.initialize(group, starts);
    Partition moved = new Partition(topic, 1_999);
    Partition missing = new Partition(topic, 2_222);
    store.overwrite(group, Map.of(moved, 11L));
    List<OffsetRange> ranges = new ArrayList<>();
    for (int p = 0; p < n; p++) {
      ranges.add(new OffsetRange(new Partition(topic, p), 10, 20 + p));
    }

    assertThatThrownBy(() -> store.commit(group, ranges, fx.insertRow(group + "/x", 1)))
        .isInstanceOfSatisfying(
            io.tandem.spi.OffsetConflictException.class,
            e ->
                assertThat(e.conflicts())
                    .extracting(io.tandem.spi.OffsetConflictException.Conflict::partition)
                    .containsExactly(moved, missing));
    Map<Partition, Long> after = store.positions(group);
    assertThat(after).hasSize(n - 1).containsEntry(moved, 11L);
    assertThat(after.entrySet())
        .allMatch(e -> e.getKey().equals(moved) || e.getValue() == 10L, "nothing moved");
    assertThat(fx.resultRows(group + "/")).isEmpty();

    store.initialize(group, Map.of(missing, 10L));
    ranges.set(1_999, new OffsetRange(moved, 11, 12));
    store.commit(group, ranges, fx.insertRow(group + "/x", 2));
    Map<Partition, Long> done = store.positions(group);
    assertThat(done).hasSize(n).containsEntry(moved, 12L).containsEntry(missing, 20L + 2_222);
    assertThat(done).containsEntry(new Partition(topic, 0), 20L);
    assertThat(done).containsEntry(new Partition(topic, n - 1), 20L + n - 1);
    assertThat(fx.resultRows(group + "/")).containsOnly(Map.entry(group + "/x", 2L));
  }

  @ParameterizedTest
  @EnumSource(Databases.class)
  void capabilitiesAreTransactionalAndAtomic(Databases db) throws SQLException {
    JdbcFixture fx = fixture(db);
    JdbcOffsetStore store = fx.store;
    Capabilities caps = store.capabilities();
    assertThat(caps.guarantee()).isEqualTo(Guarantee.TRANSACTIONAL);
    assertThat(caps.atomicAcrossPartitions()).isTrue();
    assertThat(caps.maxRangesPerCommit()).isEqualTo(JdbcOffsetStore.MAX_RANGES_PER_COMMIT);
    assertThat(caps.description()).contains(fx.table);
  }
}
