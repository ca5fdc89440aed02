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

  @Override
  protected ResultProbe<Connection> probe() {
    return PROBE;
  }
}
