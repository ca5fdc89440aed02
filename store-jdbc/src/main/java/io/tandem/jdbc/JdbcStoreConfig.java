package io.tandem.jdbc;

import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import io.tandem.spi.support.OptionValues;
import io.tandem.spi.support.StoreOption;
import io.tandem.spi.support.StoreOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Immutable configuration of a {@link JdbcOffsetStore}, built with {@link #builder()} or read from
 * a store URI and properties with {@link #fromUri(String, Map)}.
 *
 * <p>Options: the README's table, generated from the declarations below. In a URL each is a
 * parameter {@code tandem.<option>} ({@code ?tandem.poolSize=8}, or {@code ;tandem.poolSize=8} in
 * an H2 URL); in the properties it is {@code <option>}, beside {@code driver.<name>} entries for
 * the JDBC driver. They are read by {@link StoreOptions}: unknown names are refused, an option in
 * both places is refused, durations follow {@link io.tandem.spi.support.Durations}.
 */
public final class JdbcStoreConfig {

  /** Default offsets table name. */
  public static final String DEFAULT_TABLE = "tandem_offsets";

  /** Default maximum pool size. */
  public static final int DEFAULT_POOL_SIZE = 4;

  /** Default time to wait for a connection. */
  public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(10);

  static final StoreOption<String> TABLE =
      StoreOption.text(
          "table",
          DEFAULT_TABLE,
          "offsets table; `[A-Za-z_][A-Za-z0-9_]{0,62}`, optionally `schema.table`; quoted in SQL,"
              + " so case-sensitive");
  static final StoreOption<Boolean> CREATE_SCHEMA =
      StoreOption.bool(
              "createSchema",
              true,
              "create the table on first use (idempotent); `prepare()` (on any `OffsetStore`) does"
                  + " it on demand; DDL per dialect in `io/tandem/jdbc/ddl/*.sql`")
          .formerly("create-schema");
  static final StoreOption<Integer> POOL_SIZE =
      StoreOption.integer(
              "poolSize",
              DEFAULT_POOL_SIZE,
              "HikariCP maximum pool size (not used with your `DataSource`)")
          .formerly("pool-size");
  static final StoreOption<Duration> CONNECTION_TIMEOUT =
      StoreOption.duration(
              "connectionTimeout",
              DEFAULT_CONNECTION_TIMEOUT,
              "wait for a pooled connection; also the driver's connect timeout; at least 250ms")
          .formerly("connection-timeout-ms");
  static final StoreOption<String> USER =
      StoreOption.text("user", null, "database user (or in the URL, as the driver accepts it)");
  static final StoreOption<String> PASSWORD =
      StoreOption.secret("password", "database password (or in the URL)");
  static final StoreOption<JdbcDialect> DIALECT =
      StoreOption.of(
              "dialect",
              "`postgresql`, `h2`, `mariadb` or `mysql`",
              JdbcDialect::named,
              null,
              "for URLs that do not name the database, such as `jdbc:p6spy:…`")
          .defaultText("from the URL");

  /** Every option, in the order of the README's table. */
  static final StoreOptions OPTIONS =
      StoreOptions.of(
              "JDBC",
              List.of(TABLE, CREATE_SCHEMA, POOL_SIZE, CONNECTION_TIMEOUT, USER, PASSWORD, DIALECT))
          .withNote(
              "In the URL, options are written tandem.<option>=...; properties named"
                  + " driver.<name> go to the JDBC driver.");

  static final String DRIVER_PREFIX = "driver.";
  static final String URI_PREFIX = "tandem.";

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
    List<Map.Entry<String, String>> fromUri = new ArrayList<>();
    String driverUrl = extractOptions(uri, fromUri);
    Builder b = builder().url(driverUrl);
    Map<String, String> options = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : properties.entrySet()) {
      String key = Objects.requireNonNull(e.getKey(), "property key must not be null");
      String value =
          Objects.requireNonNull(e.getValue(), () -> "property '" + key + "' must not be null");
      if (key.startsWith(DRIVER_PREFIX) && key.length() > DRIVER_PREFIX.length()) {
        b.driverProperty(key.substring(DRIVER_PREFIX.length()), value);
      } else {
        options.put(key, value);
      }
    }
    OptionValues values = OPTIONS.read(uri, fromUri, options);
    values.ifPresent(TABLE, b::tableName);
    values.ifPresent(CREATE_SCHEMA, b::createSchema);
    values.ifPresent(POOL_SIZE, b::poolSize);
    values.ifPresent(CONNECTION_TIMEOUT, b::connectionTimeout);
    values.ifPresent(USER, b::user);
    values.ifPresent(PASSWORD, b::password);
    values.ifPresent(DIALECT, b::dialect);
    return b.build();
  }

  /**
   * Moves {@code tandem.*} parameters of a JDBC URL into {@code options} and returns the URL
   * without them. Both parameter syntaxes in use are handled: {@code ?a=1&b=2} (PostgreSQL,
   * MariaDB, MySQL) and {@code ;A=1;B=2} (H2).
   */
  static String extractOptions(String uri, List<Map.Entry<String, String>> options) {
    int query = uri.indexOf('?');
    if (query >= 0) {
      List<String> kept = new ArrayList<>();
      for (String param : uri.substring(query + 1).split("&", -1)) {
        if (param.startsWith(URI_PREFIX)) {
          putOption(options, param, uri, true);
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
      String url, List<Map.Entry<String, String>> options, String uri) {
    if (url.indexOf(';') < 0) {
      return url;
    }
    String[] parts = url.split(";", -1);
    StringBuilder kept = new StringBuilder(parts[0]);
    for (int i = 1; i < parts.length; i++) {
      if (parts[i].regionMatches(true, 0, URI_PREFIX, 0, URI_PREFIX.length())) {
        putOption(options, parts[i], uri, false);
      } else {
        kept.append(';').append(parts[i]);
      }
    }
    return kept.toString();
  }

  private static void putOption(
      List<Map.Entry<String, String>> options, String param, String uri, boolean encoded) {
    int eq = param.indexOf('=');
    if (eq < 0) {
      throw new StoreConfigurationException(
          "Malformed option in "
              + OPTIONS.mask(uri)
              + ": expected tandem.<option>=<value>, got a parameter without '='");
    }
    String key = param.substring(URI_PREFIX.length(), eq);
    String value = param.substring(eq + 1);
    if (encoded) {
      // Query parameters are percent-encoded (RFC 3986: a + stays a +); H2's ;name=value
      // settings are not encoded at all.
      try {
        key = StoreUris.decode(key);
        value = StoreUris.decode(value);
      } catch (IllegalArgumentException e) {
        throw new StoreConfigurationException(
            "Malformed JDBC URL " + OPTIONS.mask(uri) + ": " + e.getMessage(), e);
      }
    }
    options.add(Map.entry(key, value));
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
            "poolSize must be between 1 and 1000, got " + poolSize);
      }
      if (connectionTimeout.toMillis() < 250) {
        throw new StoreConfigurationException(
            "connectionTimeout must be >= 250ms (HikariCP's minimum), got "
                + connectionTimeout.toMillis()
                + "ms");
      }
      return new JdbcStoreConfig(this);
    }
  }
}
