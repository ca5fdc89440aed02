package io.tandem.redis;

import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Immutable configuration of a {@link RedisOffsetStore}: built with {@link #builder()} or read from
 * a {@code redis://} / {@code rediss://} URI with {@link #fromUri(String, Map)}.
 *
 * <p>URI form: {@code redis[s]://[user[:password]@]host[:port][/database][?option=value&...]}.
 * Options (in the query or in the properties map, not both): {@code connectTimeout}, {@code
 * timeout}, {@code clientName}, {@code prefix}, {@code poolSize}, {@code waitReplicas}, {@code
 * waitTimeout}, {@code maxRanges}, {@code watchRetries}, {@code verifyHostname}, {@code
 * trustStore}, {@code trustStorePassword}; in the properties map also {@code user}, {@code
 * password} and {@code database}. Durations are milliseconds ({@code 2000}), with a unit ({@code
 * 500ms}, {@code 2s}, {@code 1m}) or ISO-8601 ({@code PT2S}). Anything else is a {@link
 * StoreConfigurationException}.
 */
public final class RedisStoreConfig {

  /** The options a URI query or the properties map may carry. */
  static final Set<String> OPTIONS =
      Set.of(
          "connectTimeout",
          "timeout",
          "clientName",
          "prefix",
          "poolSize",
          "waitReplicas",
          "waitTimeout",
          "maxRanges",
          "watchRetries",
          "verifyHostname",
          "trustStore",
          "trustStorePassword");

  private static final Set<String> PROPERTY_ONLY = Set.of("user", "password", "database");

  private final String host;
  private final int port;
  private final boolean ssl;
  private final boolean verifyHostname;
  private final String trustStore;
  private final String trustStorePassword;
  private final String user;
  private final String password;
  private final int database;
  private final Duration connectTimeout;
  private final Duration timeout;
  private final String clientName;
  private final String keyPrefix;
  private final int poolSize;
  private final int waitReplicas;
  private final Duration waitTimeout;
  private final int maxRangesPerCommit;
  private final int watchRetries;

  private RedisStoreConfig(Builder b) {
    this.host = b.host;
    this.port = b.port;
    this.ssl = b.ssl;
    this.verifyHostname = b.verifyHostname;
    this.trustStore = b.trustStore;
    this.trustStorePassword = b.trustStorePassword;
    this.user = b.user;
    this.password = b.password;
    this.database = b.database;
    this.connectTimeout = b.connectTimeout;
    this.timeout = b.timeout;
    this.clientName = b.clientName;
    this.keyPrefix = b.keyPrefix;
    this.poolSize = b.poolSize;
    this.waitReplicas = b.waitReplicas;
    this.waitTimeout = b.waitTimeout;
    this.maxRangesPerCommit = b.maxRangesPerCommit;
    this.watchRetries = b.watchRetries;
  }

  /**
   * A builder with every default.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding this configuration's values, to derive a changed one.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.host = host;
    b.port = port;
    b.ssl = ssl;
    b.verifyHostname = verifyHostname;
    b.trustStore = trustStore;
    b.trustStorePassword = trustStorePassword;
    b.user = user;
    b.password = password;
    b.database = database;
    b.connectTimeout = connectTimeout;
    b.timeout = timeout;
    b.clientName = clientName;
    b.keyPrefix = keyPrefix;
    b.poolSize = poolSize;
    b.waitReplicas = waitReplicas;
    b.waitTimeout = waitTimeout;
    b.maxRangesPerCommit = maxRangesPerCommit;
    b.watchRetries = watchRetries;
    return b;
  }

  /**
   * Reads a configuration from a URI and options.
   *
   * @param uri {@code redis://...} or {@code rediss://...}
   * @param properties options beside the URI; may be empty
   * @return the configuration
   * @throws StoreConfigurationException if the URI or an option is malformed or unknown
   */
  public static RedisStoreConfig fromUri(String uri, Map<String, String> properties) {
    Objects.requireNonNull(uri, "uri must not be null");
    Objects.requireNonNull(properties, "properties must not be null");
    String masked = StoreUris.mask(uri);
    String scheme = StoreUris.scheme(uri);
    if (!scheme.equals("redis") && !scheme.equals("rediss")) {
      throw new StoreConfigurationException(
          "Not a Redis URI: '" + masked + "'. Expected redis://host:port or rediss://host:port");
    }
    URI parsed;
    try {
      parsed = new URI(uri);
    } catch (URISyntaxException e) {
      throw new StoreConfigurationException(
          "Malformed Redis URI '"
              + masked
              + "': "
              + e.getReason()
              + ". Expected redis[s]://[user[:password]@]host[:port][/database][?option=value]"
              + " (percent-encode special characters in the password)",
          e);
    }
    if (parsed.getHost() == null) {
      throw new StoreConfigurationException(
          "Malformed Redis URI '"
              + masked
              + "': no host. Expected redis[s]://[user[:password]@]host[:port][/database]");
    }
    String host = parsed.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1); // IPv6 literal
    }
    Builder b = builder().host(host).ssl(scheme.equals("rediss"));
    if (parsed.getPort() >= 0) {
      b.port(parsed.getPort());
    }
    String userInfo = parsed.getRawUserInfo();
    if (userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      String u = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      // redis://:password@host is the usual form for the default user.
      if (!u.isEmpty()) {
        b.user(u);
      }
      if (colon >= 0) {
        b.password(decode(userInfo.substring(colon + 1)));
      }
    }
    String path = parsed.getRawPath();
    if (path != null && !path.isEmpty() && !path.equals("/")) {
      b.database(parseInt("database", path.substring(1), masked));
    }
    Map<String, String> options = new LinkedHashMap<>(StoreUris.query(uri));
    for (String key : options.keySet()) {
      if (!OPTIONS.contains(key)) {
        throw unknown(key, masked, OPTIONS);
      }
    }
    for (Map.Entry<String, String> e : properties.entrySet()) {
      String key = e.getKey();
      if (!OPTIONS.contains(key) && !PROPERTY_ONLY.contains(key)) {
        throw unknown(key, masked, union());
      }
      if (options.containsKey(key)) {
        throw new StoreConfigurationException(
            "Option '"
                + key
                + "' is given both in the URI '"
                + masked
                + "' and in the properties: give it once");
      }
      options.put(key, e.getValue());
    }
    if (options.containsKey("user") && b.user != null
        || options.containsKey("password") && b.password != null
        || options.containsKey("database") && path != null && path.length() > 1) {
      throw new StoreConfigurationException(
          "Credentials or database are given both in the URI '"
              + masked
              + "' and in the properties: give them once");
    }
    for (Map.Entry<String, String> e : options.entrySet()) {
      String v = e.getValue();
      switch (e.getKey()) {
        case "user" -> b.user(v);
        case "password" -> b.password(v);
        case "database" -> b.database(parseInt("database", v, masked));
        case "connectTimeout" -> b.connectTimeout(parseDuration("connectTimeout", v, masked));
        case "timeout" -> b.timeout(parseDuration("timeout", v, masked));
        case "clientName" -> b.clientName(v);
        case "prefix" -> b.keyPrefix(v);
        case "poolSize" -> b.poolSize(parseInt("poolSize", v, masked));
        case "waitReplicas" -> b.waitReplicas(parseInt("waitReplicas", v, masked));
        case "waitTimeout" -> b.waitTimeout(parseDuration("waitTimeout", v, masked));
        case "maxRanges" -> b.maxRangesPerCommit(parseInt("maxRanges", v, masked));
        case "watchRetries" -> b.watchRetries(parseInt("watchRetries", v, masked));
        case "verifyHostname" -> b.verifyHostname(parseBoolean("verifyHostname", v, masked));
        case "trustStore" -> b.trustStore(v);
        case "trustStorePassword" -> b.trustStorePassword(v);
        default -> throw new AssertionError(e.getKey());
      }
    }
    try {
      return b.build();
    } catch (StoreConfigurationException e) {
      throw new StoreConfigurationException(e.getMessage() + " (in '" + masked + "')");
    }
  }

  private static Set<String> union() {
    java.util.TreeSet<String> all = new java.util.TreeSet<>(OPTIONS);
    all.addAll(PROPERTY_ONLY);
    return all;
  }

  private static StoreConfigurationException unknown(String key, String masked, Set<String> known) {
    return new StoreConfigurationException(
        "Unknown option '"
            + key
            + "' for the Redis store ('"
            + masked
            + "'). Known options: "
            + new java.util.TreeSet<>(known));
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static int parseInt(String option, String value, String masked) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new StoreConfigurationException(
          option + " must be an integer, got '" + value + "' in '" + masked + "'", e);
    }
  }

  private static boolean parseBoolean(String option, String value, String masked) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("true") || v.equals("false")) {
      return Boolean.parseBoolean(v);
    }
    throw new StoreConfigurationException(
        option + " must be true or false, got '" + value + "' in '" + masked + "'");
  }

  static Duration parseDuration(String option, String value, String masked) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    try {
      if (v.startsWith("pt")) {
        return Duration.parse(v.toUpperCase(Locale.ROOT));
      }
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2).trim()));
      }
      if (v.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1).trim()));
      }
      if (v.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1).trim()));
      }
      return Duration.ofMillis(Long.parseLong(v));
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new StoreConfigurationException(
          option
              + " must be a duration (2000, 500ms, 2s, 1m or PT2S), got '"
              + value
              + "' in '"
              + masked
              + "'",
          e);
    }
  }

  /**
   * @return the server's host; default {@code localhost}
   */
  public String host() {
    return host;
  }

  /**
   * @return the server's port; default 6379
   */
  public int port() {
    return port;
  }

  /**
   * @return whether to connect with TLS ({@code rediss://}); default false
   */
  public boolean ssl() {
    return ssl;
  }

  /**
   * @return whether TLS checks the server certificate's host name; default true
   */
  public boolean verifyHostname() {
    return verifyHostname;
  }

  /**
   * @return the trust store (PKCS12 or JKS file) TLS checks the server against, or null for the
   *     JVM's default trust store
   */
  public String trustStore() {
    return trustStore;
  }

  /**
   * @return the trust store's password, or null for none
   */
  public String trustStorePassword() {
    return trustStorePassword;
  }

  /**
   * @return the ACL user, or null for the default user
   */
  public String user() {
    return user;
  }

  /**
   * @return the password, or null for none
   */
  public String password() {
    return password;
  }

  /**
   * @return the database number; default 0
   */
  public int database() {
    return database;
  }

  /**
   * @return how long to wait for a connection; default 2 s
   */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /**
   * @return how long to wait for a reply; default 5 s
   */
  public Duration timeout() {
    return timeout;
  }

  /**
   * @return the name shown by {@code CLIENT LIST}; default {@code tandem}
   */
  public String clientName() {
    return clientName;
  }

  /**
   * @return the key prefix; default {@code tandem}
   */
  public String keyPrefix() {
    return keyPrefix;
  }

  /**
   * @return the most connections the store holds; default 8
   */
  public int poolSize() {
    return poolSize;
  }

  /**
   * @return replicas a commit waits for ({@code WAIT}); default 0 (none)
   */
  public int waitReplicas() {
    return waitReplicas;
  }

  /**
   * @return how long a commit waits for its replicas; default 1 s
   */
  public Duration waitTimeout() {
    return waitTimeout;
  }

  /**
   * @return the most ranges one commit accepts; default 10000
   */
  public int maxRangesPerCommit() {
    return maxRangesPerCommit;
  }

  /**
   * @return how often a commit retries when one of its position keys was rewritten with the value
   *     it already had between WATCH and EXEC (a nil EXEC that is no conflict); default 16
   */
  public int watchRetries() {
    return watchRetries;
  }

  /**
   * The server's address for messages: {@code redis://host:port/db}, no credentials.
   *
   * @return the address
   */
  public String address() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return (ssl ? "rediss://" : "redis://") + h + ":" + port + "/" + database;
  }

  @Override
  public String toString() {
    return "RedisStoreConfig["
        + address()
        + (user != null ? ", user=" + user : "")
        + (password != null ? ", password=****" : "")
        + ", prefix="
        + keyPrefix
        + ", timeout="
        + timeout
        + ", waitReplicas="
        + waitReplicas
        + "]";
  }

  /** Builds a {@link RedisStoreConfig}; {@link #build()} checks every value. */
  public static final class Builder {
    private String host = "localhost";
    private int port = 6379;
    private boolean ssl;
    private boolean verifyHostname = true;
    private String trustStore;
    private String trustStorePassword;
    private String user;
    private String password;
    private int database;
    private Duration connectTimeout = Duration.ofSeconds(2);
    private Duration timeout = Duration.ofSeconds(5);
    private String clientName = "tandem";
    private String keyPrefix = "tandem";
    private int poolSize = 8;
    private int waitReplicas;
    private Duration waitTimeout = Duration.ofSeconds(1);
    private int maxRangesPerCommit = 10_000;
    private int watchRetries = 16;

    private Builder() {}

    /**
     * @param host the server's host
     * @return this
     */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /**
     * @param port the server's port, 1..65535
     * @return this
     */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /**
     * @param ssl whether to use TLS
     * @return this
     */
    public Builder ssl(boolean ssl) {
      this.ssl = ssl;
      return this;
    }

    /**
     * @param verifyHostname whether TLS checks the certificate's host name
     * @return this
     */
    public Builder verifyHostname(boolean verifyHostname) {
      this.verifyHostname = verifyHostname;
      return this;
    }

    /**
     * @param trustStore a PKCS12 or JKS file of trusted certificates, or null for the JVM's
     * @return this
     */
    public Builder trustStore(String trustStore) {
      this.trustStore = trustStore;
      return this;
    }

    /**
     * @param trustStorePassword the trust store's password, or null for none
     * @return this
     */
    public Builder trustStorePassword(String trustStorePassword) {
      this.trustStorePassword = trustStorePassword;
      return this;
    }

    /**
     * @param user the ACL user, or null for the default user
     * @return this
     */
    public Builder user(String user) {
      this.user = user;
      return this;
    }

    /**
     * @param password the password, or null for none
     * @return this
     */
    public Builder password(String password) {
      this.password = password;
      return this;
    }

    /**
     * @param database the database number, {@code >= 0}
     * @return this
     */
    public Builder database(int database) {
      this.database = database;
      return this;
    }

    /**
     * @param connectTimeout how long to wait for a connection, positive
     * @return this
     */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
      return this;
    }

    /**
     * @param timeout how long to wait for a reply, positive
     * @return this
     */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * @param clientName the name shown by {@code CLIENT LIST}, no spaces
     * @return this
     */
    public Builder clientName(String clientName) {
      this.clientName = Objects.requireNonNull(clientName, "clientName");
      return this;
    }

    /**
     * @param keyPrefix the prefix of the store's keys, not empty
     * @return this
     */
    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
      return this;
    }

    /**
     * @param poolSize the most connections, {@code >= 1}
     * @return this
     */
    public Builder poolSize(int poolSize) {
      this.poolSize = poolSize;
      return this;
    }

    /**
     * @param waitReplicas replicas each commit waits for with {@code WAIT}, {@code >= 0}
     * @return this
     */
    public Builder waitReplicas(int waitReplicas) {
      this.waitReplicas = waitReplicas;
      return this;
    }

    /**
     * @param waitTimeout how long {@code WAIT} waits, positive
     * @return this
     */
    public Builder waitTimeout(Duration waitTimeout) {
      this.waitTimeout = Objects.requireNonNull(waitTimeout, "waitTimeout");
      return this;
    }

    /**
     * @param maxRangesPerCommit the most ranges one commit accepts, {@code >= 1}
     * @return this
     */
    public Builder maxRangesPerCommit(int maxRangesPerCommit) {
      this.maxRangesPerCommit = maxRangesPerCommit;
      return this;
    }

    /**
     * @param watchRetries retries when a commit's position keys were rewritten with unchanged
     *     values between WATCH and EXEC, {@code >= 0}
     * @return this
     */
    public Builder watchRetries(int watchRetries) {
      this.watchRetries = watchRetries;
      return this;
    }

    /**
     * Checks every value and builds the configuration.
     *
     * @return the configuration
     * @throws StoreConfigurationException naming the first bad value
     */
    public RedisStoreConfig build() {
      if (host.isBlank()) {
        throw bad("host must not be blank");
      }
      if (port < 1 || port > 65535) {
        throw bad("port must be 1..65535, got " + port);
      }
      if (database < 0) {
        throw bad("database must be >= 0, got " + database);
      }
      positive("connectTimeout", connectTimeout);
      positive("timeout", timeout);
      positive("waitTimeout", waitTimeout);
      if (clientName.isEmpty() || clientName.chars().anyMatch(c -> c <= ' ')) {
        throw bad("clientName must be non-empty without spaces, got '" + clientName + "'");
      }
      if (keyPrefix.isEmpty()) {
        throw bad("prefix must not be empty");
      }
      if (poolSize < 1) {
        throw bad("poolSize must be >= 1, got " + poolSize);
      }
      if (waitReplicas < 0) {
        throw bad("waitReplicas must be >= 0, got " + waitReplicas);
      }
      if (maxRangesPerCommit < 1) {
        throw bad("maxRanges must be >= 1, got " + maxRangesPerCommit);
      }
      if (watchRetries < 0) {
        throw bad("watchRetries must be >= 0, got " + watchRetries);
      }
      if (trustStore != null && !ssl) {
        throw bad("trustStore is for TLS: use rediss:// (or ssl(true))");
      }
      if (trustStore != null
          && !java.nio.file.Files.isReadable(java.nio.file.Path.of(trustStore))) {
        throw bad("trustStore '" + trustStore + "' is not a readable file");
      }
      if (password == null && user != null) {
        throw bad("user '" + user + "' is given without a password");
      }
      return new RedisStoreConfig(this);
    }

    private static void positive(String name, Duration d) {
      if (d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE) {
        throw bad(name + " must be positive and below 24 days, got " + d);
      }
    }

    private static StoreConfigurationException bad(String message) {
      return new StoreConfigurationException(message);
    }
  }
}
