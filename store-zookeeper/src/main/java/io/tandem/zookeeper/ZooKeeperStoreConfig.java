package io.tandem.zookeeper;

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
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.common.PathUtils;
import org.apache.zookeeper.data.ACL;

/**
 * Configuration of a {@link ZooKeeperOffsetStore}: immutable, built with {@link #builder(String)}
 * or read from a {@code zookeeper://} URI with {@link #fromUri(String, Map)}.
 *
 * <p>URI form: {@code zookeeper://[user:password@]host:port[,host:port...][/root]?option=value&...}
 * The path is the node under which Tandem keeps positions (default {@value #DEFAULT_ROOT}); it is
 * created if absent. {@code user:password} turns on ZooKeeper digest authentication. Options, in
 * the query or in the properties map (never both for one option), read by {@link StoreOptions}:
 * {@code sessionTimeout}, {@code connectTimeout} (durations as {@link
 * io.tandem.spi.support.Durations} reads them), {@code juteMaxBuffer}, {@code maxRangesPerCommit},
 * {@code commitAttempts}, {@code acl} ({@code open} or {@code creator}), and, in the properties
 * only, {@code digest} ({@code user:password}, else the URI's user info). Any other option is an
 * error.
 */
public final class ZooKeeperStoreConfig {

  /** Default root node. */
  public static final String DEFAULT_ROOT = "/tandem";

  /** Default session timeout. */
  public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(30);

  /** Default time to wait for a connection when opening, and for a reconnection when resolving. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(15);

  /** ZooKeeper's own default {@code jute.maxbuffer}: 1 MiB − 1. */
  public static final int ZOOKEEPER_DEFAULT_JUTE_MAX_BUFFER = 0xfffff;

  /**
   * Bytes kept free below {@code jute.maxbuffer}: in an ensemble the leader wraps a request in a
   * proposal (a few dozen bytes more) that followers read under the same limit plus ZooKeeper's
   * {@code jute.maxbuffer.extrasize} (1 KiB by default).
   */
  public static final int HEADROOM_BYTES = 1024;

  /** Bytes budgeted per range when deriving {@link #maxRangesPerCommit()}. */
  public static final int BYTES_PER_RANGE = 256;

  /** Default number of attempts of one commit when a race that a fresh read resolves aborts it. */
  public static final int DEFAULT_COMMIT_ATTEMPTS = 3;

  static final StoreOption<Duration> SESSION_TIMEOUT =
      StoreOption.duration(
          "sessionTimeout",
          DEFAULT_SESSION_TIMEOUT,
          "asked of the server (which bounds it by its min/max)");
  static final StoreOption<Duration> CONNECT_TIMEOUT =
      StoreOption.duration(
          "connectTimeout",
          DEFAULT_CONNECT_TIMEOUT,
          "wait for the first connection at open, and for a reconnection when reading back a lost"
              + " reply");
  static final StoreOption<Integer> JUTE_MAX_BUFFER =
      StoreOption.integer(
              "juteMaxBuffer",
              null,
              "the **servers'** `jute.maxbuffer`. ZooKeeper does not tell clients this value, so"
                  + " set it when your servers use another one; requests are limited to it minus"
                  + " 1024 bytes (room for the proposal wrapper in an ensemble)")
          .defaultText("system property `jute.maxbuffer`, else 1048575");
  static final StoreOption<Integer> MAX_RANGES_PER_COMMIT =
      StoreOption.integer(
              "maxRangesPerCommit",
              null,
              "declared in `capabilities()`; the byte check above is exact and applies anyway"
                  + " (very long or escaped names fit fewer)")
          .defaultText("`(juteMaxBuffer − 1024) / 256` = 4092");
  static final StoreOption<Integer> COMMIT_ATTEMPTS =
      StoreOption.integer(
          "commitAttempts",
          DEFAULT_COMMIT_ATTEMPTS,
          "runs of one commit when a race a fresh read resolves aborted it (the writer runs"
              + " again)");
  static final StoreOption<List<ACL>> ACL_OPTION =
      StoreOption.of(
              "acl",
              "`open` or `creator`",
              ZooKeeperStoreConfig::acl,
              null,
              "`open` (`OPEN_ACL_UNSAFE`) or `creator` (`CREATOR_ALL_ACL`, needs `digest`) for"
                  + " nodes the store and `ZooKeeperOps.create` make")
          .defaultText("`open`");
  static final StoreOption<String> DIGEST =
      StoreOption.secret(
              "digest",
              "`user:password` for ZooKeeper digest authentication (or the URI's user info)")
          .propertiesOnly();

  /** Every option, in the order of the README's table. */
  static final StoreOptions OPTIONS =
      StoreOptions.of(
          "ZooKeeper",
          List.of(
              SESSION_TIMEOUT,
              CONNECT_TIMEOUT,
              JUTE_MAX_BUFFER,
              MAX_RANGES_PER_COMMIT,
              COMMIT_ATTEMPTS,
              ACL_OPTION,
              DIGEST));

