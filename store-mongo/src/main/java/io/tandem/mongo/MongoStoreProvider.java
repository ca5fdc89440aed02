package io.tandem.mongo;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStoreProvider;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Opens {@link MongoOffsetStore}s for {@code mongodb://} and {@code mongodb+srv://} URIs.
 *
 * <p>The URI is a MongoDB connection string. Its path names the database and, optionally, the
 * offsets collection ({@code /tandem.offsets}). Tandem's own parameters are {@code collection},
 * {@code requireTransactions} ({@code true}/{@code false}) and {@code transactionTimeoutMs}; they
 * may also be given as properties, and are removed before the connection string reaches the driver.
 * Every other URI parameter must be one of the driver's connection-string options ({@code
 * replicaSet}, {@code authSource}, {@code tls}, {@code serverSelectionTimeoutMS}, ...) and passes
 * through unchanged; any other name is an error rather than silently ignored.
 */
public final class MongoStoreProvider implements OffsetStoreProvider {

  private static final String COLLECTION = "collection";
  private static final String DATABASE = "database";
  private static final String REQUIRE_TRANSACTIONS = "requireTransactions";
  private static final String TRANSACTION_TIMEOUT_MS = "transactionTimeoutMs";
  private static final List<String> TANDEM_PARAMETERS =
      List.of(COLLECTION, REQUIRE_TRANSACTIONS, TRANSACTION_TIMEOUT_MS);

  /**
   * The connection-string options of mongodb-driver-sync 5.x, lower case (the driver reads them
   * case-insensitively). Taken from the option names com.mongodb.ConnectionString recognises; an
   * option the driver does not know would only be logged and ignored by it.
   */
  private static final Set<String> DRIVER_OPTIONS =
      Set.of(
          "appname",
          "authmechanism",
          "authmechanismproperties",
          "authsource",
          "compressors",
          "connecttimeoutms",
          "directconnection",
          "enableoverloadretargeting",
          "gssapiservicename",
          "heartbeatfrequencyms",
          "journal",
          "loadbalanced",
          "localthresholdms",
          "maxadaptiveretries",
          "maxconnecting",
          "maxidletimems",
          "maxlifetimems",
          "maxpoolsize",
          "maxstalenessseconds",
          "minpoolsize",
          "proxyhost",
          "proxypassword",
          "proxyport",
          "proxyusername",
          "readconcernlevel",
          "readpreference",
          "readpreferencetags",
          "replicaset",
          "retryreads",
          "retrywrites",
          "safe",
          "servermonitoringmode",
          "serverselectiontimeoutms",
          "sockettimeoutms",
          "srvmaxhosts",
          "srvservicename",
          "ssl",
          "sslinvalidhostnameallowed",
          "timeoutms",
          "tls",
          "tlsallowinvalidcertificates",
          "tlsallowinvalidhostnames",
          "tlsinsecure",
          "uuidrepresentation",
          "w",
          "waitqueuetimeoutms",
          "wtimeoutms",
          "zlibcompressionlevel");

  /** Creates the provider; ServiceLoader calls this. */
  public MongoStoreProvider() {}

  @Override
  public String name() {
    return "mongodb";
  }

  @Override
  public Set<String> schemes() {
    return Set.of("mongodb", "mongodb+srv");
  }

  @Override
  public OffsetStore<MongoResults> open(String uri, Map<String, String> properties) {
    return MongoOffsetStore.open(config(uri, properties));
  }

