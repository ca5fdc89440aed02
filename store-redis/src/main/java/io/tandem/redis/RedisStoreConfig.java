package io.tandem.redis;

import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import io.tandem.spi.support.OptionValues;
import io.tandem.spi.support.StoreOption;
import io.tandem.spi.support.StoreOptions;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Immutable configuration of a {@link RedisOffsetStore}: built with {@link #builder()} or read from
 * a {@code redis://} / {@code rediss://} URI with {@link #fromUri(String, Map)}.
 *
 * <p>URI form: {@code redis[s]://[user[:password]@]host[:port][/database][?option=value&...]}. The
 * options ({@link #OPTIONS}, the README's table) are read by {@link StoreOptions}: in the query or
 * in the properties map, never both; durations as {@link io.tandem.spi.support.Durations} reads
 * them; anything else is a {@link StoreConfigurationException}.
 */
public final class RedisStoreConfig {

  static final StoreOption<Duration> CONNECT_TIMEOUT =
      StoreOption.duration("connectTimeout", Duration.ofSeconds(2), "connection timeout");
  static final StoreOption<Duration> TIMEOUT =
      StoreOption.duration(
          "timeout",
          Duration.ofSeconds(5),
          "reply timeout; a commit whose `EXEC` reply is lost reads the positions back: applied"
              + " → returns, else `StoreUnavailableException`");
  static final StoreOption<String> CLIENT_NAME =
      StoreOption.text("clientName", "tandem", "`CLIENT SETNAME`");
  static final StoreOption<String> PREFIX =
      StoreOption.text(
          "prefix",
          "tandem",
          "key prefix: `<prefix>:{<group>}:offset:<topic>:<partition>`,"
              + " `<prefix>:{<group>}:partitions`");
  static final StoreOption<Integer> POOL_SIZE =
      StoreOption.integer("poolSize", 8, "most connections held");
  static final StoreOption<Integer> WAIT_REPLICAS =
      StoreOption.integer(
          "waitReplicas",
          0,
          "after `EXEC`, `WAIT` for this many replicas; fewer within `waitTimeout` →"
              + " `StoreUnavailableException` (the commit is applied on the primary; a failover can"
              + " still lose it)");
  static final StoreOption<Duration> WAIT_TIMEOUT =
      StoreOption.duration("waitTimeout", Duration.ofSeconds(1), "how long `WAIT` waits");
  static final StoreOption<Integer> MAX_RANGES_PER_COMMIT =
      StoreOption.integer(
              "maxRangesPerCommit",
              10_000,
              "most ranges per commit (`BatchTooLargeException` beyond)")
          .formerly("maxRanges");
  static final StoreOption<Integer> WATCH_RETRIES =
      StoreOption.integer(
          "watchRetries",
          16,
          "retries when a commit's position keys are rewritten with unchanged values between"
              + " `WATCH` and `EXEC` (e.g. an `overwrite` to the same position)");
  static final StoreOption<Boolean> VERIFY_HOSTNAME =
      StoreOption.bool(
          "verifyHostname", true, "TLS: check the certificate's host name (else the chain only)");
  static final StoreOption<String> TRUST_STORE =
      StoreOption.text(
              "trustStore", null, "TLS: PKCS12/JKS file of trusted certificates (`rediss://` only)")
          .defaultText("JVM default");
  static final StoreOption<String> TRUST_STORE_PASSWORD =
      StoreOption.secret("trustStorePassword", "the trust store's password");
  static final StoreOption<String> USER =
      StoreOption.text("user", null, "ACL user (or in the URI: `redis://user:password@host`)")
          .defaultText("`default`")
          .propertiesOnly();
  static final StoreOption<String> PASSWORD =
      StoreOption.secret("password", "password (or in the URI's user info)").propertiesOnly();
  static final StoreOption<Integer> DATABASE =
      StoreOption.integer("database", 0, "database number (or the URI's path: `/2`)")
          .propertiesOnly();

  /** Every option, in the order of the README's table. */
  static final StoreOptions OPTIONS =
      StoreOptions.of(
          "Redis",
          List.of(
              TIMEOUT,
              CONNECT_TIMEOUT,
              POOL_SIZE,
              PREFIX,
              WAIT_REPLICAS,
              WAIT_TIMEOUT,
              MAX_RANGES_PER_COMMIT,
              WATCH_RETRIES,
              CLIENT_NAME,
              VERIFY_HOSTNAME,
              TRUST_STORE,
              TRUST_STORE_PASSWORD,
              USER,
              PASSWORD,
              DATABASE));

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
    String masked = OPTIONS.mask(uri);
    String scheme = StoreUris.scheme(uri);
    if (!scheme.equals("redis") && !scheme.equals("rediss")) {
      throw new StoreConfigurationException(
          "Not a Redis URI: '" + masked + "'. Expected redis://host:port or rediss://host:port");
    }
    URI parsed;
    try {
      parsed = new URI(uri);
    } catch (URISyntaxException e) {
      // The reason, not the exception's message: that one repeats the URI with its password.
      throw new StoreConfigurationException(
          "Malformed Redis URI '"
              + masked
              + "': "
              + e.getReason()
              + ". Expected redis[s]://[user[:password]@]host[:port][/database][?option=value]"
              + " (percent-encode special characters in the password)");
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
    OptionValues options = OPTIONS.read(uri, properties);
    Builder b = builder().host(host).ssl(scheme.equals("rediss"));
    if (parsed.getPort() >= 0) {
      b.port(parsed.getPort());
    }
    String userInfo = parsed.getRawUserInfo();
    if (userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      String u = decode(colon < 0 ? userInfo : userInfo.substring(0, colon), masked);
      // redis://:password@host is the usual form for the default user.
      if (!u.isEmpty()) {
        b.user(u);
      }
      if (colon >= 0) {
        b.password(decode(userInfo.substring(colon + 1), masked));
      }
    }
    String path = parsed.getRawPath();
    boolean pathDatabase = path != null && !path.isEmpty() && !path.equals("/");
    if (pathDatabase) {
      try {
        b.database(Integer.parseInt(path.substring(1)));
      } catch (NumberFormatException e) {
        throw new StoreConfigurationException(
            "The path of Redis URI '" + masked + "' must be a database number, like /2", e);
      }
    }
    if (options.has(USER) && b.user != null
        || options.has(PASSWORD) && b.password != null
        || options.has(DATABASE) && pathDatabase) {
      throw new StoreConfigurationException(
          "Credentials or database are given both in the URI '"
              + masked
              + "' and as options: give each in one place");
    }
    options.ifPresent(USER, b::user);
    options.ifPresent(PASSWORD, b::password);
    options.ifPresent(DATABASE, b::database);
    options.ifPresent(CONNECT_TIMEOUT, b::connectTimeout);
    options.ifPresent(TIMEOUT, b::timeout);
    options.ifPresent(CLIENT_NAME, b::clientName);
    options.ifPresent(PREFIX, b::keyPrefix);
    options.ifPresent(POOL_SIZE, b::poolSize);
    options.ifPresent(WAIT_REPLICAS, b::waitReplicas);
    options.ifPresent(WAIT_TIMEOUT, b::waitTimeout);
    options.ifPresent(MAX_RANGES_PER_COMMIT, b::maxRangesPerCommit);
    options.ifPresent(WATCH_RETRIES, b::watchRetries);
    options.ifPresent(VERIFY_HOSTNAME, b::verifyHostname);
    options.ifPresent(TRUST_STORE, b::trustStore);
    options.ifPresent(TRUST_STORE_PASSWORD, b::trustStorePassword);
    try {
      return b.build();
    } catch (StoreConfigurationException e) {
      throw new StoreConfigurationException(e.getMessage() + " (in '" + masked + "')");
    }
  }

  private static String decode(String s, String masked) {
    try {
      return StoreUris.decode(s);
    } catch (IllegalArgumentException e) {
      throw new StoreConfigurationException(
          "Malformed Redis URI '" + masked + "': " + e.getMessage(), e);
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
        throw bad("maxRangesPerCommit must be >= 1, got " + maxRangesPerCommit);
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