  private static final Pattern HOST_PORT =
      Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9._-]+)(?::(\\d{1,5}))?");

  private final String connectString;
  private final String root;
  private final Duration sessionTimeout;
  private final Duration connectTimeout;
  private final int juteMaxBuffer;
  private final int maxRangesPerCommit;
  private final int commitAttempts;
  private final List<ACL> acl;
  private final String digest;

  private ZooKeeperStoreConfig(Builder b) {
    this.connectString = b.connectString;
    this.root = b.root;
    this.sessionTimeout = b.sessionTimeout;
    this.connectTimeout = b.connectTimeout;
    this.juteMaxBuffer = b.juteMaxBuffer;
    this.maxRangesPerCommit =
        b.maxRangesPerCommit > 0
            ? b.maxRangesPerCommit
            : Math.max(1, (b.juteMaxBuffer - HEADROOM_BYTES) / BYTES_PER_RANGE);
    this.commitAttempts = b.commitAttempts;
    this.acl = List.copyOf(b.acl);
    this.digest = b.digest;
  }

  /**
   * A builder for the given servers.
   *
   * @param connectString {@code host:port[,host:port...]}, without a chroot (use {@link
   *     Builder#root(String)})
   * @return the builder
   */
  public static Builder builder(String connectString) {
    return new Builder(connectString);
  }

  /**
   * Reads a {@code zookeeper://} URI and options.
   *
   * @param uri the URI
   * @param properties options beside the URI
   * @return the configuration
   * @throws StoreConfigurationException if the URI or an option is malformed or unknown
   */
  public static ZooKeeperStoreConfig fromUri(String uri, Map<String, String> properties) {
    Objects.requireNonNull(uri, "uri must not be null");
    Objects.requireNonNull(properties, "properties must not be null");
    String masked = OPTIONS.mask(uri);
    if (!"zookeeper".equals(StoreUris.scheme(uri))) {
      throw new StoreConfigurationException(
          "Not a ZooKeeper URI: '" + masked + "'. Expected zookeeper://host:port[/root]");
    }
    String rest = uri.substring(uri.indexOf(':') + 1);
    if (!rest.startsWith("//")) {
      throw new StoreConfigurationException(
          "Malformed ZooKeeper URI '" + masked + "': expected zookeeper://host:port[/root]");
    }
    rest = rest.substring(2);
    int hash = rest.indexOf('#');
    if (hash >= 0) {
      rest = rest.substring(0, hash);
    }
    int q = rest.indexOf('?');
    String beforeQuery = q < 0 ? rest : rest.substring(0, q);
    int slash = beforeQuery.indexOf('/');
    String authority = slash < 0 ? beforeQuery : beforeQuery.substring(0, slash);
    String path = slash < 0 ? "" : beforeQuery.substring(slash);

    String userInfo = null;
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      userInfo = decode(authority.substring(0, at), masked);
      authority = authority.substring(at + 1);
    }
    Builder b = new Builder(hosts(authority, masked));
    if (!path.isEmpty() && !path.equals("/")) {
      b.root(decode(path.endsWith("/") ? path.substring(0, path.length() - 1) : path, masked));
    }
    if (userInfo != null) {
      if (!userInfo.contains(":")) {
        throw new StoreConfigurationException(
            "Malformed ZooKeeper URI '" + masked + "': user info must be user:password");
      }
      b.digest(userInfo);
    }

    OptionValues options = OPTIONS.read(uri, properties);
    if (userInfo != null && options.has(DIGEST)) {
      throw new StoreConfigurationException(
          "The digest is given both in the URI '"
              + masked
              + "' (user info) and in the properties; give it in one place");
    }
    try {
      options.ifPresent(SESSION_TIMEOUT, b::sessionTimeout);
      options.ifPresent(CONNECT_TIMEOUT, b::connectTimeout);
      options.ifPresent(JUTE_MAX_BUFFER, b::juteMaxBuffer);
      options.ifPresent(MAX_RANGES_PER_COMMIT, b::maxRangesPerCommit);
      options.ifPresent(COMMIT_ATTEMPTS, b::commitAttempts);
      options.ifPresent(ACL_OPTION, b::acl);
      options.ifPresent(DIGEST, b::digest);
    } catch (IllegalArgumentException ex) {
      throw new StoreConfigurationException(
          "Bad ZooKeeper option (" + masked + "): " + ex.getMessage(), ex);
    }
    try {
      return b.build();
    } catch (StoreConfigurationException ex) {
      throw new StoreConfigurationException(
          "Bad ZooKeeper URI '" + masked + "': " + ex.getMessage(), ex);
    }
  }

  private static String hosts(String authority, String masked) {
    if (authority.isEmpty()) {
      throw new StoreConfigurationException(
          "ZooKeeper URI '" + masked + "' names no server: expected zookeeper://host:port");
    }
    List<String> out = new ArrayList<>();
    for (String hp : authority.split(",", -1)) {
      Matcher m = HOST_PORT.matcher(hp);
      if (!m.matches()) {
        throw new StoreConfigurationException(
            "Malformed server '" + hp + "' in ZooKeeper URI '" + masked + "': expected host:port");
      }
      int port = m.group(2) == null ? 2181 : Integer.parseInt(m.group(2));
      if (port < 1 || port > 65535) {
        throw new StoreConfigurationException(
            "Port " + port + " out of range 1..65535 in ZooKeeper URI '" + masked + "'");
      }
      out.add(m.group(1) + ":" + port);
    }
    return String.join(",", out);
  }

  private static String decode(String s, String masked) {
    try {
      return StoreUris.decode(s);
    } catch (IllegalArgumentException e) {
      throw new StoreConfigurationException(
          "Malformed ZooKeeper URI '" + masked + "': " + e.getMessage(), e);
    }
  }

  private static List<ACL> acl(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "open" -> ZooDefs.Ids.OPEN_ACL_UNSAFE;
      case "creator" -> ZooDefs.Ids.CREATOR_ALL_ACL;
      default ->
          throw new IllegalArgumentException("expected open or creator, got '" + value + "'");
    };
  }

  /**
   * The servers.
   *
   * @return {@code host:port[,host:port...]}
   */
  public String connectString() {
    return connectString;
  }

  /**
   * The node under which positions are kept: {@code <root>/<group>/<topic>/<partition>}.
   *
   * @return an absolute ZooKeeper path, not {@code /}
   */
  public String root() {
    return root;
  }

  /**
   * The session timeout asked of the server (which bounds it by its min/max session timeout).
   *
   * @return the timeout
   */
  public Duration sessionTimeout() {
    return sessionTimeout;
  }

  /**
   * How long opening waits for a first connection, and how long a commit whose reply was lost waits
   * for a reconnection before it reports the outcome as unknown.
   *
   * @return the timeout
   */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /**
   * The servers' {@code jute.maxbuffer}: the largest request packet they accept. ZooKeeper does not
   * tell clients this value, so it is configured; a commit larger than it minus {@value
   * #HEADROOM_BYTES} bytes is refused before sending.
   *
   * @return bytes
   */
  public int juteMaxBuffer() {
    return juteMaxBuffer;
  }

  /**
   * The most ranges one commit accepts; by default {@code (juteMaxBuffer − }{@value
   * #HEADROOM_BYTES}{@code ) / }{@value #BYTES_PER_RANGE}. The byte size check is exact and runs
   * anyway; this bound lets callers plan batches without knowing the encoding.
   *
   * @return the bound
   */
  public int maxRangesPerCommit() {
    return maxRangesPerCommit;
  }

  /**
   * How many times one commit is tried when a race that a fresh read resolves aborted it (a
   * position's version moved while its value stayed; a result op hit {@code NODEEXISTS}, {@code
   * NONODE}, {@code BADVERSION} or {@code NOTEMPTY}). The writer runs again on each attempt.
   *
   * @return at least 1
   */
  public int commitAttempts() {
    return commitAttempts;
  }

  /**
   * The ACL of the nodes the store creates (root, groups, topics, positions), also used by {@link
   * ZooKeeperOps#create(String, byte[])}.
   *
   * @return the ACL
   */
  public List<ACL> acl() {
    return acl;
  }

  /**
   * Digest credentials {@code user:password}, or null for none.
   *
   * @return the credentials or null
   */
  String digest() {
    return digest;
  }

  @Override
  public String toString() {
    return "zookeeper://"
        + connectString
        + root
        + " (sessionTimeout="
        + sessionTimeout.toMillis()
        + "ms, juteMaxBuffer="
        + juteMaxBuffer
        + ", maxRangesPerCommit="
        + maxRangesPerCommit
        + (digest != null ? ", digest auth" : "")
        + ")";
  }

  /** Builds a {@link ZooKeeperStoreConfig}; every option has a documented default. */
  public static final class Builder {
    private final String connectString;
    private String root = DEFAULT_ROOT;
    private Duration sessionTimeout = DEFAULT_SESSION_TIMEOUT;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private int juteMaxBuffer =
        Integer.getInteger("jute.maxbuffer", ZOOKEEPER_DEFAULT_JUTE_MAX_BUFFER);
    private int maxRangesPerCommit;
    private int commitAttempts = DEFAULT_COMMIT_ATTEMPTS;
    private List<ACL> acl = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    private String digest;

    private Builder(String connectString) {
      this.connectString = Objects.requireNonNull(connectString, "connectString must not be null");
    }

    /**
     * The node under which positions are kept. Default {@value ZooKeeperStoreConfig#DEFAULT_ROOT}.
     *
     * @param root an absolute path, not {@code /}
     * @return this builder
     */
    public Builder root(String root) {
      this.root = Objects.requireNonNull(root, "root must not be null");
      return this;
    }

    /**
     * The session timeout. Default 30 s.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder sessionTimeout(Duration timeout) {
      this.sessionTimeout = Objects.requireNonNull(timeout, "sessionTimeout must not be null");
      return this;
    }

    /**
     * How long to wait for a (re)connection. Default 15 s.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = Objects.requireNonNull(timeout, "connectTimeout must not be null");
      return this;
    }

    /**
     * The servers' {@code jute.maxbuffer}. Default: this JVM's system property {@code
     * jute.maxbuffer} if set (it is usually set alike on clients and servers), else ZooKeeper's
     * default 1048575.
     *
     * @param bytes at least 4096
     * @return this builder
     */
    public Builder juteMaxBuffer(int bytes) {
      this.juteMaxBuffer = bytes;
      return this;
    }

    /**
     * The most ranges per commit. Default derived from {@code juteMaxBuffer}, see {@link
     * ZooKeeperStoreConfig#maxRangesPerCommit()}.
     *
     * @param max at least 1
     * @return this builder
     */
    public Builder maxRangesPerCommit(int max) {
      if (max < 1) {
        throw new StoreConfigurationException("maxRangesPerCommit must be >= 1, got " + max);
      }
      this.maxRangesPerCommit = max;
      return this;
    }

    /**
     * Attempts per commit for races a fresh read resolves. Default 3.
     *
     * @param attempts at least 1
     * @return this builder
     */
    public Builder commitAttempts(int attempts) {
      this.commitAttempts = attempts;
      return this;
    }

    /**
     * The ACL of created nodes. Default {@code OPEN_ACL_UNSAFE}; {@code CREATOR_ALL_ACL} needs
     * {@link #digest(String)}.
     *
     * @param acl not empty
     * @return this builder
     */
    public Builder acl(List<ACL> acl) {
      this.acl = List.copyOf(Objects.requireNonNull(acl, "acl must not be null"));
      return this;
    }

    /**
     * Digest authentication. Default none.
     *
     * @param userAndPassword {@code user:password}
     * @return this builder
     */
    public Builder digest(String userAndPassword) {
      this.digest = Objects.requireNonNull(userAndPassword, "digest must not be null");
      return this;
    }

    /**
     * Checks every option and builds.
     *
     * @return the configuration
     * @throws StoreConfigurationException if an option is out of range, naming it and its value
     */
    public ZooKeeperStoreConfig build() {
      if (connectString.isBlank()) {
        throw new StoreConfigurationException("connectString must not be empty");
      }
      if (connectString.contains("/")) {
        throw new StoreConfigurationException(
            "connectString must not contain a chroot, got '"
                + connectString
                + "': set root(\"/your/path\") instead");
      }
      if (root.equals("/") || root.endsWith("/")) {
        throw new StoreConfigurationException(
            "root must be an absolute path below / without a trailing slash, got '" + root + "'");
      }
      try {
        PathUtils.validatePath(root);
      } catch (IllegalArgumentException e) {
        throw new StoreConfigurationException(
            "root '" + root + "' is not a valid ZooKeeper path: " + e.getMessage(), e);
      }
      if (root.equals("/zookeeper") || root.startsWith("/zookeeper/")) {
        throw new StoreConfigurationException(
            "root must not be under /zookeeper, ZooKeeper's own subtree, got '" + root + "'");
      }
      positive("sessionTimeout", sessionTimeout);
      positive("connectTimeout", connectTimeout);
      if (sessionTimeout.toMillis() > Integer.MAX_VALUE) {
        throw new StoreConfigurationException("sessionTimeout too long: " + sessionTimeout);
      }
      if (juteMaxBuffer < 4096) {
        throw new StoreConfigurationException(
            "juteMaxBuffer must be >= 4096 bytes, got juteMaxBuffer=" + juteMaxBuffer);
      }
      if (commitAttempts < 1) {
        throw new StoreConfigurationException(
            "commitAttempts must be >= 1, got commitAttempts=" + commitAttempts);
      }
      if (acl.isEmpty()) {
        throw new StoreConfigurationException("acl must not be empty");
      }
      if (digest != null && digest.indexOf(':') <= 0) {
        throw new StoreConfigurationException("digest must be user:password");
      }
      return new ZooKeeperStoreConfig(this);
    }

    private static void positive(String name, Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new StoreConfigurationException(name + " must be positive, got " + name + "=" + d);
      }
    }
  }
}