  /**
   * Parses a URI and properties into a configuration, without connecting.
   *
   * @param uri the connection string with Tandem's parameters
   * @param properties Tandem's options beside the URI
   * @return the configuration
   * @throws StoreConfigurationException if a parameter or property is unknown or invalid
   */
  public static MongoStoreConfig config(String uri, Map<String, String> properties) {
    String scheme = StoreUris.scheme(uri);
    if (!scheme.equals("mongodb") && !scheme.equals("mongodb+srv")) {
      throw new StoreConfigurationException(
          "Not a MongoDB URI: '"
              + StoreUris.mask(uri)
              + "'. Expected mongodb://host[:port]/database or mongodb+srv://host/database");
    }
    Map<String, String> tandem = new LinkedHashMap<>();
    String driverUri = split(uri, tandem);
    for (Map.Entry<String, String> e : properties.entrySet()) {
      String key = canonical(e.getKey());
      if (key == null && !e.getKey().equals(DATABASE)) {
        throw new StoreConfigurationException(
            "Unknown MongoDB store property '"
                + e.getKey()
                + "'. Known: database, "
                + String.join(", ", TANDEM_PARAMETERS)
                + "; driver options go in the connection string.");
      }
      String name = key == null ? DATABASE : key;
      if (tandem.containsKey(name) && !tandem.get(name).equals(e.getValue())) {
        throw new StoreConfigurationException(
            "'" + name + "' is given both in the URI and as a property, with different values");
      }
      tandem.put(name, e.getValue());
    }
    MongoStoreConfig.Builder b = MongoStoreConfig.builder().connectionString(driverUri);
    tandem.forEach(
        (name, value) -> {
          switch (name) {
            case DATABASE -> b.database(value);
            case COLLECTION -> b.collection(value);
            case REQUIRE_TRANSACTIONS -> b.requireTransactions(bool(name, value));
            case TRANSACTION_TIMEOUT_MS -> b.transactionTimeout(millis(name, value));
            default -> throw new IllegalStateException(name);
          }
        });
    return b.build();
  }

  /**
   * Removes Tandem's parameters from the URI's query, keeping the driver's untouched (encoding,
   * order and separators as given), and checks every other name is a driver option.
   */
  private static String split(String uri, Map<String, String> tandem) {
    int q = uri.indexOf('?');
    if (q < 0) {
      return uri;
    }
    String query = uri.substring(q + 1);
    List<String> kept = new ArrayList<>();
    // The driver accepts both & and ; between options.
    for (String pair : query.split("[&;]")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String rawName = eq < 0 ? pair : pair.substring(0, eq);
      String name = decode(rawName, uri);
      String tandemName = canonical(name);
      if (tandemName != null) {
        String value = eq < 0 ? "" : decode(pair.substring(eq + 1), uri);
        if (tandem.put(tandemName, value) != null) {
          throw new StoreConfigurationException(
              "Parameter '" + name + "' is given twice in '" + StoreUris.mask(uri) + "'");
        }
      } else if (DRIVER_OPTIONS.contains(name.toLowerCase(Locale.ROOT))) {
        kept.add(pair);
      } else {
        throw new StoreConfigurationException(
            "Unknown parameter '"
                + name
                + "' in '"
                + StoreUris.mask(uri)
                + "'. Tandem's parameters are "
                + String.join(", ", TANDEM_PARAMETERS)
                + "; every other parameter must be a MongoDB connection-string option"
                + " (replicaSet, authSource, tls, w, serverSelectionTimeoutMS, ...).");
      }
    }
    String base = uri.substring(0, q);
    return kept.isEmpty() ? base : base + "?" + String.join("&", kept);
  }

  private static String canonical(String name) {
    for (String p : TANDEM_PARAMETERS) {
      if (p.equalsIgnoreCase(name)) {
        return p;
      }
    }
    return null;
  }

  private static String decode(String s, String uri) {
    try {
      return java.net.URLDecoder.decode(s, java.nio.charset.StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new StoreConfigurationException(
          "Malformed percent-encoding '" + s + "' in '" + StoreUris.mask(uri) + "'", e);
    }
  }

  private static boolean bool(String name, String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new StoreConfigurationException(
              name + " must be true or false, got '" + value + "'");
    };
  }

  private static Duration millis(String name, String value) {
    try {
      long ms = Long.parseLong(value);
      if (ms <= 0) {
        throw new NumberFormatException();
      }
      return Duration.ofMillis(ms);
    } catch (NumberFormatException e) {
      throw new StoreConfigurationException(
          name + " must be a positive number of milliseconds, got '" + value + "'", e);
    }
  }
}
