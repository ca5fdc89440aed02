package io.tandem.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreArguments;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.spi.support.Conflicts;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offsets in a relational table, committed in the same transaction as the results.
 *
 * <p><b>Layout.</b> One row per (group, topic, partition) in table {@code tandem_offsets}
 * (configurable): {@code group_id, topic, partition_id, next_offset}, primary key on the first
 * three. DDL per dialect in {@code io/tandem/jdbc/ddl/*.sql}.
 *
 * <p><b>Atomic step.</b> One transaction on one connection: the conditional advance {@code UPDATE
 * ... SET next_offset = until WHERE ... AND next_offset = from} of every range, in one statement
 * where the dialect has one (PostgreSQL: an {@code UPDATE ... FROM unnest(arrays) RETURNING} the
 * moved rows; MariaDB/MySQL: a multi-table {@code UPDATE} joined with a derived table of the
 * ranges, whose matched-row count must equal the number of ranges; H2: a JDBC batch of single-row
 * UPDATEs in partition order); any range that did not match rolls back and reports every mismatch;
 * then the user's {@link ResultWriter} writes on the same connection; then {@code COMMIT}. Anything
 * thrown rolls back. A commit of one range is always the single-row UPDATE.
 *
 * <p><b>Guarantee.</b> {@link Guarantee#TRANSACTIONAL}, atomic across partitions. Weakened by: a
 * writer that writes through another connection (outside the transaction); a server that does not
 * flush on commit (PostgreSQL {@code fsync=off} or {@code synchronous_commit=off}, MariaDB {@code
 * innodb_flush_log_at_trx_commit != 1}, H2 in memory or with {@code WRITE_DELAY > 0}), which {@link
 * #capabilities()} reports as not durable.
 *
 * <p><b>Concurrency.</b> Several committers of the same range: the first UPDATE takes the row lock;
 * the others wait on it. Under READ COMMITTED (PostgreSQL's and H2's default) PostgreSQL re-checks
 * the WHERE clause against the row version the winner committed (EvalPlanQual), finds {@code
 * next_offset} moved and updates 0 rows: exactly one commit wins, the others get a conflict. InnoDB
 * (MariaDB/MySQL) UPDATEs always read the latest committed row version, at any isolation level,
 * with the same outcome (for the one-statement advance too: PostgreSQL re-checks the join and the
 * WHERE clause of an UPDATE ... FROM the same way). The store ITs check it with 8 threads on each
 * database. The one-statement advance locks rows in the order of the server's plan, not necessarily
 * partition order, so two commits over overlapping partitions (a zombie and the new owner) can
 * deadlock on offsets: the database aborts one, and it is resolved as below. What remains: under
 * REPEATABLE READ or SERIALIZABLE (a user's DataSource may set them) PostgreSQL aborts the loser
 * with a serialization failure (40001) instead of re-checking, and the user's result writes can
 * deadlock (40P01, MariaDB 1213) or time out on locks in any order they like. Such an error is not
 * by itself a verdict on the offsets, so after rolling back the store re-reads the positions: if
 * any differs from its range's start, another committer won and the commit fails with a conflict
 * (which is the truth, whatever error the database chose to report it with); if all still match,
 * nobody advanced them and the transaction is simply run again, writer included (writers may run
 * more than once), up to {@value #CONCURRENCY_ATTEMPTS} times before giving up with a retriable
 * {@link StoreUnavailableException}.
 *
 * <p><b>H2.</b> H2's MVStore (2.3.232 and 2.5.252, file databases) loses committed updates when
 * transactions that update the same rows conditionally run concurrently: with plain JDBC, 8 threads
 * each reading positions, updating a few of six rows with {@code UPDATE ... WHERE pos = ?} and
 * committing when every count was 1, a row went back from 60 to 36 under CPU load and 24 updates
 * from the same position both committed (reproduced in {@code H2StoreIT}); the same happened
 * through this store, with or without {@code SELECT ... FOR UPDATE} first or {@code REPEATABLE
 * READ}. So on H2 the store runs its transactions on one database one at a time per JVM (a fair
 * lock per database URL), which makes it exact for a file database (one JVM opens it). Several JVMs
 * committing to one H2 server (TCP) are not serialized by it: two of them committing the same
 * partition at once (a zombie) meet the bug. Use PostgreSQL or MariaDB when several processes
 * commit.
 *
 * <p>Thread-safe. Construct with {@link #open(JdbcStoreConfig)} (own HikariCP pool, closed by
 * {@link #close()}) or {@link #open(DataSource, JdbcStoreConfig)} (your pool, left open).
 */
public final class JdbcOffsetStore implements OffsetStore<Connection> {

  /** The most ranges one commit accepts: one batched UPDATE each, in one transaction. */
  public static final int MAX_RANGES_PER_COMMIT = 10_000;

  static final int CONCURRENCY_ATTEMPTS = 5;

  private static final Logger log = LoggerFactory.getLogger(JdbcOffsetStore.class);
  private static final AtomicInteger POOLS = new AtomicInteger();
  private static final ConcurrentHashMap<String, ReentrantLock> H2_LOCKS =
      new ConcurrentHashMap<>();

  private final JdbcStoreConfig config;
  private final DataSource dataSource;
  private final HikariDataSource ownPool;
  private final JdbcDialect dialect;
  private final String where;
  private final Sql sql;
  // H2 only: the store's transactions on one database, one at a time in this JVM.
  private final ReentrantLock serial;
  private final Object schemaLock = new Object();
  private volatile boolean schemaReady;
  private volatile boolean closed;
  private volatile Capabilities capabilities;
  private volatile boolean batchCountsUnreliable;
  private final java.util.concurrent.atomic.AtomicLong concurrencyFailures =
      new java.util.concurrent.atomic.AtomicLong();

  private JdbcOffsetStore(
      JdbcStoreConfig config,
      DataSource dataSource,
      HikariDataSource ownPool,
      JdbcDialect dialect) {
    this.config = config;
    this.dataSource = dataSource;
    this.ownPool = ownPool;
    this.dialect = dialect;
    this.where = config.maskedUrl() + ", table " + config.tableName();
    this.sql = new Sql(dialect, config.tableName());
    this.serial = dialect == JdbcDialect.H2 ? h2Lock(config, dataSource) : null;
  }

  /**
   * One lock per H2 database per JVM: by URL without its settings ({@code ;WRITE_DELAY=0} and the
   * like), or per DataSource when the store was given one without a URL.
   */
  private static ReentrantLock h2Lock(JdbcStoreConfig config, DataSource dataSource) {
    String key =
        config
            .url()
            .map(u -> u.indexOf(';') < 0 ? u : u.substring(0, u.indexOf(';')))
            .orElse("datasource@" + System.identityHashCode(dataSource));
    return H2_LOCKS.computeIfAbsent(key, k -> new ReentrantLock(true));
  }

  /**
   * Opens a store on its own HikariCP pool. The pool connects once before this returns, so a wrong
   * address fails here.
   *
   * @param config the configuration, with a URL
   * @return the open store
   * @throws StoreConfigurationException if the URL is missing, no driver accepts it or the
   *     credentials are refused
   * @throws StoreUnavailableException if the database cannot be reached
   */
  public static JdbcOffsetStore open(JdbcStoreConfig config) {
    Objects.requireNonNull(config, "config must not be null");
    String url =
        config
            .url()
            .orElseThrow(
                () ->
                    new StoreConfigurationException(
                        "JdbcStoreConfig has no url: set one, or open the store on a DataSource"));
    JdbcDialect dialect = config.dialect().orElseThrow();
    checkDriver(url, dialect, config);
    HikariConfig hikari = new HikariConfig();
    hikari.setPoolName("tandem-jdbc-" + POOLS.incrementAndGet());
    hikari.setJdbcUrl(url);
    config.user().ifPresent(hikari::setUsername);
    config.password().ifPresent(hikari::setPassword);
    hikari.setMaximumPoolSize(config.poolSize());
    hikari.setMinimumIdle(1);
    hikari.setConnectionTimeout(config.connectionTimeout().toMillis());
    // The store runs every operation as an explicit transaction.
    hikari.setAutoCommit(false);
    config.driverProperties().forEach(hikari::addDataSourceProperty);
    connectTimeout(dialect, config).forEach(hikari::addDataSourceProperty);
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(hikari);
    } catch (RuntimeException e) {
      // HikariCP's PoolInitializationException carries the driver's SQLException as its cause.
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      OffsetStoreException mapped =
          SqlErrors.translate("opening the store", config.maskedUrl(), cause);
      if (!(mapped instanceof StoreUnavailableException)
          && !(mapped instanceof StoreConfigurationException)) {
        mapped =
            new StoreConfigurationException(
                "Cannot open JDBC store on "
                    + config.maskedUrl()
                    + ": "
                    + SqlErrors.describe(cause)
                    + ". Check the URL, user and password.",
                e);
      }
      throw mapped;
    }
    try {
      JdbcOffsetStore store = new JdbcOffsetStore(config, pool, pool, dialect);
      log.info("Opened JDBC offset store on {} ({})", store.where, dialect.id());
      return store;
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
  }

  /**
   * Opens a store on a {@code DataSource} you own (a pool shared with your application). {@link
   * #close()} leaves it open. The dialect comes from the config or else from the database's product
   * name, which costs one connection now.
   *
   * @param dataSource where connections come from; each is used for one transaction and closed
   * @param config the configuration; its URL, pool size, user and password are not used
   * @return the open store
   * @throws StoreConfigurationException if the database is not one this store speaks
   * @throws StoreUnavailableException if the dialect must be detected and the database cannot be
   *     reached
   */
  public static JdbcOffsetStore open(DataSource dataSource, JdbcStoreConfig config) {
    Objects.requireNonNull(dataSource, "dataSource must not be null");
    Objects.requireNonNull(config, "config must not be null");
    JdbcDialect dialect = config.dialect().orElse(null);
    if (dialect == null) {
      try (Connection c = dataSource.getConnection()) {
        dialect = JdbcDialect.fromProductName(c.getMetaData().getDatabaseProductName());
      } catch (SQLException e) {
        throw SqlErrors.translate("detecting the database dialect", config.maskedUrl(), e);
      }
    }
    JdbcOffsetStore store = new JdbcOffsetStore(config, dataSource, null, dialect);
    log.info("Opened JDBC offset store on {} ({}, supplied DataSource)", store.where, dialect.id());
    return store;
  }

  private static void checkDriver(String url, JdbcDialect dialect, JdbcStoreConfig config) {
    try {
      DriverManager.getDriver(url);
    } catch (SQLException e) {
      throw new StoreConfigurationException(
          "No JDBC driver on the class path accepts "
              + config.maskedUrl()
              + ". Add "
              + dialect.driverArtifact()
              + " to your dependencies.",
          e);
    }
  }

  /** The driver's own connect timeout, so that an unreachable host fails within ours. */
  private static Map<String, String> connectTimeout(JdbcDialect dialect, JdbcStoreConfig config) {
    long ms = config.connectionTimeout().toMillis();
    Map<String, String> props = new LinkedHashMap<>();
    switch (dialect) {
      case POSTGRESQL ->
          props.putIfAbsent("connectTimeout", String.valueOf(Math.max(1, ms / 1000)));
      case MARIADB, MYSQL -> props.putIfAbsent("connectTimeout", String.valueOf(ms));
      default -> {}
    }
    config.driverProperties().keySet().forEach(props::remove);
    return props;
  }

  /**
   * The dialect in use.
   *
   * @return the dialect
   */
  public JdbcDialect dialect() {
    return dialect;
  }

  /**
   * The configuration this store was opened with.
   *
   * @return the configuration
   */
  public JdbcStoreConfig config() {
    return config;
  }

  /**
   * Creates the offsets table if it does not exist. Idempotent and safe to call from several
   * processes at once. Needs the right to create tables; with {@code createSchema=false} run the
   * DDL of {@code io/tandem/jdbc/ddl/<dialect>.sql} yourself instead. With {@code
   * createSchema=true} (the default) the first offset operation does it anyway.
   *
   * @throws StoreUnavailableException if the database cannot be reached
   * @throws OffsetStoreException if the database refuses the DDL
   */
  @Override
  public void prepare() {
    checkOpen();
    synchronized (schemaLock) {
      for (int attempt = 1; ; attempt++) {
        try (Connection c = borrow()) {
          try (Statement s = c.createStatement()) {
            for (String ddl : sql.ddl) {
              s.execute(ddl);
            }
            c.commit();
            break;
          } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c, e);
            throw e;
          }
        } catch (SQLException e) {
          // Two PostgreSQL sessions running CREATE TABLE IF NOT EXISTS at once: the loser can
          // fail on the catalog's unique index (23505) instead of seeing the table. Once more
          // then finds it.
          if (attempt < 3 && SqlErrors.uniqueViolation(e)) {
            log.debug("Concurrent schema creation on {}, checking again", where, e);
            continue;
          }
          throw SqlErrors.translate("creating the offsets table", where, e);
        }
      }
      schemaReady = true;
    }
    log.info("Offsets table ready on {}", where);
  }

  private void ensureSchema() {
    if (config.createSchema() && !schemaReady) {
      prepare();
    }
  }

  @Override
  public Capabilities capabilities() {
    checkOpen();
    Capabilities known = capabilities;
    if (known == null) {
      known = probeCapabilities();
      capabilities = known;
    }
    return known;
  }

  /** Asks the server how it flushes commits, once per store. */
  private Capabilities probeCapabilities() {
    boolean durable;
    String detail;
    try (Connection c = borrow()) {
      try {
        switch (dialect) {
          case POSTGRESQL -> {
            String fsync = show(c, "SHOW fsync");
            String syncCommit = show(c, "SHOW synchronous_commit");
            durable = "on".equals(fsync) && !"off".equals(syncCommit);
            detail =
                "PostgreSQL "
                    + show(c, "SHOW server_version")
                    + ", fsync="
                    + fsync
                    + ", synchronous_commit="
                    + syncCommit;
          }
          case MARIADB, MYSQL -> {
            String flush = show(c, "SELECT @@innodb_flush_log_at_trx_commit");
            durable = "1".equals(flush);
            detail =
                c.getMetaData().getDatabaseProductName()
                    + " "
                    + show(c, "SELECT VERSION()")
                    + ", innodb_flush_log_at_trx_commit="
                    + flush;
          }
          case H2 -> {
            String url = c.getMetaData().getURL().toLowerCase(Locale.ROOT);
            boolean memory = url.startsWith("jdbc:h2:mem:");
            String writeDelay =
                show(
                    c,
                    "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS"
                        + " WHERE SETTING_NAME = 'WRITE_DELAY'");
            // H2 writes committed changes to the file after WRITE_DELAY ms (default 500): a
            // crash inside that window loses commits that returned. Checked with H2 2.5.252: 300
            // single-row commits, then Runtime.halt: with the default, 4 runs kept 0 (not even
            // the table), 250, 0 and 66 rows; with WRITE_DELAY=0 all 4 runs kept 300. (A process
            // crash only: power loss could not be tested here.)
            durable = !memory && "0".equals(writeDelay);
            detail =
                "H2 "
                    + c.getMetaData().getDatabaseProductVersion()
                    + (memory ? ", in memory" : ", file, WRITE_DELAY=" + writeDelay);
          }
          default -> throw new IllegalStateException("dialect " + dialect);
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate("reading the server's settings", where, e);
    }
    return new Capabilities(
        Guarantee.TRANSACTIONAL,
        true,
        MAX_RANGES_PER_COMMIT,
        durable,
        "JDBC " + detail + ", table " + config.tableName() + (durable ? "" : " (NOT durable)"));
  }

  private static String show(Connection c, String query) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      return rs.next() ? String.valueOf(rs.getString(1)).toLowerCase(Locale.ROOT) : "unknown";
    }
  }

  @Override
  public Class<Connection> handleType() {
    return Connection.class;
  }

  @Override
  public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
    StoreArguments.group(group);
    List<Partition> wanted = StoreArguments.partitions(partitions);
    checkOpen();
    if (wanted.isEmpty()) {
      return Collections.emptyMap();
    }
    ensureSchema();
    try (Connection c = borrow()) {
      try {
        Map<Partition, Long> found = read(c, group, wanted);
        c.commit();
        return answer(found);
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate("reading positions of group '" + group + "'", where, e);
    }
  }

  /** Reads the positions of some partitions: one query per topic, filtered here. */
  private Map<Partition, Long> read(Connection c, String group, Collection<Partition> wanted)
      throws SQLException {
    Set<Partition> wantedSet = new TreeSet<>(wanted);
    Set<String> topics = new LinkedHashSet<>();
    wanted.forEach(p -> topics.add(p.topic()));
    Map<Partition, Long> found = new TreeMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql.selectTopic)) {
      for (String topic : topics) {
        ps.setString(1, group);
        ps.setString(2, topic);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Partition p = new Partition(rs.getString(1), rs.getInt(2));
            if (wantedSet.contains(p)) {
              found.put(p, rs.getLong(3));
            }
          }
        }
      }
    }
    return found;
  }

  @Override
  public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
    StoreArguments.group(group);
    Map<Partition, Long> sorted = StoreArguments.positions(starts);
    checkOpen();
    if (sorted.isEmpty()) {
      return Collections.emptyMap();
    }
    ensureSchema();
    return writePositions(
        "initializing positions of group '" + group + "'", sql.insertIfAbsent, group, sorted, true);
  }

  @Override
  public void overwrite(String group, Map<Partition, Long> positions) {
    StoreArguments.group(group);
    Map<Partition, Long> sorted = StoreArguments.positions(positions);
    checkOpen();
    if (sorted.isEmpty()) {
      return;
    }
    ensureSchema();
    writePositions(
        "overwriting positions of group '" + group + "'", sql.upsert, group, sorted, false);
  }

  /**
   * Runs an insert-if-absent or an upsert for every position in one transaction. On H2 (and in
   * principle anywhere an insert races another insert of the same new key) the loser gets a unique
   * violation; the transaction is then run again, and the key now exists.
   */
  private Map<Partition, Long> writePositions(
      String action,
      String statement,
      String group,
      Map<Partition, Long> sorted,
      boolean readBack) {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = borrow()) {
        try {
          try (PreparedStatement ps = c.prepareStatement(statement)) {
            for (Map.Entry<Partition, Long> e : sorted.entrySet()) {
              ps.setString(1, group);
              ps.setString(2, e.getKey().topic());
              ps.setInt(3, e.getKey().partition());
              ps.setLong(4, e.getValue());
              ps.addBatch();
            }
            ps.executeBatch();
          }
          Map<Partition, Long> now = readBack ? read(c, group, sorted.keySet()) : Map.of();
          c.commit();
          return answer(now);
        } catch (SQLException | RuntimeException e) {
          rollbackQuietly(c, e);
          throw e;
        }
      } catch (SQLException e) {
        if (attempt < CONCURRENCY_ATTEMPTS
            && (SqlErrors.uniqueViolation(e) || SqlErrors.concurrency(e))) {
          log.debug("Concurrent write while {}, running it again", action, e);
          continue;
        }
        throw SqlErrors.translate(action, where, e);
      }
    }
  }

  @Override
  public void commit(
      String group, Collection<OffsetRange> ranges, ResultWriter<Connection> results) {
    StoreArguments.group(group);
    List<OffsetRange> sorted = StoreArguments.ranges(ranges, MAX_RANGES_PER_COMMIT);
    StoreArguments.results(results);
    checkOpen();
    ensureSchema();
    String action = "committing group '" + group + "'";
    for (int attempt = 1; ; attempt++) {
      List<OffsetRange> mismatched;
      try {
        mismatched = commitOnce(group, sorted, results);
      } catch (ConcurrencyFailure e) {
        concurrencyFailures.incrementAndGet();
        // Not a verdict by itself: see the class comment. The positions decide.
        List<Conflict> conflicts = conflicts(group, sorted, action);
        if (!conflicts.isEmpty()) {
          log.debug("{}: {} resolved as conflict after re-reading", action, e.getMessage());
          throw conflictException(group, conflicts);
        }
        if (attempt >= CONCURRENCY_ATTEMPTS) {
          throw new StoreUnavailableException(
              "Gave up "
                  + action
                  + " after "
                  + attempt
                  + " serialization failures, deadlocks or lock timeouts ("
                  + where
                  + "); positions are unchanged. Retriable.",
              e.getCause());
        }
        log.warn(
            "{}: {} on attempt {}; positions unchanged, running the transaction again",
            action,
            SqlErrors.describe(e.getCause()),
            attempt);
        continue;
      }
      if (mismatched.isEmpty()) {
        return;
      }
      List<Conflict> conflicts = conflicts(group, mismatched, action);
      if (conflicts.isEmpty()) {
        // The rows moved back to the expected positions between our UPDATE and our read: only an
        // overwrite does that. Nothing was committed; report what the UPDATE saw.
        conflicts = new ArrayList<>();
        for (OffsetRange r : mismatched) {
          conflicts.add(Conflict.missing(r.partition(), r.from()));
        }
      }
      throw conflictException(group, conflicts);
    }
  }

  private static OffsetConflictException conflictException(String group, List<Conflict> conflicts) {
    OffsetConflictException e = new OffsetConflictException(group, conflicts);
    log.debug("Offset conflict: {}", e.getMessage());
    return e;
  }

  /** Reads the positions after a failed attempt and lists each range they do not match. */
  private List<Conflict> conflicts(String group, List<OffsetRange> ranges, String action) {
    List<Partition> partitions = new ArrayList<>(ranges.size());
    ranges.forEach(r -> partitions.add(r.partition()));
    Map<Partition, Long> now;
    try (Connection c = borrow()) {
      try {
        now = read(c, group, partitions);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate(action + " (reading positions after a conflict)", where, e);
    }
    return Conflicts.of(ranges, now);
  }

  /**
   * One transaction. Returns the ranges whose conditional UPDATE matched no row (after rolling
   * back), or an empty list when everything committed.
   */
  private List<OffsetRange> commitOnce(
      String group, List<OffsetRange> sorted, ResultWriter<Connection> results) {
    String action = "committing group '" + group + "'";
    boolean committing = false;
    try (Connection c = borrow()) {
      try {
        List<OffsetRange> mismatched = advance(c, group, sorted);
        if (!mismatched.isEmpty()) {
          c.rollback();
          return mismatched;
        }
        writeResults(c, group, results);
        committing = true;
        c.commit();
        return List.of();
      } catch (Throwable e) {
        rollbackQuietly(c, e);
        throw e;
      }
    } catch (SQLException e) {
      if (SqlErrors.concurrency(e)) {
        throw new ConcurrencyFailure(e);
      }
      if (committing && SqlErrors.unavailable(e) && !SqlErrors.accessDenied(e)) {
        throw new StoreUnavailableException(
            "Connection lost during COMMIT while "
                + action
                + " ("
                + where
                + "): the outcome is unknown. Re-read positions: if they stand at the ranges'"
                + " ends the commit went through. "
                + SqlErrors.describe(e),
            e);
      }
      throw SqlErrors.translate(action, where, e);
    }
  }

  /**
   * The conditional advance of every range, in one round trip where the dialect allows: one
   * statement on PostgreSQL and MariaDB/MySQL, a JDBC batch of single-row UPDATEs on H2 (which runs
   * its transactions one at a time in this JVM anyway). Returns the ranges whose stored position
   * was not their start; the caller rolls back if there are any.
   */
  private List<OffsetRange> advance(Connection c, String group, List<OffsetRange> sorted)
      throws SQLException {
    if (sorted.size() > 1) {
      if (sql.advanceAll != null) {
        return advanceAll(c, group, sorted);
      }
      if (dialect.mysqlFamily()) {
        return advanceMany(c, group, sorted);
      }
    }
    return advanceEach(c, group, sorted);
  }

  /** PostgreSQL: one UPDATE over arrays of the ranges; RETURNING names the rows it moved. */
  private List<OffsetRange> advanceAll(Connection c, String group, List<OffsetRange> sorted)
      throws SQLException {
    int n = sorted.size();
    String[] topics = new String[n];
    Integer[] partitions = new Integer[n];
    Long[] froms = new Long[n];
    Long[] untils = new Long[n];
    for (int i = 0; i < n; i++) {
      OffsetRange r = sorted.get(i);
      topics[i] = r.partition().topic();
      partitions[i] = r.partition().partition();
      froms[i] = r.from();
      untils[i] = r.until();
    }
    Set<Partition> moved = new HashSet<>();
    try (PreparedStatement ps = c.prepareStatement(sql.advanceAll)) {
      ps.setArray(1, c.createArrayOf("text", topics));
      ps.setArray(2, c.createArrayOf("int4", partitions));
      ps.setArray(3, c.createArrayOf("int8", froms));
      ps.setArray(4, c.createArrayOf("int8", untils));
      ps.setString(5, group);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          moved.add(new Partition(rs.getString(1), rs.getInt(2)));
        }
      }
    }
    if (moved.size() == n) {
      return List.of();
    }
    List<OffsetRange> mismatched = new ArrayList<>();
    for (OffsetRange r : sorted) {
      if (!moved.contains(r.partition())) {
        mismatched.add(r);
      }
    }
    return mismatched;
  }

  /** The most ranges in one MariaDB/MySQL statement (its text grows with the count). */
  static final int RANGES_PER_STATEMENT = 1_000;

  /**
   * MariaDB/MySQL: one multi-table UPDATE per {@value #RANGES_PER_STATEMENT} ranges; its count says
   * whether all matched. When one did not, the transaction's work is rolled back and the ranges are
   * advanced again one by one, which names exactly the ranges that do not match (the rare path: a
   * conflict costs one more round trip).
   */
  private List<OffsetRange> advanceMany(Connection c, String group, List<OffsetRange> sorted)
      throws SQLException {
    for (int start = 0; start < sorted.size(); start += RANGES_PER_STATEMENT) {
      List<OffsetRange> chunk =
          sorted.subList(start, Math.min(sorted.size(), start + RANGES_PER_STATEMENT));
      int count;
      try (PreparedStatement ps = c.prepareStatement(sql.advanceMany(chunk.size()))) {
        int i = 1;
        for (OffsetRange r : chunk) {
          ps.setString(i++, r.partition().topic());
          ps.setInt(i++, r.partition().partition());
          ps.setLong(i++, r.from());
          ps.setLong(i++, r.until());
        }
        ps.setString(i, group);
        count = ps.executeUpdate();
      }
      if (count != chunk.size()) {
        c.rollback();
        return advanceEach(c, group, sorted);
      }
    }
    return List.of();
  }

  /** The conditional UPDATEs, batched; returns the ranges whose count was not 1. */
  private List<OffsetRange> advanceEach(Connection c, String group, List<OffsetRange> sorted)
      throws SQLException {
    int[] counts = null;
    try (PreparedStatement ps = c.prepareStatement(sql.advance)) {
      if (!batchCountsUnreliable) {
        for (OffsetRange r : sorted) {
          bindAdvance(ps, group, r);
          ps.addBatch();
        }
        counts = ps.executeBatch();
        if (counts.length != sorted.size() || anyUnknown(counts)) {
          // A driver that sends the batch in bulk may answer SUCCESS_NO_INFO: the count is the
          // whole point here, so fall back to one statement at a time, on this store from now on.
          log.info(
              "The JDBC driver gives no per-statement update counts for batches ({}); using"
                  + " single statements",
              where);
          batchCountsUnreliable = true;
          c.rollback();
          counts = null;
        }
      }
      if (counts == null) {
        counts = new int[sorted.size()];
        for (int i = 0; i < sorted.size(); i++) {
          bindAdvance(ps, group, sorted.get(i));
          counts[i] = ps.executeUpdate();
        }
      }
    }
    List<OffsetRange> mismatched = new ArrayList<>();
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 1) {
        mismatched.add(sorted.get(i));
      }
    }
    return mismatched;
  }

  /** Serialization failures, deadlocks and lock timeouts met by commits so far (for tests). */
  long concurrencyFailures() {
    return concurrencyFailures.get();
  }

  /** Whether this store found its driver's batch update counts unusable (for tests). */
  boolean batchCountsUnreliable() {
    return batchCountsUnreliable;
  }

  private static boolean anyUnknown(int[] counts) {
    for (int n : counts) {
      if (n == Statement.SUCCESS_NO_INFO) {
        return true;
      }
    }
    return false;
  }

  private static void bindAdvance(PreparedStatement ps, String group, OffsetRange r)
      throws SQLException {
    ps.setLong(1, r.until());
    ps.setString(2, group);
    ps.setString(3, r.partition().topic());
    ps.setInt(4, r.partition().partition());
    ps.setLong(5, r.from());
  }

  /** Runs the writer on the transaction's connection, guarded; classifies what it throws. */
  private void writeResults(Connection c, String group, ResultWriter<Connection> results)
      throws SQLException {
    HandleGuard guard = HandleGuard.of(c);
    try {
      results.write(guard.handle());
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      // A deadlock or serialization failure in the writer's own statements is the database's
      // verdict on concurrency, not a fault of the writer: retried like ours. A lost connection is
      // an outage. Anything else is the writer's failure.
      SQLException sqlCause =
          SqlErrors.sqlExceptions(e).isEmpty() ? null : SqlErrors.sqlExceptions(e).get(0);
      if (sqlCause != null && (SqlErrors.concurrency(e) || SqlErrors.unavailable(e))) {
        throw sqlCause;
      }
      throw new ResultWriteException(
          "The result writer failed while committing group '"
              + group
              + "': "
              + e
              + ". Nothing was committed: no result and no position.",
          e);
    } finally {
      guard.invalidate();
    }
  }

  @Override
  public Set<String> groups() {
    checkOpen();
    ensureSchema();
    try (Connection c = borrow()) {
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery(sql.selectGroups)) {
        Set<String> groups = new TreeSet<>();
        while (rs.next()) {
          groups.add(rs.getString(1));
        }
        c.commit();
        return Collections.unmodifiableSet(new LinkedHashSet<>(groups));
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate("listing groups", where, e);
    }
  }

  @Override
  public Map<Partition, Long> positions(String group) {
    StoreArguments.group(group);
    checkOpen();
    ensureSchema();
    try (Connection c = borrow()) {
      try (PreparedStatement ps = c.prepareStatement(sql.selectGroup)) {
        ps.setString(1, group);
        Map<Partition, Long> found = new TreeMap<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            found.put(new Partition(rs.getString(1), rs.getInt(2)), rs.getLong(3));
          }
        }
        c.commit();
        return answer(found);
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate("reading positions of group '" + group + "'", where, e);
    }
  }

  /**
   * What read methods return: unmodifiable, in partition order, and tolerant of {@code
   * containsKey(null)} (answering false), which the immutable {@code Map.of} and a {@code TreeMap}
   * are not.
   */
  private static Map<Partition, Long> answer(Map<Partition, Long> sorted) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(sorted));
  }

  @Override
  public boolean delete(String group) {
    StoreArguments.group(group);
    checkOpen();
    ensureSchema();
    try (Connection c = borrow()) {
      try (PreparedStatement ps = c.prepareStatement(sql.deleteGroup)) {
        ps.setString(1, group);
        int n = ps.executeUpdate();
        c.commit();
        log.info("Deleted {} position(s) of group '{}' on {}", n, group, where);
        return n > 0;
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate("deleting group '" + group + "'", where, e);
    }
  }

  @Override
  public int delete(String group, Collection<Partition> partitions) {
    StoreArguments.group(group);
    List<Partition> sorted = StoreArguments.partitions(partitions);
    checkOpen();
    if (sorted.isEmpty()) {
      return 0;
    }
    ensureSchema();
    try (Connection c = borrow()) {
      try (PreparedStatement ps = c.prepareStatement(sql.deletePartition)) {
        int n = 0;
        // One statement at a time: the sum of counts must be exact, and some drivers answer
        // SUCCESS_NO_INFO for batches. Deletes are administration, not the hot path.
        for (Partition p : sorted) {
          ps.setString(1, group);
          ps.setString(2, p.topic());
          ps.setInt(3, p.partition());
          n += ps.executeUpdate();
        }
        c.commit();
        log.info("Deleted {} position(s) of group '{}' on {}", n, group, where);
        return n;
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate("deleting positions of group '" + group + "'", where, e);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (ownPool != null) {
      ownPool.close();
    }
    log.info("Closed JDBC offset store on {}", where);
  }

  @Override
  public String toString() {
    return "JdbcOffsetStore[" + where + ", " + dialect.id() + "]";
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("JdbcOffsetStore on " + where + " is closed");
    }
  }

  /**
   * A connection in manual-commit mode; closing it gives it back with auto-commit as it was. On H2
   * it is borrowed under the database's lock, which closing it releases (see the class comment).
   */
  private Connection borrow() throws SQLException {
    if (serial == null) {
      return borrowConnection();
    }
    try {
      serial.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException(
          "Interrupted while waiting for another transaction of this JVM on " + where, e);
    }
    try {
      return SerializedConnection.wrap(borrowConnection(), serial);
    } catch (SQLException | RuntimeException | Error e) {
      serial.unlock();
      throw e;
    }
  }

  private Connection borrowConnection() throws SQLException {
    Connection c = dataSource.getConnection();
    try {
      if (ownPool == null && c.getAutoCommit()) {
        c.setAutoCommit(false);
        return RestoringConnection.wrap(c);
      }
      if (c.getAutoCommit()) {
        c.setAutoCommit(false);
      }
      return c;
    } catch (SQLException | RuntimeException e) {
      try {
        c.close();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private void rollbackQuietly(Connection c, Throwable cause) {
    try {
      c.rollback();
    } catch (SQLException | RuntimeException e) {
      cause.addSuppressed(e);
      log.debug("Rollback failed on {}", where, e);
    }
  }

  /** Marks an SQLException that is a concurrency verdict, to be resolved by re-reading. */
  private static final class ConcurrencyFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ConcurrencyFailure(SQLException cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }
}
