package io.tandem.connect.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;

/**
 * The at-least-once task: the same INSERT the Tandem JDBC sink sends for the bench's table ({@code
 * kafka.columns} + {@code fields=id,payload}, insert mode), batched per {@code put}, committed per
 * {@code put}; Connect's default {@code preCommit} commits the consumed offsets to Kafka.
 */
public final class PlainJdbcSinkTask extends SinkTask {

  private Connection connection;
  private String sql;

  /** Needed by Connect. */
  public PlainJdbcSinkTask() {}

  @Override
  public void start(Map<String, String> props) {
    try {
      Class.forName("org.postgresql.Driver", true, PlainJdbcSinkTask.class.getClassLoader());
      connection =
          DriverManager.getConnection(
              props.get("tandem.store.uri"),
              props.get("tandem.store.user"),
              props.get("tandem.store.password"));
      connection.setAutoCommit(false);
    } catch (ClassNotFoundException | SQLException e) {
      throw new ConnectException("cannot connect", e);
    }
    sql =
        "INSERT INTO "
            + props.get("table")
            + " (kafka_topic, kafka_partition, kafka_offset, id, payload) VALUES (?, ?, ?, ?, ?)";
  }

  @Override
  public void put(Collection<SinkRecord> records) {
    if (records.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = connection.prepareStatement(sql)) {
      for (SinkRecord r : records) {
        Map<?, ?> v = (Map<?, ?>) r.value();
        ps.setString(1, r.originalTopic());
        ps.setInt(2, r.originalKafkaPartition());
        ps.setLong(3, r.originalKafkaOffset());
        ps.setObject(4, v.get("id"));
        ps.setObject(5, v.get("payload"));
        ps.addBatch();
      }
      ps.executeBatch();
      connection.commit();
    } catch (SQLException e) {
      try {
        connection.rollback();
      } catch (SQLException ignored) {
        // the retry reconnects nothing: a broken connection fails the next put too
      }
      throw new RetriableException("insert failed", e);
    }
  }

  @Override
  public void stop() {
    try {
      if (connection != null) {
        connection.close();
      }
    } catch (SQLException e) {
      // closing: nothing to do
    }
  }

  @Override
  public String version() {
    return "bench";
  }
}
