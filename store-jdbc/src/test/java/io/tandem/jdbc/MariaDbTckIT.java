package io.tandem.jdbc;

import io.tandem.spi.OffsetStore;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import java.sql.Connection;

/** The whole TCK on MariaDB. */
class MariaDbTckIT extends OffsetStoreVerification<Connection> {

  private static final SqlResultProbe PROBE =
      new SqlResultProbe(Databases.MARIADB::connect, "tck_results");

  @Override
  protected OffsetStore<Connection> newStore() {
    return JdbcOffsetStore.open(Databases.MARIADB.config().tableName("tck_offsets").build());
  }

  /** A user the server does not know: refused with error 1045, SQLState 28000. */
  @Override
  protected OffsetStore<Connection> newStoreWithRefusedCredentials() {
    return JdbcOffsetStore.open(
        Databases.MARIADB
            .config()
            .user("tandem_no_such_user")
            .password("wrong-password")
            .tableName("tck_offsets")
            .build());
  }

  @Override
  protected ResultProbe<Connection> probe() {
    return PROBE;
  }
}
