package io.tandem.connect;

import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The options every Tandem sink connector shares: where its store is, under which group its
 * positions are kept, and how the task batches and starts. A connector adds its own options with
 * {@link #define(ConfigDef)}.
 *
 * <table>
 *   <caption>Options</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@value #STORE_URI}</td><td>required</td><td>the Tandem store, e.g. {@code
 *       jdbc:postgresql://db:5432/app} or {@code redis://cache:6379}</td></tr>
 *   <tr><td>{@value #STORE_PREFIX}{@code <option>}</td><td>none</td><td>passed to the store
 *       without the prefix ({@code tandem.store.user}, {@code tandem.store.password}, {@code
 *       tandem.store.poolSize}, ...)</td></tr>
 *   <tr><td>{@value #GROUP}</td><td>{@code connect-<connector name>}</td><td>the group the
 *       positions are kept under</td></tr>
 *   <tr><td>{@value #KAFKA_PREFIX}{@code bootstrap.servers}</td><td>required</td><td>the
 *       cluster the connector reads, for log start offsets and the connector group's offsets;
 *       other {@value #KAFKA_PREFIX}{@code <option>} go to that admin client</td></tr>
 *   <tr><td>{@value #UNKNOWN_PARTITION}</td><td>{@code earliest}</td><td>{@code earliest},
 *       {@code kafka} or {@code fail}: see {@link UnknownPartitionPolicy}</td></tr>
 *   <tr><td>{@value #RETENTION_LOSS}</td><td>{@code fail}</td><td>{@code fail}: a task whose
 *       stored position was deleted by retention fails; {@code continue}: it logs an error and
 *       goes on from the log start</td></tr>
 *   <tr><td>{@value #COMMIT_MAX_RECORDS}</td><td>{@code 5000}</td><td>commit once this many
 *       records are buffered</td></tr>
 *   <tr><td>{@value #COMMIT_INTERVAL_MS}</td><td>{@code 0}</td><td>commit at the end of a
 *       {@code put} once the oldest buffered record waited this long; 0: every {@code put}</td></tr>
 *   <tr><td>{@value #STORE_RETRY_TIMEOUT_MS}</td><td>{@code 60000}</td><td>how long an unavailable
 *       store is retried before the task fails</td></tr>
 * </table>
 *
 * @since 0.1
 */
public final class TandemSinkConfig extends AbstractConfig {

  /** Option: the store URI. */
  public static final String STORE_URI = "tandem.store.uri";

  /** Prefix of the options passed to the store. */
  public static final String STORE_PREFIX = "tandem.store.";

  /** Option: the store's password (masked in Connect's REST API and logs). */
  public static final String STORE_PASSWORD = "tandem.store.password";

  /** Option: the group positions are kept under. */
  public static final String GROUP = "tandem.group";

  /** Prefix of the admin client options. */
  public static final String KAFKA_PREFIX = "tandem.kafka.";

  /** Option: the bootstrap servers of the cluster the connector reads. */
  public static final String KAFKA_BOOTSTRAP = "tandem.kafka.bootstrap.servers";

  /** Option: policy for partitions without a stored position. */
  public static final String UNKNOWN_PARTITION = "tandem.unknown.partition";

  /** Option: what a task does when retention deleted records past its stored position. */
  public static final String RETENTION_LOSS = "tandem.retention.loss";

  /** Option: buffered records that trigger a commit. */
  public static final String COMMIT_MAX_RECORDS = "tandem.commit.max.records";

  /** Option: the longest a record waits in the buffer, in milliseconds. */
  public static final String COMMIT_INTERVAL_MS = "tandem.commit.interval.ms";

  /** Option: how long an unavailable store is retried, in milliseconds. */
  public static final String STORE_RETRY_TIMEOUT_MS = "tandem.store.retry.timeout.ms";

  /** The connector's name (Connect's own option). */
  static final String NAME = "name";

  /** Connect's override of the sink consumer's group. */
  static final String CONSUMER_GROUP_OVERRIDE = "consumer.override.group.id";

  /**
   * Adds the shared options to a connector's definition.
   *
   * @param def the connector's definition
   * @return {@code def}
   */
  public static ConfigDef define(ConfigDef def) {
    return def.define(
            STORE_URI,
            Type.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            new ConfigDef.NonEmptyString(),
            Importance.HIGH,
            "The Tandem store: jdbc:postgresql://host:5432/db, jdbc:mariadb://..., jdbc:h2:...,"
                + " redis://host:6379. Options of the store go in tandem.store.<option>.")
        .define(
            STORE_PASSWORD,
            Type.PASSWORD,
            null,
            Importance.MEDIUM,
            "The store's password, passed to it as 'password'.")
        .define(
            GROUP,
            Type.STRING,
            null,
            Importance.MEDIUM,
            "The group positions are kept under in the store. Default: connect-<connector name>.")
        .define(
            KAFKA_BOOTSTRAP,
            Type.LIST,
            ConfigDef.NO_DEFAULT_VALUE,
            Importance.HIGH,
            "Bootstrap servers of the Kafka cluster the connector reads; the task asks it for"
                + " log start offsets (to tell retention from gaps) and the connector group's"
                + " offsets. Other tandem.kafka.<option> go to that admin client.")
        .define(
            UNKNOWN_PARTITION,
            Type.STRING,
            UnknownPartitionPolicy.EARLIEST.value(),
            ConfigDef.CaseInsensitiveValidString.in("earliest", "kafka", "fail"),
            Importance.MEDIUM,
            "Where a partition without a stored position starts: earliest (log start), kafka"
                + " (the connector group's committed offset, else log start) or fail.")
        .define(
            RETENTION_LOSS,
            Type.STRING,
            "fail",
            ConfigDef.CaseInsensitiveValidString.in("fail", "continue"),
            Importance.MEDIUM,
            "When retention deleted records past a stored position: fail the task (default), or"
                + " continue from the log start and log the loss.")
        .define(
            COMMIT_MAX_RECORDS,
            Type.INT,
            5000,
            ConfigDef.Range.atLeast(1),
            Importance.LOW,
            "Commit once this many records are buffered.")
        .define(
            COMMIT_INTERVAL_MS,
            Type.LONG,
            0L,
            ConfigDef.Range.atLeast(0),
            Importance.LOW,
            "Commit at the end of a put once the oldest buffered record waited this long;"
                + " 0 commits every put.")
        .define(
            STORE_RETRY_TIMEOUT_MS,
            Type.LONG,
            60_000L,
            ConfigDef.Range.atLeast(0),
            Importance.LOW,
            "How long an unavailable store is retried before the task fails. Keep it below the"
                + " consumer's max.poll.interval.ms.");
  }

  /** The shared options alone. */
  static final ConfigDef BASE = define(new ConfigDef());

  /**
   * Parses the shared options of a connector's configuration; other keys are ignored here.
   *
   * @param props the connector's configuration
   * @throws ConfigException if an option is missing or invalid
   */
  public TandemSinkConfig(Map<String, String> props) {
    super(BASE, props, false);
  }

  /**
   * The store URI.
   *
   * @return the URI
   */
  public String storeUri() {
    return getString(STORE_URI);
  }

  /**
   * The options passed to the store: every {@value #STORE_PREFIX}{@code <option>} but the URI,
   * without the prefix.
   *
   * @return a new map
   */
  public Map<String, String> storeProperties() {
    Map<String, String> out = new HashMap<>();
    originalsWithPrefix(STORE_PREFIX)
        .forEach(
            (k, v) -> {
              if (!k.equals("uri") && v != null) {
                out.put(k, v instanceof Password p ? p.value() : String.valueOf(v));
              }
            });
    Password password = getPassword(STORE_PASSWORD);
    if (password != null) {
      out.put("password", password.value());
    }
    out.remove("retry.timeout.ms");
    return out;
  }

  /**
   * The group positions are kept under.
   *
   * @return {@value #GROUP}, else {@code connect-<name>}
   * @throws ConfigException if neither the option nor the connector's name is set
   */
  public String group() {
    String g = getString(GROUP);
    if (g != null && !g.isBlank()) {
      return g;
    }
    Object name = originals().get(NAME);
    if (name == null || String.valueOf(name).isBlank()) {
      throw new ConfigException(
          GROUP, null, "set " + GROUP + " or the connector's 'name' to name the store's group");
    }
    return "connect-" + name;
  }

  /**
   * The consumer group Connect uses for this connector: {@code consumer.override.group.id}, else
   * {@code connect-<name>}.
   *
   * @return the group, or null if the connector's name is unknown
   */
  public String connectorConsumerGroup() {
    Object override = originals().get(CONSUMER_GROUP_OVERRIDE);
    if (override != null && !String.valueOf(override).isBlank()) {
      return String.valueOf(override);
    }
    Object name = originals().get(NAME);
    return name == null ? null : "connect-" + name;
  }

  /**
   * Admin client properties: every {@value #KAFKA_PREFIX}{@code <option>} without the prefix.
   *
   * @return a new map
   */
  public Map<String, Object> adminProperties() {
    Map<String, Object> out = new HashMap<>(originalsWithPrefix(KAFKA_PREFIX));
    out.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, String.join(",", getList(KAFKA_BOOTSTRAP)));
    out.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "tandem-connect-" + group());
    return out;
  }

  /**
   * The policy for partitions without a stored position.
   *
   * @return the policy
   */
  public UnknownPartitionPolicy unknownPartitionPolicy() {
    return UnknownPartitionPolicy.valueOf(getString(UNKNOWN_PARTITION).toUpperCase(Locale.ROOT));
  }

  /**
   * Whether retention past a stored position fails the task.
   *
   * @return true for {@code fail}
   */
  public boolean failOnRetentionLoss() {
    return getString(RETENTION_LOSS).equalsIgnoreCase("fail");
  }

  /**
   * Buffered records that trigger a commit.
   *
   * @return at least 1
   */
  public int commitMaxRecords() {
    return getInt(COMMIT_MAX_RECORDS);
  }

  /**
   * The longest a record waits in the buffer.
   *
   * @return the interval; zero commits every put
   */
  public Duration commitInterval() {
    return Duration.ofMillis(getLong(COMMIT_INTERVAL_MS));
  }

  /**
   * How long an unavailable store is retried.
   *
   * @return the timeout
   */
  public Duration storeRetryTimeout() {
    return Duration.ofMillis(getLong(STORE_RETRY_TIMEOUT_MS));
  }
}
