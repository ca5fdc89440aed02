package io.tandem.jdbc;

import io.tandem.testing.MariaDbServer;
import io.tandem.testing.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/** The three databases the JDBC store is tested on, each from io.tandem.testing or embedded. */
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

  /**
   * An H2 file database under target/, one per JVM. WRITE_DELAY=0 makes H2 write the file at each
   * commit, which the store reports as durable; DB_CLOSE_DELAY=-1 keeps the database open between
   * stores so that a test's direct connection and the store's pool see one database.
   */
  static final String H2_URL =
      "jdbc:h2:file:"
          + Path.of("target", "h2", "tandem-" + ProcessHandle.current().pid()).toAbsolutePath()
          + ";WRITE_DELAY=0;DB_CLOSE_DELAY=-1";

  private static final AtomicInteger NAMES = new AtomicInteger();

  /** A store configuration for this database, pool large enough for 8-thread races. */
  abstract JdbcStoreConfig.Builder config();

  /** A direct connection, for checking what the store wrote. */
  abstract Connection connect() throws SQLException;

  /** A name no other test uses: tables, groups, topics. */
  static String unique(String prefix) {
    return prefix
        + "_"
        + NAMES.incrementAndGet()
        + "_"
        + UUID.randomUUID().toString().substring(0, 8);
  }
}
