package io.tandem.connect;

import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The options of {@link TandemRedisSinkConnector}, beside {@link TandemSinkConfig}'s.
 *
 * <table>
 *   <caption>Options</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@value #KEY_PREFIX}</td><td>empty</td><td>prepended to every Redis key; on Redis
 *       Cluster include the group's hash tag {@code {<group>}}</td></tr>
 *   <tr><td>{@value #KEY_MODE}</td><td>{@code record_key}</td><td>{@code record_key}: the
 *       record's key as text; {@code kafka}: {@code <topic>:<partition>:<offset>} of the original
 *       record</td></tr>
 *   <tr><td>{@value #DELETE_ENABLED}</td><td>{@code false}</td><td>a null value deletes the
 *       key; otherwise it is skipped</td></tr>
 * </table>
 *
 * @since 0.1
 */
public final class RedisSinkConfig extends AbstractConfig {

  /** Option: key prefix. */
  public static final String KEY_PREFIX = "redis.key.prefix";

  /** Option: where the key comes from. */
  public static final String KEY_MODE = "redis.key";

  /** Option: tombstones delete keys. */
  public static final String DELETE_ENABLED = "delete.enabled";

  static ConfigDef define(ConfigDef def) {
    return def.define(
            KEY_PREFIX, Type.STRING, "", Importance.MEDIUM, "Prepended to every Redis key.")
        .define(
            KEY_MODE,
            Type.STRING,
            "record_key",
            ConfigDef.CaseInsensitiveValidString.in("record_key", "kafka"),
            Importance.MEDIUM,
            "record_key: the record's key as text; kafka: <topic>:<partition>:<offset>.")
        .define(
            DELETE_ENABLED,
            Type.BOOLEAN,
            false,
            Importance.LOW,
            "A record with a null value deletes its key.");
  }

  static final ConfigDef DEF = define(new ConfigDef());

  final String prefix;
  final boolean kafkaKeys;
  final boolean deleteEnabled;

  RedisSinkConfig(Map<String, String> props) {
    super(DEF, props, false);
    prefix = getString(KEY_PREFIX);
    kafkaKeys = getString(KEY_MODE).toLowerCase(Locale.ROOT).equals("kafka");
    deleteEnabled = getBoolean(DELETE_ENABLED);
  }
}
