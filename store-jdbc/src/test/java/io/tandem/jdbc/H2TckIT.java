package io.tandem.jdbc;

import io.tandem.spi.OffsetStore;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;

/**
 * The whole TCK on an H2 file database. Unlike the store ITs' URL, this one has no DB_CLOSE_DELAY:
 * when the kit closes every store of a test, H2 closes the file, and the next store opens it again
 * from disk, so the durability rules see a real reopen. WRITE_DELAY=0 makes H2 write at each commit
 * (the store reports H2 as durable only then).
 */
class H2TckIT extends OffsetStoreVerification<Connection> {

  private static final String URL =
      "jdbc:h2:file:"
          + Path.of("target", "h2", "tck-" + ProcessHandle.current().pid()).toAbsolutePath()
          + ";WRITE_DELAY=0";

  private static final SqlResultProbe PROBE =
      new SqlResultProbe(() -> DriverManager.getConnection(URL), "tck_results");

  @Override
  protected OffsetStore<Connection> newStore() {
    return JdbcOffsetStore.open(
        JdbcStoreConfig.builder().url(URL).tableName("tck_offsets").poolSize(10).build());
  }

  @Override
  protected ResultProbe<Connection> probe() {
    return PROBE;
  }
}
