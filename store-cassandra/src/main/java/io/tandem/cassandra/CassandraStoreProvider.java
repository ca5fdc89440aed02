package io.tandem.cassandra;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStoreProvider;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Opens {@link CassandraOffsetStore}s from {@code
 * cassandra://[user:password@]host[:port][,host[:port]...]/keyspace?localDatacenter=dc1&...}.
 *
 * <p>Parameters (in the query or in the properties; the same name in both is an error): {@code
 * localDatacenter} (required), {@code table}, {@code writeConsistency}, {@code serialConsistency},
 * {@code readConsistency}, {@code requestTimeout} ({@code 12s}, {@code 500ms} or ISO-8601), {@code
 * maxRangesPerCommit}, {@code resultConcurrency}, {@code lwtAttempts}, {@code username}, {@code
 * password}, and {@code createSchema}: {@code SimpleStrategy:<n>} or {@code
 * NetworkTopologyStrategy:<dc>=<n>[,...]} creates the keyspace (if absent) and the table, {@code
 * table} creates only the table in an existing keyspace; absent, nothing is created. The port
 * defaults to 9042, the keyspace to {@code tandem}. Any other parameter is an error.
 */
public final class CassandraStoreProvider implements OffsetStoreProvider {

  private static final Set<String> KNOWN =
      Set.of(
          "localDatacenter",
          "table",
          "writeConsistency",
          "serialConsistency",
          "readConsistency",
          "requestTimeout",
          "maxRangesPerCommit",
          "resultConcurrency",
          "lwtAttempts",
          "username",
          "password",
          "createSchema");

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m)");

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
    String masked = StoreUris.mask(uri);
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

    Map<String, String> options = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : properties.entrySet()) {
      options.put(e.getKey(), e.getValue());
    }
    for (Map.Entry<String, String> e : StoreUris.query(uri).entrySet()) {
      String before = options.put(e.getKey(), e.getValue());
      if (before != null) {
        throw new StoreConfigurationException(
            "Cassandra store option '"
                + e.getKey()
                + "' is given both in the URI and in the properties ("
                + masked
                + ")");
      }
    }
    Set<String> unknown = new TreeSet<>(options.keySet());
    unknown.removeAll(KNOWN);
    if (!unknown.isEmpty()) {
      throw new StoreConfigurationException(
          "Unknown Cassandra store option(s) "
              + unknown
              + " in "
              + masked
              + ". Known: "
              + new TreeSet<>(KNOWN));
    }

    CassandraStoreConfig.Builder b = CassandraStoreConfig.builder();
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      String userInfo = authority.substring(0, at);
      authority = authority.substring(at + 1);
      int colon = userInfo.indexOf(':');
      if (colon < 0 || options.containsKey("username")) {
        throw new StoreConfigurationException(
            "Cassandra URI user info must be user:password and not repeat username ("
                + masked
                + ")");
      }
      b.credentials(decode(userInfo.substring(0, colon)), decode(userInfo.substring(colon + 1)));
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
    String createSchema = null;
    for (Map.Entry<String, String> e : options.entrySet()) {
      String v = e.getValue();
      switch (e.getKey()) {
        case "localDatacenter" -> b.localDatacenter(v);
        case "table" -> b.table(v);
        case "writeConsistency" ->
            b.writeConsistency(CassandraStoreConfig.consistency(e.getKey(), v));
        case "serialConsistency" ->
            b.serialConsistency(CassandraStoreConfig.consistency(e.getKey(), v));
        case "readConsistency" ->
            b.readConsistency(CassandraStoreConfig.consistency(e.getKey(), v));
        case "requestTimeout" -> b.requestTimeout(duration(e.getKey(), v));
        case "maxRangesPerCommit" -> b.maxRangesPerCommit(integer(e.getKey(), v));
        case "resultConcurrency" -> b.resultConcurrency(integer(e.getKey(), v));
        case "lwtAttempts" -> b.lwtAttempts(integer(e.getKey(), v));
        case "createSchema" -> createSchema = v;
        case "username", "password" -> {
          // below, together
        }
        default -> throw new IllegalStateException(e.getKey());
      }
    }
    if (options.containsKey("username") != options.containsKey("password")) {
      throw new StoreConfigurationException("Cassandra options username and password go together");
    }
    if (options.containsKey("username")) {
      b.credentials(options.get("username"), options.get("password"));
    }
    if (createSchema != null && !createSchema.equalsIgnoreCase("table")) {
      CassandraReplication.parse(createSchema); // fail before connecting
    }
    return new Parsed(b.build(), createSchema);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static int integer(String option, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new StoreConfigurationException(option + " must be an integer, got '" + value + "'", e);
    }
  }

  private static Duration duration(String option, String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    Matcher m = DURATION.matcher(v);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        default -> Duration.ofMinutes(n);
      };
    }
    try {
      return Duration.parse(value.trim());
    } catch (DateTimeParseException e) {
      throw new StoreConfigurationException(
          option + " must be a duration such as 12s, 500ms or PT12S, got '" + value + "'", e);
    }
  }
}
