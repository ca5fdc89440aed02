package io.tandem.jdbc;

import static io.tandem.jdbc.Databases.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The JDBC store's own tests on PostgreSQL, plus the serialization-failure and deadlock paths. */
class PostgresStoreIT {

  private static JdbcFixture fixture;
  private static JdbcOffsetStore store;
  private static String table;

  @BeforeAll
  static void openStore() throws SQLException {
    fixture = JdbcFixture.open(Databases.POSTGRES);
    store = fixture.store;
    table = fixture.table;
  }

  @AfterAll
  static void closeStore() {
    fixture.close();
  }

  private static Databases database() {
    return Databases.POSTGRES;
  }

  private HikariDataSource repeatableRead() {
    PostgresServer pg = PostgresServer.shared();
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(pg.jdbcUrl());
    config.setUsername(pg.user());
    config.setPassword(pg.password());
    config.setMaximumPoolSize(JdbcFixture.THREADS + 2);
    config.setTransactionIsolation("TRANSACTION_REPEATABLE_READ");
    return new HikariDataSource(config);
  }

  /**
   * Under REPEATABLE READ PostgreSQL does not re-check a waiting UPDATE's WHERE clause: the losers
   * fail with a serialization failure (40001) when the winner commits. The store re-reads, finds
   * the position moved, and reports a plain conflict, so callers see the same outcome as under READ
   * COMMITTED.
   */
  @Test
  void serializationFailuresUnderRepeatableReadBecomeConflicts() throws Exception {
    try (HikariDataSource ds = repeatableRead();
        JdbcOffsetStore rr =
            JdbcOffsetStore.open(ds, JdbcStoreConfig.builder().tableName(table).build())) {
      String group = unique("g");
      Partition p = new Partition(unique("t"), 0);
      rr.initialize(group, Map.of(p, 0L));
      ExecutorService pool = Executors.newFixedThreadPool(JdbcFixture.THREADS);
      try {
        for (int round = 0; round < 5; round++) {
          long from = round * 10L;
          CountDownLatch start = new CountDownLatch(1);
          List<Future<String>> outcomes = new ArrayList<>();
          for (int t = 0; t < JdbcFixture.THREADS; t++) {
            String key = group + "/r" + round + "/t" + t;
            outcomes.add(
                pool.submit(
                    () -> {
                      start.await();
                      // Only the winner's writer runs while the others wait in their UPDATE for
                      // its row lock; it commits once all 7 are waiting, so each of them meets
                      // the serialization failure.
                      ResultWriter<Connection> slow =
                          c -> {
                            fixture.insertRow(key, 1).write(c);
                            await()
                                .atMost(Duration.ofSeconds(30))
                                .until(() -> backendsWaitingOnLocks() >= JdbcFixture.THREADS - 1);
                          };
                      try {
                        rr.commit(group, List.of(new OffsetRange(p, from, from + 10)), slow);
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
          assertThat(fixture.resultRows(group + "/r" + round + "/")).hasSize(1);
        }
        assertThat(rr.concurrencyFailures())
            .as("serialization failures resolved by re-reading")
            .isEqualTo(5L * (JdbcFixture.THREADS - 1));
        assertThat(rr.positions(group)).containsOnly(Map.entry(p, 50L));
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /**
   * Two commits on disjoint partitions whose writers update the same two result rows in opposite
   * order deadlock. PostgreSQL aborts one (40P01); the store re-reads, sees its positions
   * unchanged, and runs that transaction again, writer included. Both commits succeed and each
   * increment counts once.
   */
  @Test
  void deadlockInResultWritesIsRetried() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    Partition p0 = new Partition(topic, 0);
    Partition p1 = new Partition(topic, 1);
    store.initialize(group, Map.of(p0, 0L, p1, 0L));
    String a = group + "/A";
    String b = group + "/B";
    store.commit(
        group,
        List.of(new OffsetRange(p0, 0, 0)),
        JdbcUpsert.into(fixture.results)
            .key("k")
            .columns("v")
            .values(List.of(List.of(a, 0L), List.of(b, 0L))));

    CyclicBarrier bothHoldOneRow = new CyclicBarrier(2);
    AtomicInteger attempts = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> first =
          pool.submit(
              () -> {
                store.commit(
                    group,
                    List.of(new OffsetRange(p0, 0, 1)),
                    crossing(a, b, bothHoldOneRow, attempts));
                return null;
              });
      Future<?> second =
          pool.submit(
              () -> {
                store.commit(
                    group,
                    List.of(new OffsetRange(p1, 0, 1)),
                    crossing(b, a, bothHoldOneRow, attempts));
                return null;
              });
      first.get(60, TimeUnit.SECONDS);
      second.get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    // Usually 3 writer runs (two, plus the loser's retry). The retry can win the race for the row
    // the aborted transaction released against the other commit still waiting for it, and
    // deadlock once more (seen here: attempts 1 and 2 of one commit each aborted with 40P01).
    assertThat(attempts.get()).as("writer runs").isGreaterThanOrEqualTo(3);
    assertThat(store.concurrencyFailures()).isGreaterThanOrEqualTo(attempts.get() - 2L);
    assertThat(fixture.resultRows(group)).containsOnly(Map.entry(a, 2L), Map.entry(b, 2L));
    assertThat(store.positions(group)).containsOnly(Map.entry(p0, 1L), Map.entry(p1, 1L));
  }

  /**
   * The server drops the connection in the middle of a commit (here: the backend is terminated from
   * inside the writer, after a result row was written). The commit fails as retriable
   * unavailability, nothing stays, and the pool replaces the dead connection for the next commit.
   */
  @Test
  void connectionKilledMidCommitIsUnavailableAndLeavesNothing() throws Exception {
    String group = unique("g");
    Partition p = new Partition(unique("t"), 0);
    store.initialize(group, Map.of(p, 0L));

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(new OffsetRange(p, 0, 5)),
                    c -> {
                      fixture.insertRow(group + "/lost", 1).write(c);
                      try (java.sql.Statement s = c.createStatement()) {
                        s.execute("SELECT pg_terminate_backend(pg_backend_pid())");
                      }
                    }))
        .isInstanceOf(io.tandem.spi.StoreUnavailableException.class)
        .hasMessageContaining("Retriable");

    assertThat(store.positions(group)).containsOnly(Map.entry(p, 0L));
    assertThat(fixture.resultRows(group)).isEmpty();
    store.commit(group, List.of(new OffsetRange(p, 0, 5)), fixture.insertRow(group + "/ok", 1));
    assertThat(fixture.resultRows(group)).containsOnly(Map.entry(group + "/ok", 1L));
  }

  private static int backendsWaitingOnLocks() throws java.sql.SQLException {
    try (Connection c = PostgresServer.shared().connect();
        java.sql.Statement s = c.createStatement();
        java.sql.ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private ResultWriter<Connection> crossing(
      String firstKey, String secondKey, CyclicBarrier barrier, AtomicInteger attempts) {
    return c -> {
      attempts.incrementAndGet();
      increment(c, firstKey);
      try {
        // First attempt: wait until the other commit holds its first row too. On the retry the
        // other commit is done, the wait times out, and the writer simply goes on.
        barrier.await(2, TimeUnit.SECONDS);
      } catch (BrokenBarrierException | TimeoutException e) {
        // expected on the retry
      }
      increment(c, secondKey);
    };
  }

  private void increment(Connection c, String key) throws Exception {
    try (PreparedStatement ps =
        c.prepareStatement("UPDATE " + fixture.results + " SET v = v + 1 WHERE k = ?")) {
      ps.setString(1, key);
      ps.executeUpdate();
    }
  }
}
