package io.tandem.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import io.tandem.spi.StoreConfigurationException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Immutable configuration of a {@link CassandraOffsetStore}; build with {@link #builder()}. Every
 * option has a default (see each builder method); {@link Builder#build()} validates them all.
 */
public final class CassandraStoreConfig {

  /** Keyspace and table names: CQL unquoted identifiers, at most 48 characters. */
  static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,47}");

  /** Default keyspace. */
  public static final String DEFAULT_KEYSPACE = "tandem";

  /** Default offsets table. */
  public static final String DEFAULT_TABLE = "tandem_offsets";

  /**
   * Default largest number of ranges in one commit. One commit is one conditional batch on one
   * Cassandra partition, which Cassandra applies as one mutation through one Paxos round: it is
   * bounded by {@code max_mutation_size} (half the 32 MiB commit log segment by default), not by
   * {@code batch_size_fail_threshold} (50 KiB by default), which Cassandra checks only for batches
   * spanning several partitions (a 2 000-row, ~150 KB conditional batch passes: ServerFactsIT). The
   * Paxos proposal and its read grow with the batch, though: 10 000 rows took 2-3 s on one node and
   * timed out on a loaded one, so the default keeps a commit well under a second.
   */
  public static final int DEFAULT_MAX_RANGES = 1_000;

  private final List<InetSocketAddress> contactPoints;
  private final String localDatacenter;
  private final String keyspace;
  private final String table;
  private final ConsistencyLevel writeConsistency;
  private final ConsistencyLevel serialConsistency;
  private final ConsistencyLevel readConsistency;
  private final Duration requestTimeout;
  private final int maxRangesPerCommit;
  private final int resultConcurrency;
  private final int lwtAttempts;
  private final CassandraLayout layout;
  private final String user;
  private final String password;
  private final CqlSession session;

  private CassandraStoreConfig(Builder b) {
    this.contactPoints = List.copyOf(b.contactPoints);
    this.localDatacenter = b.localDatacenter;
    this.keyspace = b.keyspace;
    this.table = b.table;
    this.writeConsistency = b.writeConsistency;
    this.serialConsistency = b.serialConsistency;
    this.readConsistency = b.readConsistency;
    this.requestTimeout = b.requestTimeout;
    this.maxRangesPerCommit = b.maxRangesPerCommit;
    this.resultConcurrency = b.resultConcurrency;
    this.lwtAttempts = b.lwtAttempts;
    this.layout = b.layout;
    this.user = b.user;
    this.password = b.password;
    this.session = b.session;
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
   * The contact points the store's own session connects to.
   *
   * @return the contact points; empty when a session is supplied
   */
  public List<InetSocketAddress> contactPoints() {
    return contactPoints;
  }

  /**
   * The driver's local datacenter.
   *
   * @return the datacenter, or null when a session is supplied
   */
  public String localDatacenter() {
    return localDatacenter;
  }

  /**
   * The keyspace holding the offsets table.
   *
   * @return the keyspace
   */
  public String keyspace() {
    return keyspace;
  }

  /**
   * The offsets table.
   *
   * @return the table name
   */
  public String table() {
    return table;
  }

  /**
   * Consistency of the offset writes' commit phase, of result statements that set none, and of
   * initialize.
   *
   * @return the write consistency
   */
  public ConsistencyLevel writeConsistency() {
    return writeConsistency;
  }

  /**
   * Consistency of the Paxos phase of offset writes and of outcome-resolving reads.
   *
   * @return the serial consistency
   */
  public ConsistencyLevel serialConsistency() {
    return serialConsistency;
  }

  /**
   * Consistency of plain reads: {@code groups()} and the session default. Positions are read at
   * {@link #serialConsistency()}, so that a commit left half-way by a crash is completed first.
   *
   * @return the read consistency
   */
  public ConsistencyLevel readConsistency() {
    return readConsistency;
  }

  /**
   * The driver's request timeout for the store's own statements (and result statements that set
   * none).
   *
   * @return the timeout
   */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /**
   * The largest number of ranges one commit accepts.
   *
   * @return the maximum
   */
  public int maxRangesPerCommit() {
    return maxRangesPerCommit;
  }

  /**
   * How many result statements run at once.
   *
   * @return the window
   */
  public int resultConcurrency() {
    return resultConcurrency;
  }

  /**
   * How many times a commit's conditional batch is sent when an attempt's outcome was unknown and
   * resolved as "not applied".
   *
   * @return the attempts, at least 1
   */
  public int lwtAttempts() {
    return lwtAttempts;
  }

  /**
   * How positions are laid out in the offsets table.
   *
   * @return the layout
   */
  public CassandraLayout layout() {
    return layout;
  }

  Optional<String> user() {
    return Optional.ofNullable(user);
  }

  Optional<String> password() {
    return Optional.ofNullable(password);
  }

  /**
   * The session supplied by the user, which the store uses and never closes.
   *
   * @return the session, if one was supplied
   */
  public Optional<CqlSession> session() {
    return Optional.ofNullable(session);
  }

  @Override
  public String toString() {
    return "CassandraStoreConfig{"
        + (session != null ? "session=supplied" : "contactPoints=" + contactPoints)
        + ", localDatacenter="
        + localDatacenter
        + ", table="
        + keyspace
        + "."
        + table
        + ", write="
        + writeConsistency
        + ", serial="
        + serialConsistency
        + ", read="
        + readConsistency
        + ", requestTimeout="
        + requestTimeout
        + ", maxRangesPerCommit="
        + maxRangesPerCommit
        + ", resultConcurrency="
        + resultConcurrency
        + ", lwtAttempts="
        + lwtAttempts
        + ", layout="
        + layout
        + (user != null ? ", user=" + user + ", password=****" : "")
        + "}";
  }

  /** Builds a {@link CassandraStoreConfig}. */
  public static final class Builder {
    private final List<InetSocketAddress> contactPoints = new ArrayList<>();
    private String localDatacenter;
    private String keyspace = DEFAULT_KEYSPACE;
    private String table = DEFAULT_TABLE;
    private ConsistencyLevel writeConsistency = DefaultConsistencyLevel.LOCAL_QUORUM;
    private ConsistencyLevel serialConsistency = DefaultConsistencyLevel.LOCAL_SERIAL;
    private ConsistencyLevel readConsistency = DefaultConsistencyLevel.LOCAL_QUORUM;
    private Duration requestTimeout = Duration.ofSeconds(12);
    private int maxRangesPerCommit = DEFAULT_MAX_RANGES;
    private int resultConcurrency = 32;
    private int lwtAttempts = 3;
    private CassandraLayout layout = CassandraLayout.GROUP;
    private String user;
    private String password;
    private CqlSession session;

    private Builder() {}

    /**
     * Adds a contact point. Default: none; either contact points with a {@link
     * #localDatacenter(String) local datacenter}, or a {@link #session(CqlSession) session}.
     *
     * @param host the host
     * @param port the native (CQL) port, usually 9042
     * @return this builder
     */
    public Builder contactPoint(String host, int port) {
      Objects.requireNonNull(host, "host must not be null");
      if (port < 1 || port > 65535) {
        throw new StoreConfigurationException(
            "port must be in 1..65535, got " + port + " (host " + host + ")");
      }
      contactPoints.add(InetSocketAddress.createUnresolved(host, port));
      return this;
    }

    /**
     * The driver's local datacenter: requests go to its replicas, and {@code LOCAL_*} consistencies
     * count in it. Required with contact points (no default: a wrong guess routes every request to
     * a remote datacenter); {@code datacenter1} is a single default-configured node's.
     *
     * @param localDatacenter the datacenter name
     * @return this builder
     */
    public Builder localDatacenter(String localDatacenter) {
      this.localDatacenter = Objects.requireNonNull(localDatacenter, "localDatacenter");
      return this;
    }

    /**
     * The keyspace of the offsets table. Default {@value CassandraStoreConfig#DEFAULT_KEYSPACE}.
     *
     * @param keyspace an unquoted CQL identifier
     * @return this builder
     */
    public Builder keyspace(String keyspace) {
      this.keyspace = Objects.requireNonNull(keyspace, "keyspace");
      return this;
    }

    /**
     * The offsets table. Default {@value CassandraStoreConfig#DEFAULT_TABLE}.
     *
     * @param table an unquoted CQL identifier
     * @return this builder
     */
    public Builder table(String table) {
      this.table = Objects.requireNonNull(table, "table");
      return this;
    }

    /**
     * Consistency of offset writes (the Paxos commit phase), of initialize, and of result
     * statements that set none. Default {@code LOCAL_QUORUM}.
     *
     * @param consistency a non-serial consistency level
     * @return this builder
     */
    public Builder writeConsistency(ConsistencyLevel consistency) {
      this.writeConsistency = Objects.requireNonNull(consistency, "writeConsistency");
      return this;
    }

    /**
     * Consistency of the Paxos phase and of the read that resolves an unknown outcome. Default
     * {@code LOCAL_SERIAL}; {@code SERIAL} for a multi-datacenter group whose consumers move
     * between datacenters.
     *
     * @param consistency {@code SERIAL} or {@code LOCAL_SERIAL}
     * @return this builder
     */
    public Builder serialConsistency(ConsistencyLevel consistency) {
      this.serialConsistency = Objects.requireNonNull(consistency, "serialConsistency");
      return this;
    }

    /**
     * Consistency of plain reads: {@code groups()} and the session default. Positions are read at
     * {@link #serialConsistency()}, so that a commit left half-way by a crash is completed first.
     * Default {@code LOCAL_QUORUM}.
     *
     * @param consistency a consistency level
     * @return this builder
     */
    public Builder readConsistency(ConsistencyLevel consistency) {
      this.readConsistency = Objects.requireNonNull(consistency, "readConsistency");
      return this;
    }

    /**
     * The driver's request timeout. Default 12 s: longer than the server's own write and CAS
     * timeouts (2 s and 1 s by default), so that the server's answer, which says what happened,
     * arrives before the client gives up, which says nothing.
     *
     * @param timeout a positive duration
     * @return this builder
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = Objects.requireNonNull(timeout, "requestTimeout");
      return this;
    }

    /**
     * The largest number of ranges in one commit. Default {@value
     * CassandraStoreConfig#DEFAULT_MAX_RANGES}.
     *
     * @param max at least 1
     * @return this builder
     */
    public Builder maxRangesPerCommit(int max) {
      this.maxRangesPerCommit = max;
      return this;
    }

    /**
     * How many result statements are in flight at once. Default 32.
     *
     * @param concurrency at least 1
     * @return this builder
     */
    public Builder resultConcurrency(int concurrency) {
      this.resultConcurrency = concurrency;
      return this;
    }

    /**
     * How many times a commit's conditional batch is sent when an attempt's outcome was unknown and
     * a serial read showed it not applied. Default 3.
     *
     * @param attempts at least 1
     * @return this builder
     */
    public Builder lwtAttempts(int attempts) {
      this.lwtAttempts = attempts;
      return this;
    }

    /**
     * How positions are laid out. Default {@link CassandraLayout#GROUP} (a group in one Cassandra
     * partition: commits atomic across partitions, one Paxos round per commit, the layout of tables
     * created before the option existed); {@link CassandraLayout#PARTITION} gives each Kafka
     * partition its own Cassandra partition, so members of a group do not contend. The offsets
     * table must have been created for the same layout.
     *
     * @param layout the layout
     * @return this builder
     */
    public Builder layout(CassandraLayout layout) {
      this.layout = Objects.requireNonNull(layout, "layout must not be null");
      return this;
    }

    /**
     * Plain-text credentials for the store's own session. Default: none.
     *
     * @param user the user
     * @param password the password
     * @return this builder
     */
    public Builder credentials(String user, String password) {
      this.user = Objects.requireNonNull(user, "user");
      this.password = Objects.requireNonNull(password, "password");
      return this;
    }

    /**
     * A session to use instead of opening one. The store never closes it. Its own settings
     * (timeouts, policies, credentials) apply; contact points, datacenter and credentials must then
     * not be set. Default: none, the store opens its own.
     *
     * @param session an open session
     * @return this builder
     */
    public Builder session(CqlSession session) {
      this.session = Objects.requireNonNull(session, "session");
      return this;
    }

    /**
     * Validates every option and builds the configuration.
     *
     * @return the configuration
     * @throws StoreConfigurationException naming the first bad option
     */
    public CassandraStoreConfig build() {
      identifier("keyspace", keyspace);
      identifier("table", table);
      if (session != null) {
        if (!contactPoints.isEmpty() || localDatacenter != null || user != null) {
          throw new StoreConfigurationException(
              "with a supplied session, contact points, localDatacenter and credentials come from"
                  + " that session: do not set them");
        }
      } else {
        if (contactPoints.isEmpty()) {
          throw new StoreConfigurationException(
              "no contact point: set contactPoint(host, port) or supply a session");
        }
        if (localDatacenter == null || localDatacenter.isBlank()) {
          throw new StoreConfigurationException(
              "localDatacenter is required with contact points (for one default node:"
                  + " datacenter1)");
        }
      }
      if (writeConsistency.isSerial()) {
        throw new StoreConfigurationException(
            "writeConsistency must not be serial, got "
                + writeConsistency
                + ": use LOCAL_QUORUM or QUORUM; serialConsistency sets the Paxos level");
      }
      if (!serialConsistency.isSerial()) {
        throw new StoreConfigurationException(
            "serialConsistency must be SERIAL or LOCAL_SERIAL, got " + serialConsistency);
      }
      if (requestTimeout.isZero() || requestTimeout.isNegative()) {
        throw new StoreConfigurationException(
            "requestTimeout must be positive, got " + requestTimeout);
      }
      positive("maxRangesPerCommit", maxRangesPerCommit);
      positive("resultConcurrency", resultConcurrency);
      positive("lwtAttempts", lwtAttempts);
      return new CassandraStoreConfig(this);
    }

    private static void identifier(String option, String value) {
      if (!IDENTIFIER.matcher(value).matches()) {
        throw new StoreConfigurationException(
            option
                + " must match "
                + IDENTIFIER.pattern()
                + " (an unquoted CQL identifier), got '"
                + value
                + "'");
      }
    }

    private static void positive(String option, int value) {
      if (value < 1) {
        throw new StoreConfigurationException(option + " must be >= 1, got " + value);
      }
    }
  }

  /**
   * Parses a consistency level name, case-insensitively.
   *
   * @param option the option, for the message
   * @param value the name
   * @return the level
   */
  static ConsistencyLevel consistency(String option, String value) {
    try {
      return DefaultConsistencyLevel.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new StoreConfigurationException(
          option
              + " must be a consistency level (ONE, LOCAL_QUORUM, QUORUM, SERIAL, LOCAL_SERIAL, ...),"
              + " got '"
              + value
              + "'",
          e);
    }
  }
}
