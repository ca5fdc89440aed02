package io.tandem.connect;

import io.tandem.spi.OffsetStore;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;

/**
 * A Redis sink for Kafka Connect whose writes and positions commit in one {@code MULTI/EXEC}
 * through Tandem's Redis store ({@code tandem.store.uri=redis://...}): each record becomes a hash
 * (a Struct or Map value, one field per field) or a string (any other value) under {@code
 * redis.key.prefix} + its key. Exactly-once as far as Redis is durable (AOF {@code appendfsync
 * always}). Options: {@link TandemSinkConfig} and {@link RedisSinkConfig}.
 *
 * @since 0.1
 */
public final class TandemRedisSinkConnector extends TandemSinkConnector {

  /** Needed by Connect. */
  public TandemRedisSinkConnector() {}

  @Override
  public Class<? extends Task> taskClass() {
    return TandemRedisSinkTask.class;
  }

  @Override
  protected ConfigDef defineOptions(ConfigDef def) {
    return RedisSinkConfig.define(def);
  }

  @Override
  protected void validateOptions(Map<String, String> props) {
    new RedisSinkConfig(props);
  }

  @Override
  protected OffsetStore<?> openStore(Map<String, String> props) {
    return TandemRedisSinkTask.open(new TandemSinkConfig(props));
  }
}
