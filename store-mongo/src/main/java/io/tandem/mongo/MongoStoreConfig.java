package io.tandem.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.client.MongoClient;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Immutable configuration of a {@link MongoOffsetStore}; build it with {@link #builder()}.
 *
 * <table>
 *   <caption>Options</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code connectionString}</td><td>none: this or {@code client}</td>
 *       <td>a {@code mongodb://} or {@code mongodb+srv://} connection string; every driver option
 *       in it applies</td></tr>
 *   <tr><td>{@code client}</td><td>none</td><td>a {@link MongoClient} of the user's; the store
 *       never closes it</td></tr>
 *   <tr><td>{@code database}</td><td>the connection string's database, else {@code tandem}</td>
 *       <td>the database holding offsets (and, by default, results)</td></tr>
 *   <tr><td>{@code collection}</td><td>{@code tandem_offsets}</td><td>the offsets collection: one
 *       document per group</td></tr>
 *   <tr><td>{@code requireTransactions}</td><td>{@code false}</td><td>refuse to open on a server
 *       without transactions (a standalone {@code mongod}) instead of falling back to
 *       IDEMPOTENT</td></tr>
 *   <tr><td>{@code transactionTimeout}</td><td>30 s</td><td>how long one commit retries a
 *       transaction aborted by a transient error (write conflict, failover) and an unknown commit
 *       result</td></tr>
 * </table>
 */
public final class MongoStoreConfig {

  /** The offsets collection used when none is given. */
  public static final String DEFAULT_COLLECTION = "tandem_offsets";

  /** The database used when neither the option nor the connection string names one. */
  public static final String DEFAULT_DATABASE = "tandem";

  /** How long a commit retries transient transaction errors when not configured. */
  public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofSeconds(30);

  // MongoDB's own rules: database names exclude /\. "$ space and NUL and are < 64 bytes;
  // collection names exclude $ and NUL and must not start with "system.".
  private static final Pattern BAD_DATABASE_CHARS = Pattern.compile("[/\\\\. \"$\\x00]");

  private final String connectionString;
  private final MongoClient client;
  private final String database;
  private final String collection;
  private final boolean requireTransactions;
  private final MongoLayout layout;
  private final Duration transactionTimeout;

  private MongoStoreConfig(Builder b) {
    this.connectionString = b.connectionString;
    this.client = b.client;
    this.requireTransactions = b.requireTransactions;
    this.layout = b.layout;
    this.transactionTimeout = b.transactionTimeout;
    ConnectionString parsed = b.connectionString == null ? null : parse(b.connectionString);
    String db = b.database;
    if (db == null && parsed != null) {
      db = parsed.getDatabase();
    }
    this.database = checkDatabase(db == null ? DEFAULT_DATABASE : db);
    String coll = b.collection;
    if (coll == null && parsed != null) {
      coll = parsed.getCollection();
    }
    this.collection = checkCollection(coll == null ? DEFAULT_COLLECTION : coll);
  }

  /**
   * A new builder with every option at its default.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The connection string, if the store opens its own client.
   *
   * @return the connection string
   */
  public Optional<String> connectionString() {
    return Optional.ofNullable(connectionString);
  }

  /**
   * The user's client, if one was given.
   *
   * @return the client
   */
  public Optional<MongoClient> client() {
    return Optional.ofNullable(client);
  }

  /**
   * The database holding the offsets collection.
   *
   * @return the database name
   */
  public String database() {
    return database;
  }

  /**
   * The offsets collection.
   *
   * @return the collection name
   */
  public String collection() {
    return collection;
  }

  /**
   * Whether a server without transactions is refused.
   *
   * @return the option
   */
  public boolean requireTransactions() {
    return requireTransactions;
  }

  /**
   * How positions are laid out in the offsets collection.
   *
   * @return the layout
   */
  public MongoLayout layout() {
    return layout;
  }

  /**
   * How long a commit retries transient transaction errors.
   *
   * @return the timeout
   */
  public Duration transactionTimeout() {
    return transactionTimeout;
  }

  @Override
  public String toString() {
    return "MongoStoreConfig{"
        + (connectionString != null ? "uri=" + StoreUris.mask(connectionString) : "client=given")
        + ", database="
        + database
        + ", collection="
        + collection
        + ", requireTransactions="
        + requireTransactions
        + ", transactionTimeout="
        + transactionTimeout
        + ", layout="
        + layout
        + "}";
  }

  static ConnectionString parse(String uri) {
    try {
      return new ConnectionString(uri);
    } catch (IllegalArgumentException e) {
      // The driver's message may quote the URI: say what is wrong without the password.
      throw new StoreConfigurationException(
          "Malformed MongoDB connection string '"
              + StoreUris.mask(uri)
              + "': "
              + StoreUris.mask(e.getMessage())
              + ". Expected mongodb://[user:password@]host[:port][,host...]/[database][?options]"
              + " or mongodb+srv://...",
          e);
    }
  }

  private static String checkDatabase(String db) {
    if (db.isEmpty() || db.length() >= 64 || BAD_DATABASE_CHARS.matcher(db).find()) {
      throw new StoreConfigurationException(
          "database must be 1 to 63 characters without / \\ . \" $ space or NUL, got '" + db + "'");
    }
    return db;
  }

  static String checkCollection(String coll) {
    if (coll.isEmpty() || coll.indexOf('$') >= 0 || coll.indexOf('\0') >= 0) {
      throw new StoreConfigurationException(
          "collection must be non-empty, without $ or NUL, got '" + coll + "'");
    }
    if (coll.startsWith("system.")) {
      throw new StoreConfigurationException(
          "collection must not start with 'system.' (reserved by MongoDB), got '" + coll + "'");
    }
    return coll;
  }

  /** Builds a {@link MongoStoreConfig}; checks everything in {@link #build()}. */
  public static final class Builder {
    private String connectionString;
    private MongoClient client;
    private String database;
    private String collection;
    private boolean requireTransactions;
    private MongoLayout layout = MongoLayout.GROUP;
    private Duration transactionTimeout = DEFAULT_TRANSACTION_TIMEOUT;

    private Builder() {}

    /**
     * The server to connect to; the store opens and closes its own client. Every driver option in
     * it applies (timeouts, TLS, credentials, read and write concerns are the store's own).
     *
     * @param connectionString a {@code mongodb://} or {@code mongodb+srv://} connection string
     * @return this builder
     */
    public Builder connectionString(String connectionString) {
      this.connectionString = Objects.requireNonNull(connectionString, "connectionString");
      return this;
    }

    /**
     * A client of the user's, shared with the rest of the application; the store never closes it.
     *
     * @param client the client
     * @return this builder
     */
    public Builder client(MongoClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * The database of the offsets collection. Default: the connection string's, else {@value
     * MongoStoreConfig#DEFAULT_DATABASE}.
     *
     * @param database the database name
     * @return this builder
     */
    public Builder database(String database) {
      this.database = Objects.requireNonNull(database, "database");
      return this;
    }

    /**
     * The offsets collection. Default: the connection string's ({@code /db.collection}), else
     * {@value MongoStoreConfig#DEFAULT_COLLECTION}.
     *
     * @param collection the collection name
     * @return this builder
     */
    public Builder collection(String collection) {
      this.collection = Objects.requireNonNull(collection, "collection");
      return this;
    }

    /**
     * Refuse to open on a server without transactions instead of falling back to IDEMPOTENT.
     * Default false.
     *
     * @param requireTransactions the option
     * @return this builder
     */
    public Builder requireTransactions(boolean requireTransactions) {
      this.requireTransactions = requireTransactions;
      return this;
    }

    /**
     * How positions are laid out. Default {@link MongoLayout#GROUP} (a group in one document, the
     * layout of collections written before the option existed); {@link MongoLayout#PARTITION}
     * writes a document per partition, so members of a group do not contend.
     *
     * @param layout the layout
     * @return this builder
     */
    public Builder layout(MongoLayout layout) {
      this.layout = Objects.requireNonNull(layout, "layout must not be null");
      return this;
    }

    /**
     * How long one commit retries a transaction aborted by a transient error. Default 30 s.
     *
     * @param timeout a positive duration
     * @return this builder
     */
    public Builder transactionTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "transactionTimeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new StoreConfigurationException(
            "transactionTimeout must be positive, got " + timeout);
      }
      this.transactionTimeout = timeout;
      return this;
    }

    /**
     * Checks the options and builds the configuration.
     *
     * @return the configuration
     * @throws StoreConfigurationException if neither or both of connection string and client are
     *     given, or a name is invalid
     */
    public MongoStoreConfig build() {
      if ((connectionString == null) == (client == null)) {
        throw new StoreConfigurationException(
            "give exactly one of connectionString and client, got "
                + (client == null ? "neither" : "both"));
      }
      return new MongoStoreConfig(this);
    }
  }
}
