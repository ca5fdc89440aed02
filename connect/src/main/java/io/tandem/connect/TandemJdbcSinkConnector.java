package io.tandem.connect;

import io.tandem.spi.OffsetStore;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;

/**
 * An exactly-once JDBC sink for Kafka Connect (PostgreSQL, MariaDB/MySQL, H2): each commit writes
 * the records' rows and moves the partitions' positions in one database transaction, through
 * Tandem's JDBC store ({@code tandem.store.uri=jdbc:...}) in the same database as the table.
 * Options: {@link TandemSinkConfig} and {@link JdbcSinkConfig}.
 *
 * <p>The table is yours: create it before starting the connector. With {@code insert.mode=upsert}
 * it needs a primary key or unique constraint on exactly the key columns.
 *
 * @since 0.1
 */
public final class TandemJdbcSinkConnector extends TandemSinkConnector {

  /** Needed by Connect. */
  public TandemJdbcSinkConnector() {}

  @Override
  public Class<? extends Task> taskClass() {
    return TandemJdbcSinkTask.class;
  }

  @Override
  protected ConfigDef defineOptions(ConfigDef def) {
    return JdbcSinkConfig.define(def);
  }

  @Override
  protected void validateOptions(Map<String, String> props) {
    new JdbcSinkConfig(props);
  }

  @Override
  protected OffsetStore<?> openStore(Map<String, String> props) {
    return TandemJdbcSinkTask.open(new TandemSinkConfig(props));
  }
}
