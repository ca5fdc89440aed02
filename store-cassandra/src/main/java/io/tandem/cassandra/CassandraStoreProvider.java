package io.tandem.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStoreProvider;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import io.tandem.spi.support.OptionValues;
import io.tandem.spi.support.StoreOption;
import io.tandem.spi.support.StoreOptions;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Opens {@link CassandraOffsetStore}s from {@code
 * cassandra://[user:password@]host[:port][,host[:port]...]/keyspace?localDatacenter=dc1&...}.
 *
 * <p>Parameters, read by {@link StoreOptions} (in the query or in the properties; the same name in
 * both is an error): {@code localDatacenter} (required), {@code table}, {@code writeConsistency},
 * {@code serialConsistency}, {@code readConsistency}, {@code requestTimeout} (a duration as {@link
 * io.tandem.spi.support.Durations} reads it), {@code maxRangesPerCommit}, {@code
 * resultConcurrency}, {@code lwtAttempts}, {@code user} and {@code password} (properties only, else
 * the URI's user info), and {@code createSchema}: {@code SimpleStrategy:<n>} or {@code
 * NetworkTopologyStrategy:<dc>=<n>[,...]} creates the keyspace (if absent) and the table, {@code
 * table} creates only the table in an existing keyspace; absent, nothing is created. The port
 * defaults to 9042, the keyspace to {@code tandem}. Any other parameter is an error.
 */
public final class CassandraStoreProvider implements OffsetStoreProvider {

  static final StoreOption<String> LOCAL_DATACENTER =
      StoreOption.text(
              "localDatacenter",
              null,
              "the driver's local DC (required with contact points); one default node:"
                  + " `datacenter1`")
          .defaultText("— (required)");
  static final StoreOption<String> TABLE =
      StoreOption.text("table", CassandraStoreConfig.DEFAULT_TABLE, "offsets table");
  static final StoreOption<ConsistencyLevel> WRITE_CONSISTENCY =
      consistency(
          "writeConsistency",
          DefaultConsistencyLevel.LOCAL_QUORUM,
          "Paxos commit phase, initialize, results without a level");
  static final StoreOption<ConsistencyLevel> SERIAL_CONSISTENCY =
      consistency(
          "serialConsistency",
          DefaultConsistencyLevel.LOCAL_SERIAL,
          "Paxos phase and outcome-resolving reads (`SERIAL` for groups moving across DCs)");
  static final StoreOption<ConsistencyLevel> READ_CONSISTENCY =
      consistency(
          "readConsistency",
          DefaultConsistencyLevel.LOCAL_QUORUM,
          "`groups`, the session default (positions are read at `serialConsistency`, which"
              + " completes a commit a crash left half-way)");
  static final StoreOption<Duration> REQUEST_TIMEOUT =
      StoreOption.duration(
          "requestTimeout",
          Duration.ofSeconds(12),
          "driver timeout; longer than the server's write/CAS timeouts so the server's answer"
              + " comes first");
  static final StoreOption<Integer> MAX_RANGES_PER_COMMIT =
      StoreOption.integer(
          "maxRangesPerCommit",
          CassandraStoreConfig.DEFAULT_MAX_RANGES,
          "ranges per commit (one Paxos round; see below)");
  static final StoreOption<Integer> RESULT_CONCURRENCY =
      StoreOption.integer("resultConcurrency", 32, "result statements in flight at once");
  static final StoreOption<Integer> LWT_ATTEMPTS =
      StoreOption.integer(
          "lwtAttempts",
          3,
          "sends of a commit's LWT when an unknown outcome resolves as \"not applied\"");
  static final StoreOption<CassandraLayout> LAYOUT =
      StoreOption.<CassandraLayout>of(
          "layout",
          "`partition` or `group`",
          CassandraLayout::parse,
          CassandraLayout.GROUP,
          "`partition`: a Cassandra partition per Kafka partition (members of a group do not"
              + " contend; one LWT per range, not atomic across partitions); `group`: a group's"
              + " positions in one Cassandra partition (one LWT batch per commit, atomic across"
              + " partitions); see below");
  static final StoreOption<String> USER =
      StoreOption.text("user", null, "plain-text auth user (or the URI's user info)")
          .formerly("username")
          .propertiesOnly();
  static final StoreOption<String> PASSWORD =
      StoreOption.secret("password", "plain-text auth password (or the URI's user info)")
          .propertiesOnly();
  static final StoreOption<String> CREATE_SCHEMA =
      StoreOption.text(
          "createSchema",
          null,
          "`SimpleStrategy:3`, `NetworkTopologyStrategy:dc1=3,dc2=3` (keyspace + table) or"
              + " `table` (table in an existing keyspace); absent, nothing is created");

  /** Every option, in the order of the README's table. */
  static final StoreOptions OPTIONS =
      StoreOptions.of(
          "Cassandra",
          List.of(
              LOCAL_DATACENTER,
              TABLE,
              WRITE_CONSISTENCY,
              SERIAL_CONSISTENCY,
              READ_CONSISTENCY,
              REQUEST_TIMEOUT,
              MAX_RANGES_PER_COMMIT,
              RESULT_CONCURRENCY,
              LWT_ATTEMPTS,
              LAYOUT,
              USER,
              PASSWORD,
              CREATE_SCHEMA));

  private static StoreOption<ConsistencyLevel> consistency(
      String name, DefaultConsistencyLevel defaultValue, String description) {
    return StoreOption.<ConsistencyLevel>of(
        name,
        "consistency level",
        v -> {
          try {
            return DefaultConsistencyLevel.valueOf(v.trim().toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                "expected a consistency level (ONE, LOCAL_QUORUM, QUORUM, SERIAL, LOCAL_SERIAL,"
                    + " ...), got '"
                    + v
                    + "'",
                e);
          }
        },
        defaultValue,
        description);
  }

  /** Creates the provider; ServiceLoader calls this. */
  public CassandraStoreProvider() {}

  @Override
  public String name() {
    return "cassandra";
  }

  @Override
  public Set<String> schemes() {
    return Set.of("cassandra");
  }

  @Override
  public OffsetStore<?> open(String uri, Map<String, String> properties) {
    Parsed parsed = parse(uri, properties);
    CassandraOffsetStore store = CassandraOffsetStore.open(parsed.config);
    try {
      if (parsed.createSchema != null) {
        if (parsed.createSchema.equalsIgnoreCase("table")) {
          store.createTable();
        } else {
          store.createSchema(CassandraReplication.parse(parsed.createSchema));
        }
      }
      return store;
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  record Parsed(CassandraStoreConfig config, String createSchema) {}

  static Parsed parse(String uri, Map<String, String> properties) {
    String masked = OPTIONS.mask(uri);
    if (!"cassandra".equals(StoreUris.scheme(uri))
        || !uri.regionMatches(true, 0, "cassandra://", 0, 12)) {
      throw new StoreConfigurationException(
          "Not a Cassandra store URI: '"
              + masked
              + "'. Expected cassandra://host:port/keyspace?localDatacenter=dc1");
    }
    String rest = uri.substring("cassandra://".length());
    int q = rest.indexOf('?');
    String beforeQuery = q < 0 ? rest : rest.substring(0, q);
    int slash = beforeQuery.indexOf('/');
    String authority = slash < 0 ? beforeQuery : beforeQuery.substring(0, slash);
    String keyspace = slash < 0 ? "" : beforeQuery.substring(slash + 1);

    OptionValues options = OPTIONS.read(uri, properties);
    CassandraStoreConfig.Builder b = CassandraStoreConfig.builder();
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      String userInfo = authority.substring(0, at);
      authority = authority.substring(at + 1);
      int colon = userInfo.indexOf(':');
      if (colon < 0 || options.has(USER) || options.has(PASSWORD)) {
        throw new StoreConfigurationException(
            "Cassandra URI user info must be user:password and the credentials given in one place,"
                + " the URI or the properties ("
                + masked
                + ")");
      }
      b.credentials(
          decode(userInfo.substring(0, colon), masked),
          decode(userInfo.substring(colon + 1), masked));
    }
    if (authority.isEmpty()) {
      throw new StoreConfigurationException("Cassandra URI has no host: '" + masked + "'");
    }
    for (String hostPort : authority.split(",")) {
      String hp = hostPort.trim();
      String host = hp;
      int port = 9042;
      int colon = hp.lastIndexOf(':');
      if (colon >= 0 && hp.indexOf(']') < colon) {
        host = hp.substring(0, colon);
        try {
          port = Integer.parseInt(hp.substring(colon + 1));
        } catch (NumberFormatException e) {
          throw new StoreConfigurationException(
              "Bad port in Cassandra URI '" + masked + "': '" + hp.substring(colon + 1) + "'", e);
        }
      }
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (host.isEmpty()) {
        throw new StoreConfigurationException("Empty host in Cassandra URI '" + masked + "'");
      }
      b.contactPoint(host, port);
    }
    if (!keyspace.isEmpty()) {
      b.keyspace(keyspace);
    }
    options.ifPresent(LOCAL_DATACENTER, b::localDatacenter);
    options.ifPresent(TABLE, b::table);
    options.ifPresent(WRITE_CONSISTENCY, b::writeConsistency);
    options.ifPresent(SERIAL_CONSISTENCY, b::serialConsistency);
    options.ifPresent(READ_CONSISTENCY, b::readConsistency);
    options.ifPresent(REQUEST_TIMEOUT, b::requestTimeout);
    options.ifPresent(MAX_RANGES_PER_COMMIT, b::maxRangesPerCommit);
    options.ifPresent(RESULT_CONCURRENCY, b::resultConcurrency);
    options.ifPresent(LWT_ATTEMPTS, b::lwtAttempts);
    options.ifPresent(LAYOUT, b::layout);
    if (options.has(USER) != options.has(PASSWORD)) {
      throw new StoreConfigurationException("Cassandra options user and password go together");
    }
    if (options.has(USER)) {
      b.credentials(options.get(USER).orElseThrow(), options.get(PASSWORD).orElseThrow());
    }
    String createSchema = options.get(CREATE_SCHEMA).orElse(null);
    if (createSchema != null && !createSchema.equalsIgnoreCase("table")) {
      CassandraReplication.parse(createSchema); // fail before connecting
    }
    return new Parsed(b.build(), createSchema);
  }

  private static String decode(String s, String masked) {
    try {
      return StoreUris.decode(s);
    } catch (IllegalArgumentException e) {
      throw new StoreConfigurationException(
          "Malformed Cassandra URI '" + masked + "': " + e.getMessage(), e);
    }
  }
}
