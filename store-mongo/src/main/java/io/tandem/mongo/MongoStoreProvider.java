package io.tandem.mongo;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStoreProvider;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import io.tandem.spi.support.OptionValues;
import io.tandem.spi.support.StoreOption;
import io.tandem.spi.support.StoreOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Opens {@link MongoOffsetStore}s for {@code mongodb://} and {@code mongodb+srv://} URIs.
 *
 * <p>The URI is a MongoDB connection string. Its path names the database and, optionally, the
 * offsets collection ({@code /tandem.offsets}). Tandem's own parameters, read by {@link
 * StoreOptions}, are {@code collection}, {@code requireTransactions} ({@code true}/{@code false})
 * and {@code transactionTimeout} (a duration as {@link io.tandem.spi.support.Durations} reads it);
 * they may be given as properties instead (never both for one option), beside {@code database}, and
 * are removed before the connection string reaches the driver. Every other URI parameter must be
 * one of the driver's connection-string options ({@code replicaSet}, {@code authSource}, {@code
 * tls}, {@code serverSelectionTimeoutMS}, ...) and passes through unchanged; any other name is an
 * error rather than silently ignored.
 */
public final class MongoStoreProvider implements OffsetStoreProvider {

  static final StoreOption<String> DATABASE =
      StoreOption.text(
              "database",
              null,
              "database of the offsets collection and of `MongoResults` helpers (or the URI's"
                  + " path)")
          .defaultText("URI's database, else `tandem`")
          .propertiesOnly();
  static final StoreOption<String> COLLECTION =
      StoreOption.text(
          "collection",
          MongoStoreConfig.DEFAULT_COLLECTION,
          "offsets collection (or the URI's path `/db.collection`)");
  static final StoreOption<Boolean> REQUIRE_TRANSACTIONS =
      StoreOption.bool(
          "requireTransactions",
          false,
          "refuse a server without transactions (standalone) instead of running IDEMPOTENT");
  static final StoreOption<Duration> TRANSACTION_TIMEOUT =
      StoreOption.duration(
              "transactionTimeout",
              MongoStoreConfig.DEFAULT_TRANSACTION_TIMEOUT,
              "how long one commit retries `TransientTransactionError` (write conflict, failover)"
                  + " and `UnknownTransactionCommitResult`")
          .formerly("transactionTimeoutMs");
  static final StoreOption<MongoLayout> LAYOUT =
      StoreOption.<MongoLayout>of(
          "layout",
          "`partition` or `group`",
          MongoLayout::parse,
          MongoLayout.GROUP,
          "`partition`: a document per (group, topic, partition), members of a group do not"
              + " contend; `group`: one document per group; see below");

  /** Tandem's options, in the order of the README's table; driver options are not among them. */
  static final StoreOptions OPTIONS =
      StoreOptions.of(
              "MongoDB",
              List.of(DATABASE, COLLECTION, REQUIRE_TRANSACTIONS, TRANSACTION_TIMEOUT, LAYOUT))
          .withNote(
              "Every other URI parameter must be a MongoDB connection-string option (replicaSet,"
                  + " authSource, tls, w, serverSelectionTimeoutMS, ...); driver options go in the"
                  + " connection string, not in the properties.");

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
    List<Map.Entry<String, String>> tandem = new ArrayList<>();
    String driverUri = split(uri, tandem);
    OptionValues values = OPTIONS.read(uri, tandem, properties);
    MongoStoreConfig.Builder b = MongoStoreConfig.builder().connectionString(driverUri);
    values.ifPresent(DATABASE, b::database);
    values.ifPresent(COLLECTION, b::collection);
    values.ifPresent(REQUIRE_TRANSACTIONS, b::requireTransactions);
    values.ifPresent(TRANSACTION_TIMEOUT, b::transactionTimeout);
    values.ifPresent(LAYOUT, b::layout);
    return b.build();
  }

  /**
   * Removes Tandem's parameters from the URI's query, keeping the driver's untouched (encoding,
   * order and separators as given), and checks every other name is a driver option.
   */
  private static String split(String uri, List<Map.Entry<String, String>> tandem) {
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
      String name = decode(eq < 0 ? pair : pair.substring(0, eq), uri);
      if (OPTIONS.find(name).isPresent()) {
        tandem.add(Map.entry(name, eq < 0 ? "" : decode(pair.substring(eq + 1), uri)));
      } else if (DRIVER_OPTIONS.contains(name.toLowerCase(Locale.ROOT))) {
        kept.add(pair);
      } else {
        throw OPTIONS.unknown(name, uri);
      }
    }
    String base = uri.substring(0, q);
    return kept.isEmpty() ? base : base + "?" + String.join("&", kept);
  }

  private static String decode(String s, String uri) {
    try {
      return StoreUris.decode(s);
    } catch (IllegalArgumentException e) {
      throw new StoreConfigurationException(
          "Malformed MongoDB URI '" + OPTIONS.mask(uri) + "': " + e.getMessage(), e);
    }
  }
}
