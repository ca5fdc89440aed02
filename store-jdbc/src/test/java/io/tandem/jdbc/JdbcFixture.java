package io.tandem.jdbc;

import static io.tandem.jdbc.Databases.unique;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A JDBC store on one of the test databases, with its own offsets table and a results table {@code
 * (k, v, note)}, and the helpers the JDBC ITs share. Not a test: {@link JdbcStoreIT} runs the JDBC
 * mechanism on every database through it, and each database's IT ({@link H2StoreIT}, {@link
 * PostgresStoreIT}, {@link MariaDbStoreIT}) opens one for what is that database's own.
 */
final class JdbcFixture implements AutoCloseable {

  static final int THREADS = 8;

  final Databases database;
  final JdbcOffsetStore store;
  final String table;
  final String results;

  private JdbcFixture(Databases database) throws SQLException {
    this.database = database;
    this.table = unique("offsets");
    this.results = unique("results");
    this.store =
        JdbcOffsetStore.open(database.config().tableName(table).poolSize(THREADS + 2).build());
    try (Connection c = database.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE "
              + results
              + " (k VARCHAR(200) NOT NULL PRIMARY KEY, v BIGINT, note VARCHAR(200))");
    }
  }

  /** Opens a store with fresh tables on {@code database}. */
  static JdbcFixture open(Databases database) throws SQLException {
    return new JdbcFixture(database);
  }

  @Override
  public void close() {
    store.close();
  }

  /** Results table contents: k -> v. */
  Map<String, Long> resultRows() throws SQLException {
    Map<String, Long> rows = new TreeMap<>();
    try (Connection c = database.connect();
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
}
