package io.tandem.bench;

import io.tandem.jdbc.JdbcDialect;
import io.tandem.jdbc.JdbcOffsetStore;
import io.tandem.jdbc.JdbcStoreConfig;
import io.tandem.jdbc.JdbcUpsert;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * PostgreSQL through {@link JdbcOffsetStore}, results upserted by {@link JdbcUpsert}. The server is
 * {@link PostgresServer#shared()}: fsync and synchronous_commit on.
 */
final class PostgresBackend implements Backend<Connection> {

  private final PostgresServer server = PostgresServer.shared();
  private final String url;
  private final JdbcOffsetStore store;
  private final Map<String, JdbcUpsert> upserts = new ConcurrentHashMap<>();
  private final List<Connection> connections = new CopyOnWriteArrayList<>();
  private final ThreadLocal<Connection> own = new ThreadLocal<>();
  private final String settings;

  PostgresBackend(boolean rewriteBatchedInserts) {
    String base = server.jdbcUrl();
    this.url =
        base + (base.contains("?") ? "&" : "?") + "reWriteBatchedInserts=" + rewriteBatchedInserts;
    this.store =
        JdbcOffsetStore.open(
            JdbcStoreConfig.builder()
                .url(url)
                .user(server.user())
                .password(server.password())
                .poolSize(8)
                .build());
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      StringBuilder b = new StringBuilder();
      for (String name : List.of("server_version", "fsync", "synchronous_commit")) {
        try (ResultSet rs = s.executeQuery("SHOW " + name)) {
          rs.next();
          b.append(b.length() == 0 ? "" : ", ").append(name).append('=').append(rs.getString(1));
        }
      }
      this.settings = b + ", reWriteBatchedInserts=" + rewriteBatchedInserts;
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read PostgreSQL settings", e);
    }
  }

  Connection connect() throws SQLException {
    Connection c = DriverManager.getConnection(url, server.user(), server.password());
    c.setAutoCommit(false);
    return c;
  }

  @Override
  public String name() {
    return "postgres";
  }

  @Override
  public String server() {
    return "PostgreSQL (" + server.description() + "; " + settings + ")";
  }

  @Override
  public OffsetStore<Connection> store() {
    return store;
  }

  static String table(String namespace) {
    return "bench_" + namespace;
  }

  @Override
  public void prepare(String namespace, int keys, int partitions) throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + table(namespace)
              + " (k text PRIMARY KEY, v text NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + table(namespace)
              + "_pos (p int PRIMARY KEY, pos bigint NOT NULL)");
      c.commit();
    }
  }

  private JdbcUpsert upsert(String namespace) {
    return upserts.computeIfAbsent(
        namespace,
        ns -> JdbcUpsert.into(table(ns)).key("k").columns("v").dialect(JdbcDialect.POSTGRESQL));
  }

  @Override
  public ResultWriter<Connection> writer(String namespace, List<Row> rows) {
    return upsert(namespace).rows(rows, r -> new Object[] {r.key(), r.value()});
  }

  /** This thread's own connection (autocommit off), opened on first use. */
  Connection ownConnection() throws SQLException {
    Connection c = own.get();
    if (c == null) {
      c = connect();
      own.set(c);
      connections.add(c);
    }
    return c;
  }

  @Override
  public void write(String namespace, List<Row> rows, Map<Partition, Long> positions)
      throws SQLException {
    Connection c = ownConnection();
    try {
      upsertRows(c, namespace, rows);
      if (!positions.isEmpty()) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO "
                    + table(namespace)
                    + "_pos AS d (p, pos) VALUES (?, ?) ON CONFLICT (p) DO UPDATE SET pos ="
                    + " EXCLUDED.pos")) {
          for (Map.Entry<Partition, Long> e : positions.entrySet()) {
            ps.setInt(1, e.getKey().partition());
            ps.setLong(2, e.getValue());
            ps.addBatch();
          }
          ps.executeBatch();
        }
      }
      c.commit();
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    }
  }

  /** The same statement {@link JdbcUpsert} sends, batched the same way (500 rows a batch). */
  void upsertRows(Connection c, String namespace, List<Row> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(upsert(namespace).sql(JdbcDialect.POSTGRESQL))) {
      int pending = 0;
      for (Row r : rows) {
        ps.setObject(1, r.key());
        ps.setObject(2, r.value());
        ps.addBatch();
        if (++pending == JdbcUpsert.DEFAULT_BATCH_SIZE) {
          ps.executeBatch();
          pending = 0;
        }
      }
      if (pending > 0) {
        ps.executeBatch();
      }
    }
  }

  @Override
  public void close() {
    store.close();
    for (Connection c : connections) {
      try {
        c.close();
      } catch (SQLException e) {
        // closing at exit: nothing to do
      }
    }
  }
}
