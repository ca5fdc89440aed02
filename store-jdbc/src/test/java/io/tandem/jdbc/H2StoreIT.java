package io.tandem.jdbc;

import static io.tandem.jdbc.Databases.unique;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The JDBC store's own tests on H2, and what is H2's own: H2 loses committed updates under
 * concurrent conditional updates of the same rows (see {@link JdbcOffsetStore}, "H2"), so the store
 * serializes its transactions per H2 database in a JVM. These tests check that it does, and keep
 * the plain-JDBC reproduction of the H2 defect (opt-in).
 */
class H2StoreIT {

  private static JdbcFixture fixture;
  private static JdbcOffsetStore store;
  private static String table;

  @BeforeAll
  static void openStore() throws SQLException {
    fixture = JdbcFixture.open(Databases.H2);
    store = fixture.store;
    table = fixture.table;
  }

  @AfterAll
  static void closeStore() {
    fixture.close();
  }

  private static Databases database() {
    return Databases.H2;
  }

  @Test
  void twoStoresOnOneH2DatabaseNeverRunTransactionsAtOnce() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    store.initialize(group, Map.of(new Partition(topic, 0), 0L, new Partition(topic, 1), 0L));
    CountDownLatch firstInside = new CountDownLatch(1);
    CountDownLatch releaseFirst = new CountDownLatch(1);
    CountDownLatch secondInside = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (JdbcOffsetStore other =
        JdbcOffsetStore.open(database().config().tableName(table).poolSize(2).build())) {
      Future<?> first =
          pool.submit(
              () -> {
                store.commit(
                    group,
                    List.of(OffsetRange.of(topic, 0, 0, 1)),
                    c -> {
                      firstInside.countDown();
                      assertThat(releaseFirst.await(60, TimeUnit.SECONDS)).isTrue();
                    });
                return null;
              });
      assertThat(firstInside.await(60, TimeUnit.SECONDS)).isTrue();
      // Another store, another pool, another partition: without the lock it would run now.
      Future<?> second =
          pool.submit(
              () -> {
                other.commit(
                    group, List.of(OffsetRange.of(topic, 1, 0, 1)), c -> secondInside.countDown());
                return null;
              });
      assertThat(secondInside.await(500, TimeUnit.MILLISECONDS))
          .as("the second transaction started while the first was open")
          .isFalse();
      releaseFirst.countDown();
      first.get(60, TimeUnit.SECONDS);
      second.get(60, TimeUnit.SECONDS);
      assertThat(secondInside.getCount()).isZero();
    } finally {
      releaseFirst.countDown();
      pool.shutdownNow();
    }
    assertThat(store.positions(group).values()).containsOnly(1L);
  }

  /** The contract's race, many rounds: every range won once, counters equal positions. */
  @Test
  void overlappingCommitsWinEachRangeOnceOverManyRounds() throws Exception {
    for (int round = 1; round <= 60; round++) {
      fixture.raceOverlappingCommits(round);
    }
  }

  /**
   * The H2 defect with plain JDBC, no Tandem code: rows go back to older values and the same
   * position is won twice. Needs CPU pressure to show (run with two busy loops beside it); opt-in
   * with {@code -Dtandem.h2.repro=true}, as it documents H2, not this store.
   */
  @Test
  @EnabledIfSystemProperty(named = "tandem.h2.repro", matches = "true")
  void plainJdbcOnH2LosesConditionalUpdates() throws Exception {
    List<String> twice = new CopyOnWriteArrayList<>();
    for (int round = 0; round < 400 && twice.isEmpty(); round++) {
      String t = unique("h2repro");
      try (Connection c = database().connect();
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE " + t + " (id INT PRIMARY KEY, pos BIGINT NOT NULL)");
        for (int i = 0; i < 6; i++) {
          s.execute("INSERT INTO " + t + " VALUES (" + i + ", 0)");
        }
      }
      Set<String> won = ConcurrentHashMap.newKeySet();
      ExecutorService pool = Executors.newFixedThreadPool(JdbcFixture.THREADS);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < JdbcFixture.THREADS; w++) {
          Random random = new Random(round * 31L + w);
          done.add(pool.submit(() -> plainWorker(t, random, won, twice)));
        }
        for (Future<?> f : done) {
          f.get(5, TimeUnit.MINUTES);
        }
      } finally {
        pool.shutdownNow();
      }
    }
    assertThat(twice).as("positions won twice with plain JDBC on H2").isEmpty();
  }

  private Void plainWorker(String t, Random random, Set<String> won, List<String> twice)
      throws Exception {
    try (Connection c = database().connect()) {
      c.setAutoCommit(false);
      for (int i = 0; i < 25; i++) {
        List<Integer> subset = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5));
        Collections.shuffle(subset, random);
        subset = new ArrayList<>(subset.subList(0, 1 + random.nextInt(6)));
        Collections.sort(subset);
        Map<Integer, Long> now = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, pos FROM " + t);
            ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            now.put(rs.getInt(1), rs.getLong(2));
          }
        }
        c.commit();
        boolean all = true;
        try (PreparedStatement ps =
            c.prepareStatement("UPDATE " + t + " SET pos = ? WHERE id = ? AND pos = ?")) {
          for (int id : subset) {
            ps.setLong(1, now.get(id) + 1);
            ps.setInt(2, id);
            ps.setLong(3, now.get(id));
            all &= ps.executeUpdate() == 1;
          }
        }
        if (all) {
          c.commit();
          for (int id : subset) {
            if (!won.add(id + "@" + now.get(id))) {
              twice.add(id + "@" + now.get(id));
            }
          }
        } else {
          c.rollback();
        }
      }
    }
    return null;
  }
}
