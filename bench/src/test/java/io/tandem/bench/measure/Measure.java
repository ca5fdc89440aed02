package io.tandem.bench.measure;

import io.tandem.cassandra.CassandraOffsetStore;
import io.tandem.cassandra.CassandraReplication;
import io.tandem.cassandra.CassandraStoreConfig;
import io.tandem.jdbc.JdbcStoreConfig;
import io.tandem.testing.CassandraServer;
import io.tandem.testing.MariaDbServer;
import io.tandem.testing.PostgresServer;
import io.tandem.testing.ZooKeeperTestServer;
import io.tandem.zookeeper.ZooKeeperStoreConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the measurement ITs share: unique names and each store opened on the servers of {@code
 * tandem-testing}, configured as the store modules' own tests configure it.
 */
final class Measure {

  private static final AtomicInteger SEQ = new AtomicInteger();

  private Measure() {}

  /** A name unique in this run and across runs on a shared server; a valid SQL/CQL identifier. */
  static String unique(String prefix) {
    return prefix
        + "_"
        + SEQ.incrementAndGet()
        + "_"
        + UUID.randomUUID().toString().substring(0, 8);
  }

  /** The JDBC databases measured: durability as each server is configured. */
  enum Databases {
    POSTGRES {
      @Override
      JdbcStoreConfig.Builder config() {
        PostgresServer pg = PostgresServer.shared();
        return JdbcStoreConfig.builder().url(pg.jdbcUrl()).user(pg.user()).password(pg.password());
      }

      @Override
      Connection connect() throws SQLException {
        return PostgresServer.shared().connect();
      }
    },
    H2 {
      @Override
      JdbcStoreConfig.Builder config() {
        return JdbcStoreConfig.builder().url(H2_URL);
      }

      @Override
      Connection connect() throws SQLException {
        return DriverManager.getConnection(H2_URL);
      }
    },
    MARIADB {
      @Override
      JdbcStoreConfig.Builder config() {
        MariaDbServer db = MariaDbServer.shared();
        return JdbcStoreConfig.builder().url(db.jdbcUrl()).user(db.user()).password(db.password());
      }

      @Override
      Connection connect() throws SQLException {
        return MariaDbServer.shared().connect();
      }
    };

    /** A durable H2 file (WRITE_DELAY=0), one per JVM. */
    private static final String H2_URL =
        "jdbc:h2:file:"
            + Path.of("target", "h2", "measure-" + ProcessHandle.current().pid()).toAbsolutePath()
            + ";WRITE_DELAY=0;DB_CLOSE_DELAY=-1";

    abstract JdbcStoreConfig.Builder config();

    abstract Connection connect() throws SQLException;
  }

  static ZooKeeperStoreConfig.Builder zookeeper(ZooKeeperTestServer server) {
    return ZooKeeperStoreConfig.builder(server.connectString())
        .root("/" + unique("tandem-measure"))
        .connectTimeout(Duration.ofSeconds(10));
  }

  static final String CASSANDRA_KEYSPACE = "tandem_measure";

  /** A store with its own session on the shared Cassandra, schema and a results table in place. */
  static CassandraOffsetStore cassandra() {
    CassandraServer server = CassandraServer.shared();
    CassandraStoreConfig.Builder config =
        CassandraStoreConfig.builder()
            .localDatacenter(server.localDatacenter())
            .keyspace(CASSANDRA_KEYSPACE);
    server.contactPoints().forEach(p -> config.contactPoint(p.getHostString(), p.getPort()));
    CassandraOffsetStore store = CassandraOffsetStore.open(config.build());
    store.createSchema(CassandraReplication.simple(1));
    store
        .session()
        .execute(
            "CREATE TABLE IF NOT EXISTS "
                + CASSANDRA_KEYSPACE
                + ".results (namespace text, key text, value text, PRIMARY KEY (namespace, key))");
    return store;
  }
}
