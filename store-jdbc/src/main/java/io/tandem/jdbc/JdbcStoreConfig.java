package io.tandem.jdbc;

import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Immutable configuration of a {@link JdbcOffsetStore}, built with {@link #builder()} or read from
 * a store URI and properties with {@link #fromUri(String, Map)}.
 *
 * <table>
 *   <caption>Options (URI parameter {@code tandem.<option>} or property {@code <option>})</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code table}</td><td>{@code tandem_offsets}</td><td>offsets table, {@value
 *       Identifiers#RULE}</td></tr>
 *   <tr><td>{@code create-schema}</td><td>{@code true}</td><td>create the table on first use
 *       (idempotent)</td></tr>
 *   <tr><td>{@code pool-size}</td><td>{@code 4}</td><td>HikariCP maximum pool size</td></tr>
 *   <tr><td>{@code connection-timeout-ms}</td><td>{@code 10000}</td><td>wait for a connection;
 *       also the driver's connect timeout</td></tr>
 *   <tr><td>{@code user}, {@code password}</td><td>none</td><td>credentials (or in the URL as
 *       the driver accepts them)</td></tr>
 *   <tr><td>{@code dialect}</td><td>from the URL</td><td>{@code postgresql}, {@code h2}, {@code
 *       mariadb}, {@code mysql}</td></tr>
 *   <tr><td>{@code driver.<name>}</td><td>none</td><td>property passed to the JDBC driver
 *       (properties only)</td></tr>
 * </table>
 */
public final class JdbcStoreConfig {

  /** Default offsets table name. */
  public static final String DEFAULT_TABLE = "tandem_offsets";

  /** Default maximum pool size. */
  public static final int DEFAULT_POOL_SIZE = 4;

  /** Default time to wait for a connection. */
  public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(10);

  static final String OPT_TABLE = "table";
  static final String OPT_CREATE_SCHEMA = "create-schema";
  static final String OPT_POOL_SIZE = "pool-size";
  static final String OPT_CONNECTION_TIMEOUT = "connection-timeout-ms";
  static final String OPT_USER = "user";
  static final String OPT_PASSWORD = "password";
  static final String OPT_DIALECT = "dialect";
  static final String DRIVER_PREFIX = "driver.";
  static final String URI_PREFIX = "tandem.";

  private static final List<String> OPTIONS =
      List.of(
          OPT_TABLE,
          OPT_CREATE_SCHEMA,
          OPT_POOL_SIZE,
          OPT_CONNECTION_TIMEOUT,
          OPT_USER,
          OPT_PASSWORD,
          OPT_DIALECT);

  private final String url;
  private final String user;
  private final String password;
  private final String tableName;
  private final boolean createSchema;
  private final int poolSize;
  private final Duration connectionTimeout;
  private final JdbcDialect dialect;
  private final Map<String, String> driverProperties;

  private JdbcStoreConfig(Builder b) {
    this.url = b.url;
    this.user = b.user;
    this.password = b.password;
    this.tableName = b.tableName;
    this.createSchema = b.createSchema;
    this.poolSize = b.poolSize;
    this.connectionTimeout = b.connectionTimeout;
    this.dialect =
        b.dialect != null ? b.dialect : (b.url == null ? null : JdbcDialect.fromUrl(b.url));
    this.driverProperties = Collections.unmodifiableMap(new TreeMap<>(b.driverProperties));
  }

  /**
   * A builder with every option at its default.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads a configuration from a store URI and properties. The URI is a JDBC URL; parameters named
   * {@code tandem.<option>} ({@code ?tandem.table=offsets}, or {@code ;tandem.table=offsets} in an
   * H2 URL) are this store's options and are removed before the URL reaches the driver; every other
   * parameter is the driver's. Properties hold the same options without the prefix, plus {@code
   * driver.<name>} entries for the driver.
   *
   * @param uri the JDBC URL
   * @param properties options; an unknown key is an error
   * @return the configuration
   * @throws StoreConfigurationException if the URI is malformed or an option is unknown or invalid
   */
  public static JdbcStoreConfig fromUri(String uri, Map<String, String> properties) {
    Objects.requireNonNull(uri, "uri must not be null");
    Objects.requireNonNull(properties, "properties must not be null");
    if (!uri.regionMatches(true, 0, "jdbc:", 0, 5) || uri.length() <= 5) {
      throw new StoreConfigurationException(
          "Malformed JDBC store URI '"
              + StoreUris.mask(uri)
              + "': expected jdbc:<database>:..., such as jdbc:postgresql://host:5432/app or"
              + " jdbc:h2:./data/tandem");
    }
    Map<String, String> options = new LinkedHashMap<>();
    String driverUrl = extractOptions(uri, options);
    Builder b = builder().url(driverUrl);
    for (Map.Entry<String, String> e : properties.entrySet()) {
      String key = Objects.requireNonNull(e.getKey(), "property key must not be null");
      String value =
          Objects.requireNonNull(e.getValue(), () -> "property '" + key + "' must not be null");
      if (key.startsWith(DRIVER_PREFIX) && key.length() > DRIVER_PREFIX.length()) {
        b.driverProperty(key.substring(DRIVER_PREFIX.length()), value);
      } else if (options.containsKey(key)) {
        throw new StoreConfigurationException(
            "Option '" + key + "' is given both in the URI and in the properties; give it once");
      } else {
        options.put(key, value);
      }
    }
    for (Map.Entry<String, String> e : options.entrySet()) {
      apply(b, e.getKey(), e.getValue(), uri);
    }
    return b.build();
  }

  private static void apply(Builder b, String key, String value, String uri) {
    try {
      switch (key) {
        case OPT_TABLE -> b.tableName(value);
        case OPT_CREATE_SCHEMA -> b.createSchema(parseBoolean(key, value));
        case OPT_POOL_SIZE -> b.poolSize(parseInt(key, value));
        case OPT_CONNECTION_TIMEOUT -> b.connectionTimeout(Duration.ofMillis(parseInt(key, value)));
        case OPT_USER -> b.user(value);
        case OPT_PASSWORD -> b.password(value);
        case OPT_DIALECT -> b.dialect(JdbcDialect.named(value));
        default ->
            throw new StoreConfigurationException(
                "Unknown JDBC store option '"
                    + key
                    + "' for "
                    + StoreUris.mask(uri)
                    + ". Known options: "
                    + String.join(", ", OPTIONS)
                    + ", and driver.<name> properties for the JDBC driver"
                    + " (in the URI: tandem.<option>=...).");
      }
    } catch (IllegalArgumentException e) {
      throw new StoreConfigurationException(e.getMessage(), e);
    }
  }

  private static boolean parseBoolean(String key, String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new IllegalArgumentException(
              "option " + key + " must be true or false, got '" + value + "'");
    };
  }

  private static int parseInt(String key, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "option " + key + " must be an integer, got '" + value + "'", e);
    }
  }

  /**
   * Moves {@code tandem.*} parameters of a JDBC URL into {@code options} and returns the URL
   * without them. Both parameter syntaxes in use are handled: {@code ?a=1&b=2} (PostgreSQL,
   * MariaDB, MySQL) and {@code ;A=1;B=2} (H2).
   */
  static String extractOptions(String uri, Map<String, String> options) {
    int query = uri.indexOf('?');
    if (query >= 0) {
      List<String> kept = new ArrayList<>();
      for (String param : uri.substring(query + 1).split("&", -1)) {
        if (param.startsWith(URI_PREFIX)) {
          putOption(options, decode(param, uri), uri);
        } else if (!param.isEmpty()) {
          kept.add(param);
        }
      }
      String base = extractSemicolonOptions(uri.substring(0, query), options, uri);
      return kept.isEmpty() ? base : base + "?" + String.join("&", kept);
    }
    return extractSemicolonOptions(uri, options, uri);
  }

  private static String extractSemicolonOptions(
      String url, Map<String, String> options, String uri) {
    if (url.indexOf(';') < 0) {
      return url;
    }
    String[] parts = url.split(";", -1);
    StringBuilder kept = new StringBuilder(parts[0]);
    for (int i = 1; i < parts.length; i++) {
      if (parts[i].regionMatches(true, 0, URI_PREFIX, 0, URI_PREFIX.length())) {
        putOption(options, parts[i], uri);
      } else {
        kept.append(';').append(parts[i]);
      }
    }
    return kept.toString();
  }

  private static void putOption(Map<String, String> options, String param, String uri) {
    int eq = param.indexOf('=');
    if (eq < 0) {
      throw new StoreConfigurationException(
          "Malformed option '"
              + param
              + "' in "
              + StoreUris.mask(uri)
              + ": expected tandem.<option>=<value>");
    }
    String key = param.substring(URI_PREFIX.length(), eq).toLowerCase(Locale.ROOT);
    if (options.put(key, param.substring(eq + 1)) != null) {
      throw new StoreConfigurationException(
          "Option '" + URI_PREFIX + key + "' is given twice in " + StoreUris.mask(uri));
    }
  }

  private static String decode(String param, String uri) {
    try {
      return URLDecoder.decode(param, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new StoreConfigurationException(
          "Malformed percent-encoding in " + StoreUris.mask(uri) + ": " + e.getMessage(), e);
    }
  }

  /**
   * The JDBC URL passed to the driver, without {@code tandem.*} parameters.
   *
   * @return the URL, or empty when the store uses a supplied {@code DataSource}
   */
  public Optional<String> url() {
    return Optional.ofNullable(url);
  }

  /**
   * The user to connect as.
   *
   * @return the user, or empty to leave it to the URL or driver
   */
  public Optional<String> user() {
    return Optional.ofNullable(user);
  }

  /**
   * The password.
   *
   * @return the password, or empty to leave it to the URL or driver
   */
  public Optional<String> password() {
    return Optional.ofNullable(password);
  }

  /**
   * The offsets table.
   *
   * @return the table name, possibly schema-qualified
   */
  public String tableName() {
    return tableName;
  }

  /**
   * Whether the store creates its table on first use.
   *
   * @return true to create on first use
   */
  public boolean createSchema() {
    return createSchema;
  }

  /**
   * Maximum connections of the store's own pool.
   *
   * @return the pool size
   */
  public int poolSize() {
    return poolSize;
  }

  /**
   * How long to wait for a connection.
   *
   * @return the timeout
   */
  public Duration connectionTimeout() {
    return connectionTimeout;
  }

  /**
   * The dialect, given or detected from the URL.
   *
   * @return the dialect, or empty when it is to be detected from a supplied {@code DataSource}
   */
  public Optional<JdbcDialect> dialect() {
    return Optional.ofNullable(dialect);
  }

  /**
   * Properties passed to the JDBC driver.
   *
   * @return the properties, sorted by name
   */
  public Map<String, String> driverProperties() {
    return driverProperties;
  }

  /** Masked URL for messages; never shows a password. */
  String maskedUrl() {
    return url == null ? "a supplied DataSource" : StoreUris.mask(url);
  }

  @Override
  public String toString() {
    return "JdbcStoreConfig{url="
        + maskedUrl()
        + ", user="
        + user
        + ", password="
        + (password == null ? "none" : "****")
        + ", table="
        + tableName
        + ", createSchema="
        + createSchema
        + ", poolSize="
        + poolSize
        + ", connectionTimeout="
        + connectionTimeout
        + ", dialect="
        + dialect
        + ", driverProperties="
        + driverProperties.keySet()
        + "}";
  }

  /** Builds a {@link JdbcStoreConfig}; {@link #build()} validates. Not thread-safe. */
  public static final class Builder {
    private String url;
    private String user;
    private String password;
    private String tableName = DEFAULT_TABLE;
    private boolean createSchema = true;
    private int poolSize = DEFAULT_POOL_SIZE;
    private Duration connectionTimeout = DEFAULT_CONNECTION_TIMEOUT;
    private JdbcDialect dialect;
    private final Map<String, String> driverProperties = new TreeMap<>();

    private Builder() {}

    /**
     * The JDBC URL. Required unless the store is opened on a {@code DataSource}.
     *
     * @param url a {@code jdbc:} URL
     * @return this builder
     */
    public Builder url(String url) {
      this.url = Objects.requireNonNull(url, "url must not be null");
      return this;
    }

    /**
     * The user. Default: none (the URL's or the driver's).
     *
     * @param user the user
     * @return this builder
     */
    public Builder user(String user) {
      this.user = Objects.requireNonNull(user, "user must not be null");
      return this;
    }

    /**
     * The password. Default: none.
     *
     * @param password the password
     * @return this builder
     */
    public Builder password(String password) {
      this.password = Objects.requireNonNull(password, "password must not be null");
      return this;
    }

    /**
     * The offsets table. Default {@value JdbcStoreConfig#DEFAULT_TABLE}.
     *
     * @param tableName {@value Identifiers#RULE}
     * @return this builder
     */
    public Builder tableName(String tableName) {
      this.tableName = Objects.requireNonNull(tableName, "tableName must not be null");
      return this;
    }

    /**
     * Whether to create the table on first use. Default true. Either way {@link
     * JdbcOffsetStore#prepare()} creates it on demand.
     *
     * @param createSchema true to create on first use
     * @return this builder
     */
    public Builder createSchema(boolean createSchema) {
      this.createSchema = createSchema;
      return this;
    }

    /**
     * Maximum connections of the store's own pool. Default {@value
     * JdbcStoreConfig#DEFAULT_POOL_SIZE}. Ignored with a supplied {@code DataSource}.
     *
     * @param poolSize 1 to 1000
     * @return this builder
     */
    public Builder poolSize(int poolSize) {
      this.poolSize = poolSize;
      return this;
    }

    /**
     * How long to wait for a connection. Default 10 s.
     *
     * @param connectionTimeout at least 250 ms
     * @return this builder
     */
    public Builder connectionTimeout(Duration connectionTimeout) {
      this.connectionTimeout =
          Objects.requireNonNull(connectionTimeout, "connectionTimeout must not be null");
      return this;
    }

    /**
     * The dialect. Default: detected from the URL, or from the database for a {@code DataSource}.
     *
     * @param dialect the dialect
     * @return this builder
     */
    public Builder dialect(JdbcDialect dialect) {
      this.dialect = Objects.requireNonNull(dialect, "dialect must not be null");
      return this;
    }

    /**
     * A property for the JDBC driver, such as {@code sslmode} for PostgreSQL.
     *
     * @param name the driver's property name
     * @param value its value
     * @return this builder
     */
    public Builder driverProperty(String name, String value) {
      driverProperties.put(
          Objects.requireNonNull(name, "driver property name must not be null"),
          Objects.requireNonNull(value, "driver property value must not be null"));
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the configuration
     * @throws StoreConfigurationException naming the invalid option and value
     */
    public JdbcStoreConfig build() {
      if (url != null && (!url.regionMatches(true, 0, "jdbc:", 0, 5) || url.length() <= 5)) {
        throw new StoreConfigurationException(
            "url must start with jdbc:, got '" + StoreUris.mask(url) + "'");
      }
      try {
        Identifiers.table("table", tableName);
      } catch (IllegalArgumentException e) {
        throw new StoreConfigurationException(
            e.getMessage() + ". The name is quoted in SQL, so it is case-sensitive.", e);
      }
      if (poolSize < 1 || poolSize > 1000) {
        throw new StoreConfigurationException(
            "pool-size must be between 1 and 1000, got " + poolSize);
      }
      if (connectionTimeout.toMillis() < 250) {
        throw new StoreConfigurationException(
            "connection-timeout-ms must be >= 250 (HikariCP's minimum), got "
                + connectionTimeout.toMillis());
      }
      return new JdbcStoreConfig(this);
    }
  }
}
