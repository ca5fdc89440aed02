package io.tandem.jdbc;

import io.tandem.spi.OffsetStore;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import java.sql.Connection;

/** The whole TCK on PostgreSQL (durable: fsync and synchronous_commit on). */
class PostgresTckIT extends OffsetStoreVerification<Connection> {

  private static final SqlResultProbe PROBE =
      new SqlResultProbe(Databases.POSTGRES::connect, "tck_results");

  @Override
  protected OffsetStore<Connection> newStore() {
    return JdbcOffsetStore.open(Databases.POSTGRES.config().tableName("tck_offsets").build());
  }

  /**
   * A role that does not exist. The embedded server trusts local logins (zonky's initdb), so a
   * wrong password alone would pass; an unknown role is refused either way (SQLState 28000, or
   * 28P01 under password authentication).
   */
  @Override
  protected OffsetStore<Connection> newStoreWithRefusedCredentials() {
    return JdbcOffsetStore.open(
        Databases.POSTGRES
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
