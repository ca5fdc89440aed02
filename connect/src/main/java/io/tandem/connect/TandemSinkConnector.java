package io.tandem.connect;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.sink.SinkConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sink connector whose tasks extend {@link TandemSinkTask}: every task gets the connector's
 * configuration, and Connect's offsets REST API ({@code PATCH} and {@code DELETE
 * /connectors/<name>/offsets}, KIP-875) changes the positions in the store, where the tasks read
 * them. Connect alters the connector group's Kafka offsets too; the store's positions are the ones
 * that count.
 *
 * @since 0.1
 */
public abstract class TandemSinkConnector extends SinkConnector {

  private static final Logger log = LoggerFactory.getLogger(TandemSinkConnector.class);

  private Map<String, String> props = Map.of();

  /** For subclasses. */
  protected TandemSinkConnector() {}

  /**
   * Opens the store named by a configuration, for {@link #alterOffsets}; closed after use.
   *
   * @param props the connector's configuration
   * @return the open store
   */
  protected abstract OffsetStore<?> openStore(Map<String, String> props);

  /**
   * The connector's own options, beside {@link TandemSinkConfig}'s.
   *
   * @param def a definition holding the shared options
   * @return {@code def} with the connector's options added
   */
  protected abstract ConfigDef defineOptions(ConfigDef def);

  /**
   * Checks the connector's own options; called by {@link #start(Map)}.
   *
   * @param props the connector's configuration
   * @throws org.apache.kafka.common.config.ConfigException if an option is invalid
   */
  protected void validateOptions(Map<String, String> props) {}

  @Override
  public String version() {
    return Versions.version();
  }

  @Override
  public void start(Map<String, String> props) {
    new TandemSinkConfig(props).group(); // fails early on a missing or invalid option
    validateOptions(props);
    this.props = Map.copyOf(props);
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    List<Map<String, String>> out = new ArrayList<>(maxTasks);
    for (int i = 0; i < maxTasks; i++) {
      out.add(new HashMap<>(props));
    }
    return out;
  }

  @Override
  public void stop() {}

  @Override
  public ConfigDef config() {
    return defineOptions(TandemSinkConfig.define(new ConfigDef()));
  }

  /**
   * Applies an offsets change of Connect's REST API to the store: a position overwrites the stored
   * one, a null removes it (the partition then starts by {@value
   * TandemSinkConfig#UNKNOWN_PARTITION}). Connect calls this only while the connector is stopped.
   *
   * @param connectorConfig the connector's configuration
   * @param offsets the new position of each partition, null to reset it
   * @return true: the change is applied in the store
   */
  @Override
  public boolean alterOffsets(
      Map<String, String> connectorConfig, Map<TopicPartition, Long> offsets) {
    TandemSinkConfig config = new TandemSinkConfig(connectorConfig);
    String group = config.group();
    Map<Partition, Long> overwrite = new LinkedHashMap<>();
    List<Partition> delete = new ArrayList<>();
    offsets.forEach(
        (tp, offset) -> {
          Partition p = new Partition(tp.topic(), tp.partition());
          if (offset == null) {
            delete.add(p);
          } else {
            overwrite.put(p, offset);
          }
        });
    try (OffsetStore<?> store = openStore(connectorConfig)) {
      if (!overwrite.isEmpty()) {
        store.overwrite(group, overwrite);
      }
      if (!delete.isEmpty()) {
        store.delete(group, delete);
      }
    }
    log.info(
        "Tandem sink group '{}': offsets altered through Connect: set {}, reset {}",
        group,
        overwrite,
        delete);
    return true;
  }
}
