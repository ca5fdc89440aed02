package io.tandem.connect;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.ResultWriter;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * The task of {@link TandemJdbcSinkConnector}: writes rows through the JDBC store's transaction
 * connection, so rows and positions commit together.
 *
 * @since 0.1
 */
public final class TandemJdbcSinkTask extends TandemSinkTask<Connection> {

  private JdbcRecordWriter writer;

  /** Needed by Connect. */
  public TandemJdbcSinkTask() {}

  @Override
  protected OffsetStore<Connection> openStore(Map<String, String> props) {
    return open(new TandemSinkConfig(props));
  }

  static OffsetStore<Connection> open(TandemSinkConfig config) {
    return Stores.open(config, Connection.class);
  }

  @Override
  protected void configure(Map<String, String> props) {
    writer = new JdbcRecordWriter(new JdbcSinkConfig(props));
  }

  @Override
  protected ResultWriter<Connection> results(List<SinkRecord> records) {
    JdbcRecordWriter w = writer;
    return connection -> w.write(connection, records);
  }
}
