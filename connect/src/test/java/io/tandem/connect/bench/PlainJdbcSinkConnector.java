package io.tandem.connect.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

/**
 * Connect's plain at-least-once JDBC sink, for the throughput comparison only: each {@code put}
 * inserts its rows in one transaction, offsets are left to Connect (committed to Kafka after the
 * fact). Loaded by the bench cluster from its own plugin folder.
 */
public final class PlainJdbcSinkConnector extends SinkConnector {

  private Map<String, String> props = Map.of();

  /** Needed by Connect. */
  public PlainJdbcSinkConnector() {}

  @Override
  public void start(Map<String, String> props) {
    this.props = Map.copyOf(props);
  }

  @Override
  public Class<? extends Task> taskClass() {
    return PlainJdbcSinkTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    List<Map<String, String>> out = new ArrayList<>();
    for (int i = 0; i < maxTasks; i++) {
      out.add(new HashMap<>(props));
    }
    return out;
  }

  @Override
  public void stop() {}

  @Override
  public ConfigDef config() {
    return new ConfigDef();
  }

  @Override
  public String version() {
    return "bench";
  }
}
