package io.tandem.cassandra;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.cql.Statement;
import com.datastax.oss.driver.api.core.metadata.schema.TableMetadata;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import io.tandem.cassandra.internal.DriverErrors;
import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.InvalidBatchException;
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
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offsets in Apache Cassandra: keyed result writes first, then one lightweight-transaction (LWT)
 * batch that moves all the commit's offsets.
 *
 * <h2>Layout</h2>
 *
 * Table {@code <keyspace>.<table>} (default {@code tandem.tandem_offsets}), columns {@code
 * group_id}, {@code topic}, {@code partition_id}, {@code position} (the next offset to read) and
 * {@code commit_id} (a random UUID per commit). Its primary key depends on the {@link
 * CassandraLayout}:
 *
 * <ul>
 *   <li>{@link CassandraLayout#PARTITION}: partition key {@code (group_id, topic, partition_id)}.
 *       Each Kafka partition's position is its own Cassandra partition, so each range of a commit
 *       is its own LWT and members of a group that own disjoint partitions never compete for one
 *       Paxos round. A commit of several ranges is not atomic across them ({@code
 *       atomicAcrossPartitions} false; the runtime commits one partition per call). Listing a
 *       group's partitions scans the table's partition keys (administration only).
 *   <li>{@link CassandraLayout#GROUP} (default): partition key {@code group_id}, clustering {@code
 *       (topic, partition_id)}. A group's positions are rows of one Cassandra partition, so one
 *       conditional batch moves any number of them: Cassandra applies a conditional batch on one
 *       partition through one Paxos round, all rows or none. Every member of the group competes for
 *       that partition's Paxos round.
 * </ul>
 *
 * Below, "the conditional batch" is the group's one batch, or each range's own in the partition
 * layout.
 *
 * <h2>Commit ({@link Guarantee#IDEMPOTENT})</h2>
 *
 * <ol>
 *   <li>The result writer adds statements to a {@link CassandraResults}; every one must be marked
 *       idempotent, or the commit is refused before anything runs.
 *   <li>The statements run, {@link CassandraStoreConfig#resultConcurrency()} at a time. If one
 *       fails, no offset moves; results already written stay (a replay overwrites them).
 *   <li>One conditional batch: {@code UPDATE ... SET position = :until, commit_id = :id WHERE
 *       group_id = ? AND topic = ? AND partition_id = ? IF position = :from} for every range. Not
 *       applied: the rows Cassandra returns carry the current positions, and every mismatch (a
 *       missing row is "no position") is reported in one {@link OffsetConflictException}.
 * </ol>
 *
 * Results are therefore <em>not</em> atomic with the offsets: a crash between steps 2 and 3 leaves
 * results without offsets, which the replay of the same records overwrites. Offsets never move
 * without their results. The offsets of one commit are atomic with each other.
 *
 * <h2>Unknown outcomes</h2>
 *
 * An LWT can fail after reaching a coordinator: a write timeout in the Paxos phase ({@code
 * WriteType.CAS}) or the commit phase, {@code UnavailableException} in the commit phase, {@code
 * CAS_WRITE_UNKNOWN}, a lost connection or heartbeat, a client timeout. The store never guesses: it
 * reads the positions back at the serial consistency. A SERIAL read is itself a Paxos round on the
 * partition: its prepare phase finds any proposal accepted but not committed and completes it
 * before reading, and the ballot it promises makes any older, still-running proposal fail. So after
 * the read, the LWT either took effect (visible) or can no longer take effect with its original
 * ballot. The {@code commit_id} written with the positions tells this commit's write apart from
 * another commit of the same range: any row with our id means applied; every position still at
 * {@code from} means not applied (the batch is sent again, up to {@link
 * CassandraStoreConfig#lwtAttempts()} times; the results are already written, so that is safe);
 * anything else is a conflict. A coordinator still retrying the same LWT after the client gave up
 * could apply it after the read said "not applied"; the retry then finds our {@code commit_id}, and
 * if the store had already given up, offsets moved with their results already written, which is the
 * invariant that matters.
 *
 * <h2>Consistency and durability</h2>
 *
 * Paxos runs at {@link CassandraStoreConfig#serialConsistency()} (default {@code LOCAL_SERIAL}),
 * its commit at {@link CassandraStoreConfig#writeConsistency()} (default {@code LOCAL_QUORUM});
 * result statements with no level of their own run at the write consistency too. Every write to the
 * offsets table is an LWT (admin operations included): mixing LWT and plain writes on the same
 * cells lets a plain write's client timestamp lose against a Paxos ballot timestamp. Cassandra
 * acknowledges a write once it is in the commit log of the replicas required. With the default
 * {@code commitlog_sync: periodic} (10 s) a crashed node, even one only killed, replays its log up
 * to the last sync and loses the acknowledged writes after it; a commit then survives only on
 * replicas that did not crash, so {@link #capabilities()} reports durable only for {@code batch} or
 * {@code group} sync. Either way a crash loses a suffix of the log, never results without the
 * offsets that followed them.
 *
 * <p>The schema is created only by {@link #createSchema(CassandraReplication)} or {@link
 * #createTable()}; thread-safe; {@link #close()} closes the session only if the store opened it.
 */
public final class CassandraOffsetStore implements OffsetStore<CassandraResults> {

  private static final Logger log = LoggerFactory.getLogger(CassandraOffsetStore.class);

  /** Reads by partition list beyond this size read the whole group instead. */
  private static final int IN_LIMIT = 256;

  /**
   * Partitions per {@code IN} read in the partition layout: each is its own Cassandra partition, so
   * the coordinator fans the query out; a hundred keeps one query's work modest.
   */
  private static final int KEYS_PER_READ = 100;

  /** Attempts of an admin LWT (initialize, overwrite, delete) that loses a race. */
  private static final int ADMIN_ATTEMPTS = 10;

  /** Attempts of the serial read that resolves an unknown outcome. */
  private static final int RESOLVE_ATTEMPTS = 5;

  private final CassandraStoreConfig config;
  private final CqlSession session;
  private final boolean ownsSession;
  private final String qualifiedTable;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile Prepared prepared;
  private volatile Capabilities capabilities;

  private CassandraOffsetStore(CassandraStoreConfig config, CqlSession session, boolean owns) {
    this.config = config;
    this.session = session;
    this.ownsSession = owns;
    this.qualifiedTable = config.keyspace() + "." + config.table();
  }

  /**
   * Opens a store; it is usable at once (the offsets table must exist before the first offset
   * operation: see {@link #createSchema(CassandraReplication)}).
   *
   * @param config the configuration
   * @return the store
   * @throws StoreUnavailableException if no contact point answers
   */
  public static CassandraOffsetStore open(CassandraStoreConfig config) {
    Objects.requireNonNull(config, "config must not be null");
    if (config.session().isPresent()) {
      return new CassandraOffsetStore(config, config.session().get(), false);
    }
    DriverConfigLoader loader =
        DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, config.requestTimeout())
            .withDuration(
                DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, config.requestTimeout())
            .withDuration(DefaultDriverOption.CONTROL_CONNECTION_TIMEOUT, config.requestTimeout())
            .withDuration(
                DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, config.requestTimeout())
            .withString(DefaultDriverOption.REQUEST_CONSISTENCY, config.readConsistency().name())
            .withString(
                DefaultDriverOption.REQUEST_SERIAL_CONSISTENCY, config.serialConsistency().name())
            .build();
    CqlSessionBuilder builder =
        CqlSession.builder().withConfigLoader(loader).withLocalDatacenter(config.localDatacenter());
    for (InetSocketAddress point : config.contactPoints()) {
      builder.addContactPoint(new InetSocketAddress(point.getHostString(), point.getPort()));
    }
    config.user().ifPresent(u -> builder.withAuthCredentials(u, config.password().get()));
    try {
      CqlSession session = builder.build();
      log.info("Opened Cassandra offset store {}", config);
      return new CassandraOffsetStore(config, session, true);
    } catch (RuntimeException e) {
      throw DriverErrors.map(e, "connecting to " + config.contactPoints());
    }
  }

  /**
   * Creates the keyspace with the given replication if it does not exist, then the offsets table if
   * it does not exist. Idempotent. An existing keyspace keeps its replication.
   *
   * @param replication the keyspace's replication; there is no default on purpose
   * @throws StoreUnavailableException if the cluster cannot be reached
   */
  public void createSchema(CassandraReplication replication) {
    Objects.requireNonNull(replication, "replication must not be null");
    execute(
        "CREATE KEYSPACE IF NOT EXISTS "
            + config.keyspace()
            + " WITH replication = "
            + replication.cql(),
        "creating keyspace " + config.keyspace());
    createTable();
  }

  /**
   * Creates the offsets table in an existing keyspace if it does not exist. Idempotent.
   *
   * @throws StoreConfigurationException if the keyspace does not exist
   * @throws StoreUnavailableException if the cluster cannot be reached
   */
  public void createTable() {
    String ddl =
        resource(
                config.layout() == CassandraLayout.GROUP
                    ? "offsets-table.cql"
                    : "offsets-table-partition.cql")
            .replace("${keyspace}", config.keyspace())
            .replace("${table}", config.table());
    execute(ddl, "creating table " + qualifiedTable);
    log.info("Offsets table {} ({} layout) is in place", qualifiedTable, config.layout());
  }

  /**
   * Creates the offsets table if it does not exist, as {@link #createTable()} does. The keyspace is
   * not created here: its replication is the operator's decision, made once with {@link
   * #createSchema(CassandraReplication)} (or the URI option {@code createSchema}). Idempotent.
   *
   * @throws StoreConfigurationException if the keyspace does not exist
   * @throws StoreUnavailableException if the cluster cannot be reached
   */
  @Override
  public void prepare() {
    checkOpen();
    createTable();
  }

  private void execute(String cql, String action) {
    try {
      session.execute(
          SimpleStatement.newInstance(cql).setTimeout(config.requestTimeout().multipliedBy(3)));
    } catch (RuntimeException e) {
      throw DriverErrors.map(e, action);
    }
  }

  private static String resource(String name) {
    try (InputStream in = CassandraOffsetStore.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read resource " + name, e);
    }
  }

  /**
   * The session this store uses.
   *
   * @return the session
   */
  public CqlSession session() {
    return session;
  }

  /**
   * This store's configuration.
   *
   * @return the configuration
   */
  public CassandraStoreConfig config() {
    return config;
  }

  @Override
  public Capabilities capabilities() {
    Capabilities caps = capabilities;
    if (caps == null) {
      caps = readCapabilities();
      capabilities = caps;
    }
    return caps;
  }

  private Capabilities readCapabilities() {
    String version = "?";
    try {
      Row row = session.execute("SELECT release_version FROM system.local").one();
      if (row != null) {
        version = row.getString(0);
      }
    } catch (RuntimeException e) {
      throw DriverErrors.map(e, "reading the server version");
    }
    Map<String, String> settings = new HashMap<>();
    try {
      // Virtual table, Cassandra 4.0+: the node's live configuration.
      for (Row row : session.execute("SELECT name, value FROM system_views.settings")) {
        settings.put(row.getString(0), row.getString(1));
      }
    } catch (RuntimeException e) {
      log.debug("system_views.settings unreadable: {}", e.toString());
    }
    String sync = settings.getOrDefault("commitlog_sync", "unknown");
    String period =
        settings.getOrDefault(
            "commitlog_sync_period", settings.getOrDefault("commitlog_sync_period_in_ms", "?"));
    // periodic: a write is acknowledged once appended to the commit log, which is fsynced and its
    // new section marked valid every period; replay after a crash stops at the first unmarked
    // section, so even a kill -9 of the process loses up to a period of acknowledged writes on
    // that node (observed in CassandraCrashIT). batch/group acknowledge after the fsync.
    boolean durable = "batch".equals(sync) || "group".equals(sync);
    String description =
        "Cassandra "
            + version
            + ", table "
            + qualifiedTable
            + (config.layout() == CassandraLayout.GROUP
                ? ": results as keyed writes (not atomic with offsets), then one LWT batch per"
                    + " commit moves all its offsets atomically (group layout, Paxos "
                : ": results as keyed writes (not atomic with offsets), then one LWT per range,"
                    + " each Kafka partition its own Cassandra partition (partition layout, not"
                    + " atomic across partitions; Paxos ")
            + config.serialConsistency()
            + ", commit "
            + config.writeConsistency()
            + "); commitlog_sync="
            + sync
            + ("periodic".equals(sync)
                ? " (fsync every "
                    + period
                    + ": a crash of a node loses up to that much of its acknowledged writes;"
                    + " a commit survives only where a quorum of replicas did not crash together)"
                : "");
    return new Capabilities(
        Guarantee.IDEMPOTENT,
        config.layout() == CassandraLayout.GROUP,
        config.maxRangesPerCommit(),
        durable,
        description);
  }

  @Override
  public Class<CassandraResults> handleType() {
    return CassandraResults.class;
  }

  // ---------------------------------------------------------------- reads

  @Override
  public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
    StoreArguments.group(group);
    List<Partition> sorted = StoreArguments.partitions(partitions);
    Map<Partition, Long> out = new TreeMap<>();
    // SERIAL, not readConsistency: a commit whose LWT was accepted but not yet committed when a
    // node died (seen after kill -9 in CassandraCrashIT) is invisible to a QUORUM read until a
    // Paxos round completes it. A SERIAL read completes it, so the position a consumer seeks to
    // is the one the next conditional batch will compare with, not a stale one that would only
    // cost a conflict and a re-read. Positions are read on assignment, not per commit.
    read(group, sorted, config.serialConsistency())
        .forEach((p, stored) -> out.put(p, stored.position()));
    return sortedView(out);
  }

  @Override
  public Map<Partition, Long> positions(String group) {
    StoreArguments.group(group);
    Map<Partition, Long> out = new TreeMap<>();
    // SERIAL for the same reason as positions(group, partitions).
    readGroup(group, config.serialConsistency()).forEach((p, s) -> out.put(p, s.position()));
    return sortedView(out);
  }

  /**
   * Sorted by partition, unmodifiable, and answering {@code containsKey(null)} with false (a
   * TreeMap or Map.copyOf would throw), as callers of a plain Map expect.
   */
  private static Map<Partition, Long> sortedView(Map<Partition, Long> sorted) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(sorted));
  }

  /** Every row of the group, optionally only those in {@code filter}. */
  private Map<Partition, Stored> readGroup(String group, ConsistencyLevel consistency) {
    if (config.layout() == CassandraLayout.PARTITION) {
      // The group is spread over many Cassandra partitions: find its keys by a scan of the
      // table's partition keys (cost grows with the whole table; administration only, the
      // runtime reads named partitions), then read each under the requested consistency.
      return readKeys(group, groupKeys(group), consistency);
    }
    Map<Partition, Stored> out = new TreeMap<>();
    try {
      ResultSet rs =
          session.execute(prepared().selectGroup.bind(group).setConsistencyLevel(consistency));
      for (Row row : rs) {
        put(out, new Partition(row.getString(0), row.getInt(1)), row, 2);
      }
    } catch (OffsetStoreException e) {
      throw e;
    } catch (RuntimeException e) {
      throw DriverErrors.map(e, "reading positions of group '" + group + "'");
    }
    return out;
  }

  private Map<Partition, Stored> read(
      String group, List<Partition> partitions, ConsistencyLevel consistency) {
    if (partitions.isEmpty()) {
      return Map.of();
    }
    if (config.layout() == CassandraLayout.PARTITION) {
      return readKeys(group, partitions, consistency);
    }
    if (partitions.size() > IN_LIMIT) {
      Map<Partition, Stored> all = readGroup(group, consistency);
      Map<Partition, Stored> out = new TreeMap<>();
      for (Partition p : partitions) {
        Stored s = all.get(p);
        if (s != null) {
          out.put(p, s);
        }
      }
      return out;
    }
    Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
    for (Partition p : partitions) {
      byTopic.computeIfAbsent(p.topic(), t -> new ArrayList<>()).add(p.partition());
    }
    Map<Partition, Stored> out = new TreeMap<>();
    try {
      for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
        ResultSet rs =
            session.execute(
                prepared()
                    .selectTopic
                    .bind(group, e.getKey(), e.getValue())
                    .setConsistencyLevel(consistency));
        for (Row row : rs) {
          put(out, new Partition(e.getKey(), row.getInt(0)), row, 1);
        }
      }
    } catch (OffsetStoreException e) {
      throw e;
    } catch (RuntimeException e) {
      throw DriverErrors.map(e, "reading positions of group '" + group + "'");
    }
    return out;
  }

  /**
   * Partition layout: {@code IN} queries of up to {@link #KEYS_PER_READ} partitions of one topic,
   * or under SERIAL consistency (which may name one Cassandra partition only) one read per
   * partition; {@link CassandraStoreConfig#resultConcurrency()} queries in flight at once (10 000
   * single reads one window at a time took over a minute on a loaded node).
   */
  private Map<Partition, Stored> readKeys(
      String group, List<Partition> partitions, ConsistencyLevel consistency) {
    boolean serial =
        consistency == ConsistencyLevel.SERIAL || consistency == ConsistencyLevel.LOCAL_SERIAL;
    List<List<Partition>> queries = new ArrayList<>();
    if (serial) {
      partitions.forEach(p -> queries.add(List.of(p)));
    } else {
      Map<String, List<Partition>> byTopic = new LinkedHashMap<>();
      for (Partition p : partitions) {
        byTopic.computeIfAbsent(p.topic(), t -> new ArrayList<>()).add(p);
      }
      for (List<Partition> topic : byTopic.values()) {
        for (int i = 0; i < topic.size(); i += KEYS_PER_READ) {
          queries.add(topic.subList(i, Math.min(topic.size(), i + KEYS_PER_READ)));
        }
      }
    }
    Prepared ps = prepared();
    Map<Partition, Stored> out = new TreeMap<>();
    try {
      int window = config.resultConcurrency();
      for (int i = 0; i < queries.size(); i += window) {
        List<List<Partition>> slice = queries.subList(i, Math.min(queries.size(), i + window));
        List<CompletableFuture<AsyncResultSet>> futures = new ArrayList<>(slice.size());
        for (List<Partition> q : slice) {
          Statement<?> statement;
          if (q.size() == 1) {
            Partition p = q.get(0);
            statement = ps.selectOne.bind(group, p.topic(), p.partition());
          } else {
            List<Integer> ids = new ArrayList<>(q.size());
            q.forEach(p -> ids.add(p.partition()));
            statement = ps.selectTopic.bind(group, q.get(0).topic(), ids);
          }
          futures.add(
              session
                  .executeAsync(statement.setConsistencyLevel(consistency))
                  .toCompletableFuture());
        }
        for (int k = 0; k < slice.size(); k++) {
          List<Partition> q = slice.get(k);
          AsyncResultSet rs = join(futures.get(k));
          collect(out, q, rs);
        }
      }
    } catch (OffsetStoreException e) {
      throw e;
    } catch (RuntimeException e) {
      throw DriverErrors.map(e, "reading positions of group '" + group + "'");
    }
    return out;
  }

  /** The rows of one {@link #readKeys} query, every page. */
  private static void collect(Map<Partition, Stored> out, List<Partition> q, AsyncResultSet rs) {
    String topic = q.get(0).topic();
    boolean single = q.size() == 1;
    while (true) {
      for (Row row : rs.currentPage()) {
        if (single) {
          put(out, q.get(0), row, 0);
        } else {
          put(out, new Partition(topic, row.getInt(0)), row, 1);
        }
      }
      if (!rs.hasMorePages()) {
        return;
      }
      rs = join(rs.fetchNextPage().toCompletableFuture());
    }
  }

  private static AsyncResultSet join(CompletableFuture<AsyncResultSet> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  /** Partition layout: the Kafka partitions of a group, by a scan of the table's keys. */
  private List<Partition> groupKeys(String group) {
    List<Partition> out = new ArrayList<>();
    try {
      for (Row row :
          session.execute(
              prepared().distinctGroups.bind().setConsistencyLevel(config.readConsistency()))) {
        if (group.equals(row.getString(0))) {
          out.add(new Partition(row.getString(1), row.getInt(2)));
        }
      }
    } catch (RuntimeException e) {
      throw DriverErrors.map(e, "listing the partitions of group '" + group + "'");
    }
    Collections.sort(out);
    return out;
  }

  private static void put(Map<Partition, Stored> out, Partition p, Row row, int first) {
    // A row whose position is null (written by hand) counts as no position.
    if (!row.isNull(first)) {
      out.put(p, new Stored(row.getLong(first), row.getUuid(first + 1)));
    }
  }

  @Override
  public Set<String> groups() {
    // SELECT DISTINCT on the partition key scans every token range of the table: its cost grows
    // with the number of groups (not of positions), paged by the driver. Fine for administration,
    // not for a hot path.
    Set<String> out = new LinkedHashSet<>();
    try {
      for (Row row :
          session.execute(
              prepared().distinctGroups.bind().setConsistencyLevel(config.readConsistency()))) {
        out.add(row.getString(0));
      }
    } catch (OffsetStoreException e) {
      throw e;
    } catch (RuntimeException e) {
      throw DriverErrors.map(e, "listing groups");
    }
    return out;
  }

  // ---------------------------------------------------------------- commit

  @Override
  public void commit(
      String group, Collection<OffsetRange> ranges, ResultWriter<CassandraResults> results) {
    StoreArguments.group(group);
    List<OffsetRange> sorted = StoreArguments.ranges(ranges, config.maxRangesPerCommit());
    StoreArguments.results(results);
    checkOpen();
    Prepared ps = prepared();
    if (sorted.size() > 1 && config.layout() == CassandraLayout.PARTITION) {
      log.debug(
          "Commit of {} ranges of group '{}' in the partition layout: one LWT per range, not"
              + " atomic across them",
          sorted.size(),
          group);
    }

    CassandraResults handle = new CassandraResults(session);
    try {
      results.write(handle);
    } catch (Exception e) {
      // A writer that reads through the session meets the same outage as the store: after a
      // server SIGKILL it threw NoNodeAvailableException, which as a writer failure made the
      // runtime stop on a "poison" record instead of retrying (found by the e2e rule E6).
      Throwable cause = e instanceof CompletionException ? e.getCause() : e;
      if (DriverErrors.isUnavailable(cause)) {
        throw new StoreUnavailableException(
            "Cassandra unavailable while the result writer of group '"
                + group
                + "' ran: "
                + cause.getMessage()
                + ". Nothing was committed.",
            cause);
      }
      throw new ResultWriteException(
          "the result writer of group '" + group + "' threw: " + e + ". Nothing was committed.", e);
    }
    List<Statement<?>> statements = handle.seal();
    refuseNonIdempotent(statements);
    runResults(group, statements);
    if (config.layout() == CassandraLayout.GROUP) {
      advance(group, sorted, ps);
      return;
    }
    // Partition layout: each range is its own Paxos round on its own Cassandra partition (a
    // conditional batch may not span partitions). Every range is tried; the conflicts of all of
    // them are reported together, and the ranges without one have moved.
    if (sorted.size() == 1) {
      advance(group, sorted, ps); // the runtime's case: one partition per commit
      return;
    }
    List<Conflict> conflicts = new ArrayList<>();
    for (Unsettled u : advanceAll(group, sorted, ps, conflicts)) {
      OffsetRange r = u.range();
      if (u.error() instanceof RuntimeException e && DriverErrors.outcomeUnknown(e)) {
        // The request may have been applied (a reply lost on a cut connection): read back under
        // Paxos for this send's commit_id before sending anything again, as the one-range path
        // does; resolve() waits for the pool to reconnect.
        Outcome outcome = resolve(group, List.of(r), u.commitId(), e);
        if (outcome.applied()) {
          continue;
        }
        if (!outcome.conflicts().isEmpty()) {
          conflicts.addAll(outcome.conflicts());
          continue;
        }
      }
      // Not applied (or an uninformative answer): sent again on the one-range path. Had the
      // first send applied late after all, that answer is a conflict finding `until`: safe, the
      // caller re-reads positions that already include this commit.
      try {
        advance(group, List.of(r), ps);
      } catch (OffsetConflictException e) {
        conflicts.addAll(e.conflicts());
      }
    }
    if (!conflicts.isEmpty()) {
      log.warn("Offset conflict in group '{}': {}", group, conflicts);
      throw new OffsetConflictException(group, conflicts);
    }
  }

  /**
   * Partition layout, several ranges: one conditional batch per range, {@link
   * CassandraStoreConfig#resultConcurrency()} in flight at once (one after the other, 1 000 ranges
   * took over a minute on a loaded node). Returns the ranges the round did not settle; the
   * conflicts it found are added to {@code found}.
   */
  private List<Unsettled> advanceAll(
      String group, List<OffsetRange> ranges, Prepared ps, List<Conflict> found) {
    int window = config.resultConcurrency();
    Semaphore permits = new Semaphore(window);
    List<Unsettled> unsettled = Collections.synchronizedList(new ArrayList<>());
    List<Conflict> conflicts = Collections.synchronizedList(new ArrayList<>());
    try {
      for (OffsetRange r : ranges) {
        permits.acquire();
        UUID id = Uuids.random();
        BatchStatement batch =
            lwt(
                BatchStatement.builder(BatchType.UNLOGGED)
                    .addStatement(
                        ps.advance.bind(
                            r.until(),
                            id,
                            group,
                            r.partition().topic(),
                            r.partition().partition(),
                            r.from())));
        try {
          session
              .executeAsync(batch)
              .whenComplete(
                  (rs, err) -> {
                    try {
                      if (err != null) {
                        unsettled.add(
                            new Unsettled(
                                r,
                                id,
                                err instanceof CompletionException ce && ce.getCause() != null
                                    ? ce.getCause()
                                    : err));
                      } else if (!rs.wasApplied()) {
                        Map<Partition, Long> stored = new HashMap<>();
                        for (Row row : rs.currentPage()) {
                          if (row.getColumnDefinitions().contains("position")
                              && !row.isNull("position")) {
                            stored.put(r.partition(), row.getLong("position"));
                          }
                        }
                        List<Conflict> c = conflicts(List.of(r), stored);
                        if (c.isEmpty()) {
                          unsettled.add(new Unsettled(r, id, null));
                        } else {
                          conflicts.addAll(c);
                        }
                      }
                    } finally {
                      permits.release();
                    }
                  });
        } catch (RuntimeException e) {
          unsettled.add(new Unsettled(r, id, e));
          permits.release();
        }
      }
      permits.acquire(window);
      permits.release(window);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException(
          "interrupted while committing offsets of group '"
              + group
              + "'; some ranges may have moved: re-read positions",
          e);
    }
    found.addAll(conflicts);
    List<Unsettled> out = new ArrayList<>(unsettled);
    out.sort(Comparator.comparing(u -> u.range().partition()));
    return out;
  }

  /** A range the first round did not settle: its send's commit id and error (null: no error). */
  private record Unsettled(OffsetRange range, UUID commitId, Throwable error) {}

  private static void refuseNonIdempotent(List<Statement<?>> statements) {
    for (int i = 0; i < statements.size(); i++) {
      Statement<?> s = statements.get(i);
      if (!Boolean.TRUE.equals(s.isIdempotent())) {
        throw new InvalidBatchException(
            "result statement #"
                + (i + 1)
                + " ("
                + CassandraResults.describe(s)
                + ") is not marked idempotent (isIdempotent()="
                + s.isIdempotent()
                + "). A replay runs results again, so each must be a keyed overwrite; counter"
                + " updates, list appends and now()/uuid() values are not. Mark a keyed write with"
                + " setIdempotent(true), or use CassandraUpsert. Nothing was executed.");
      }
    }
  }

  /** Runs the result statements with a bounded window; on the first failure stops sending. */
  private void runResults(String group, List<Statement<?>> statements) {
    if (statements.isEmpty()) {
      return;
    }
    int window = config.resultConcurrency();
    Semaphore permits = new Semaphore(window);
    AtomicReference<Failure> failure = new AtomicReference<>();
    int sent = 0;
    try {
      for (Statement<?> s : statements) {
        permits.acquire();
        if (failure.get() != null) {
          permits.release();
          break;
        }
        Statement<?> withLevel =
            s.getConsistencyLevel() == null ? s.setConsistencyLevel(config.writeConsistency()) : s;
        sent++;
        try {
          session
              .executeAsync(withLevel)
              .whenComplete(
                  (rs, err) -> {
                    if (err != null) {
                      failure.compareAndSet(null, new Failure(s, err));
                    }
                    permits.release();
                  });
        } catch (RuntimeException e) {
          // Thrown before a future exists (a closed session): release here, or the wait below
          // for every permit would never end.
          failure.compareAndSet(null, new Failure(s, e));
          permits.release();
        }
      }
      permits.acquire(window); // every statement sent has completed
      permits.release(window);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException(
          "interrupted while writing results of group '" + group + "'; no offset moved", e);
    }
    Failure f = failure.get();
    if (f != null) {
      Throwable cause =
          f.error instanceof CompletionException && f.error.getCause() != null
              ? f.error.getCause()
              : f.error;
      String what =
          "writing result statement ("
              + CassandraResults.describe(f.statement)
              + ") of group '"
              + group
              + "'; "
              + sent
              + " of "
              + statements.size()
              + " statements were sent, no offset moved";
      if (DriverErrors.isUnavailable(cause)) {
        throw new StoreUnavailableException(
            "Cassandra unavailable while " + what + ": " + cause.getMessage(), cause);
      }
      throw new ResultWriteException("Cassandra rejected " + what + ": " + cause, cause);
    }
    log.debug("Wrote {} result statements of group '{}'", statements.size(), group);
  }

  private record Failure(Statement<?> statement, Throwable error) {}

  private void advance(String group, List<OffsetRange> ranges, Prepared ps) {
    UUID id = Uuids.random();
    BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
    for (OffsetRange r : ranges) {
      b.addStatement(
          ps.advance.bind(
              r.until(), id, group, r.partition().topic(), r.partition().partition(), r.from()));
    }
    BatchStatement batch =
        b.setConsistencyLevel(config.writeConsistency())
            .setSerialConsistencyLevel(config.serialConsistency())
            // Never retried by the driver: a blind retry of an applied LWT would report a false
            // conflict. Unknown outcomes are resolved below by a serial read.
            .setIdempotence(false)
            .build();

    boolean uncertainBefore = false;
    for (int attempt = 1; ; attempt++) {
      ResultSet rs;
      try {
        rs = session.execute(batch);
      } catch (RuntimeException e) {
        if (!DriverErrors.outcomeUnknown(e)) {
          throw DriverErrors.map(e, "committing offsets of group '" + group + "'");
        }
        log.warn(
            "Offset commit of group '{}' ({} ranges, attempt {}) has an unknown outcome ({});"
                + " resolving by a {} read",
            group,
            ranges.size(),
            attempt,
            e.toString(),
            config.serialConsistency());
        Outcome outcome = resolve(group, ranges, id, e);
        if (outcome.applied) {
          log.info("Offset commit of group '{}' was applied (resolved by serial read)", group);
          return;
        }
        if (!outcome.conflicts.isEmpty()) {
          throw new OffsetConflictException(group, outcome.conflicts);
        }
        if (attempt >= config.lwtAttempts()) {
          throw new StoreUnavailableException(
              "Offset commit of group '"
                  + group
                  + "' was not applied after "
                  + attempt
                  + " attempts (last: "
                  + e
                  + "); its results are written, no offset moved. Retry.",
              e);
        }
        uncertainBefore = true;
        continue;
      }
      // wasApplied() must be read before the rows are consumed (driver 4 throws after one()).
      if (rs.wasApplied()) {
        log.debug("Committed {} ranges of group '{}'", ranges.size(), group);
        return;
      }
      List<Conflict> conflicts = conflictsFromRows(ranges, rs);
      if (uncertainBefore || conflicts.isEmpty()) {
        // An earlier attempt may have been applied late by its coordinator (then the rows show
        // our commit_id), or the answer was not informative: read back under Paxos.
        Outcome outcome = resolve(group, ranges, id, null);
        if (outcome.applied) {
          return;
        }
        conflicts = outcome.conflicts;
        if (conflicts.isEmpty()) {
          throw new StoreUnavailableException(
              "Offset commit of group '"
                  + group
                  + "' was not applied although every position matched; retry",
              null);
        }
      }
      log.warn("Offset conflict in group '{}': {}", group, conflicts);
      throw new OffsetConflictException(group, conflicts);
    }
  }

  /**
   * The rows of a conditional batch that was not applied: one per existing row named by a
   * condition, with its key columns and {@code position}. A row absent from the answer has no
   * position.
   */
  private static List<Conflict> conflictsFromRows(List<OffsetRange> ranges, ResultSet rs) {
    Map<Partition, Long> found = new HashMap<>();
    for (Row row : rs) {
      if (row.getColumnDefinitions().contains("topic") && !row.isNull("topic")) {
        Partition p = new Partition(row.getString("topic"), row.getInt("partition_id"));
        if (!row.isNull("position")) {
          found.put(p, row.getLong("position"));
        }
      }
    }
    return conflicts(ranges, found);
  }

  private static List<Conflict> conflicts(List<OffsetRange> ranges, Map<Partition, Long> found) {
    return Conflicts.of(ranges, found);
  }

  private record Outcome(boolean applied, List<Conflict> conflicts) {}

  /**
   * Resolves a commit whose outcome is unknown with a serial read of its rows (see the class
   * documentation for why a serial read decides it).
   */
  private Outcome resolve(String group, List<OffsetRange> ranges, UUID id, RuntimeException cause) {
    List<Partition> partitions = new ArrayList<>(ranges.size());
    ranges.forEach(r -> partitions.add(r.partition()));
    RuntimeException last = cause;
    for (int attempt = 1; attempt <= RESOLVE_ATTEMPTS; attempt++) {
      try {
        Map<Partition, Stored> rows = read(group, partitions, config.serialConsistency());
        for (Stored s : rows.values()) {
          if (id.equals(s.commitId())) {
            return new Outcome(true, List.of());
          }
        }
        Map<Partition, Long> found = new HashMap<>();
        rows.forEach((p, s) -> found.put(p, s.position()));
        return new Outcome(false, conflicts(ranges, found));
      } catch (StoreUnavailableException e) {
        last = e;
        long backoff = 250L << (attempt - 1);
        log.warn(
            "Serial read resolving a commit of group '{}' failed ({}); retrying in {} ms",
            group,
            e.getMessage(),
            backoff);
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    throw new StoreUnavailableException(
        "The outcome of an offset commit of group '"
            + group
            + "' is unknown: the store could not read it back. Its results are written; re-read"
            + " positions before going on.",
        last);
  }

  // ---------------------------------------------------------------- initialize and admin

  @Override
  public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
    StoreArguments.group(group);
    Map<Partition, Long> sorted = StoreArguments.positions(starts);
    if (sorted.isEmpty()) {
      return Map.of();
    }
    checkOpen();
    Prepared ps = prepared();
    List<Partition> all = new ArrayList<>(sorted.keySet());
    if (config.layout() == CassandraLayout.PARTITION) {
      insertAbsent(group, sorted, ps);
      return positions(group, all);
    }
    for (List<Partition> chunk : chunks(all)) {
      Map<Partition, Long> pending = new TreeMap<>();
      chunk.forEach(p -> pending.put(p, sorted.get(p)));
      for (int attempt = 1; !pending.isEmpty(); attempt++) {
        BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
        UUID id = Uuids.random();
        pending.forEach(
            (p, pos) ->
                b.addStatement(ps.insertIfAbsent.bind(group, p.topic(), p.partition(), pos, id)));
        // INSERT IF NOT EXISTS can be sent again safely: that is what a retry does.
        BatchStatement batch = lwt(b).setIdempotent(true);
        try {
          ResultSet rs = session.execute(batch);
          if (rs.wasApplied()) {
            break;
          }
          // Not applied: some rows exist (they come back); insert the others next round.
          for (Row row : rs) {
            if (!row.isNull("topic")) {
              pending.remove(new Partition(row.getString("topic"), row.getInt("partition_id")));
            }
          }
        } catch (RuntimeException e) {
          if (!DriverErrors.outcomeUnknown(e) || attempt >= ADMIN_ATTEMPTS) {
            throw DriverErrors.map(e, "initializing positions of group '" + group + "'");
          }
          log.warn("Initialize of group '{}' failed ({}); trying again", group, e.toString());
        }
        if (attempt >= ADMIN_ATTEMPTS) {
          throw new StoreUnavailableException(
              "initialize of group '" + group + "' kept losing races; retry", null);
        }
      }
    }
    return positions(group, all);
  }

  /**
   * Partition layout: one {@code INSERT ... IF NOT EXISTS} per partition, {@link
   * CassandraStoreConfig#resultConcurrency()} in flight at once (one after the other, 10 000
   * partitions took over a minute; 256 at once overloaded a busy single node into CAS write
   * timeouts). An insert whose outcome is unknown is sent again in a later round: a row that exists
   * (ours or another initializer's) simply stays, which is what the caller reads back.
   */
  private void insertAbsent(String group, Map<Partition, Long> sorted, Prepared ps) {
    Map<Partition, Long> pending = sorted;
    UUID id = Uuids.random();
    for (int attempt = 1; ; attempt++) {
      Map<Partition, Throwable> failed = insertWave(group, pending, ps, id);
      if (failed.isEmpty()) {
        return;
      }
      Map.Entry<Partition, Throwable> first = failed.entrySet().iterator().next();
      Throwable cause = first.getValue();
      RuntimeException error =
          cause instanceof RuntimeException re
              ? re
              : new IllegalStateException(String.valueOf(cause), cause);
      if (!DriverErrors.outcomeUnknown(error) || attempt >= ADMIN_ATTEMPTS) {
        throw DriverErrors.map(error, "initializing positions of group '" + group + "'");
      }
      log.warn(
          "Initialize of group '{}': {} of {} inserts had an unknown outcome ({}); sending them"
              + " again",
          group,
          failed.size(),
          pending.size(),
          error.toString());
      Map<Partition, Long> again = new TreeMap<>();
      failed.keySet().forEach(p -> again.put(p, sorted.get(p)));
      pending = again;
      try {
        Thread.sleep(100L * attempt);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreUnavailableException(
            "interrupted while initializing positions of group '" + group + "'", e);
      }
    }
  }

  /** One round of inserts; returns the partitions whose insert failed, with their error. */
  private Map<Partition, Throwable> insertWave(
      String group, Map<Partition, Long> pending, Prepared ps, UUID id) {
    int window = config.resultConcurrency();
    Semaphore permits = new Semaphore(window);
    Map<Partition, Throwable> failed = new ConcurrentSkipListMap<>();
    try {
      for (Map.Entry<Partition, Long> e : pending.entrySet()) {
        permits.acquire();
        Partition p = e.getKey();
        Statement<?> insert =
            ps.insertIfAbsent
                .bind(group, p.topic(), p.partition(), e.getValue(), id)
                .setConsistencyLevel(config.writeConsistency())
                .setSerialConsistencyLevel(config.serialConsistency())
                .setIdempotent(true);
        try {
          session
              .executeAsync(insert)
              .whenComplete(
                  (rs, err) -> {
                    if (err != null) {
                      failed.put(
                          p,
                          err instanceof CompletionException && err.getCause() != null
                              ? err.getCause()
                              : err);
                    }
                    permits.release();
                  });
        } catch (RuntimeException ex) {
          failed.put(p, ex);
          permits.release();
        }
      }
      permits.acquire(window);
      permits.release(window);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException(
          "interrupted while initializing positions of group '" + group + "'", e);
    }
    return failed;
  }

  @Override
  public void overwrite(String group, Map<Partition, Long> positions) {
    StoreArguments.group(group);
    Map<Partition, Long> sorted = StoreArguments.positions(positions);
    if (sorted.isEmpty()) {
      return;
    }
    checkOpen();
    Prepared ps = prepared();
    List<Partition> all = new ArrayList<>(sorted.keySet());
    for (List<Partition> chunk : chunks(all)) {
      // Conditional on the values just read, so that the overwrite goes through Paxos like every
      // other write of the table; a concurrent change makes it lose and read again.
      for (int attempt = 1; ; attempt++) {
        Map<Partition, Stored> current = read(group, chunk, config.serialConsistency());
        UUID id = Uuids.random();
        BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
        for (Partition p : chunk) {
          Stored s = current.get(p);
          long to = sorted.get(p);
          b.addStatement(
              s == null
                  ? ps.insertIfAbsent.bind(group, p.topic(), p.partition(), to, id)
                  : ps.advance.bind(to, id, group, p.topic(), p.partition(), s.position()));
        }
        if (applyAdmin(lwt(b), group, "overwriting positions", attempt)) {
          break;
        }
      }
    }
    log.info("Overwrote {} positions of group '{}'", sorted.size(), group);
  }

  @Override
  public boolean delete(String group) {
    StoreArguments.group(group);
    checkOpen();
    List<Partition> existing =
        new ArrayList<>(readGroup(group, config.serialConsistency()).keySet());
    int deleted = deleteRows(group, existing);
    log.info("Deleted {} positions of group '{}'", deleted, group);
    return deleted > 0;
  }

  @Override
  public int delete(String group, Collection<Partition> partitions) {
    StoreArguments.group(group);
    List<Partition> sorted = StoreArguments.partitions(partitions);
    checkOpen();
    return deleteRows(group, sorted);
  }

  /** Deletes the rows of {@code partitions} that exist, by LWT; returns how many it deleted. */
  private int deleteRows(String group, List<Partition> partitions) {
    Prepared ps = prepared();
    int deleted = 0;
    for (List<Partition> chunk : chunks(partitions)) {
      for (int attempt = 1; ; attempt++) {
        Map<Partition, Stored> current = read(group, chunk, config.serialConsistency());
        if (current.isEmpty()) {
          break;
        }
        BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
        current.forEach(
            (p, s) ->
                b.addStatement(ps.deleteIf.bind(group, p.topic(), p.partition(), s.position())));
        if (applyAdmin(lwt(b), group, "deleting positions", attempt)) {
          deleted += current.size();
          break;
        }
      }
    }
    return deleted;
  }

  /** Runs an admin LWT; false when it lost a race and should be rebuilt from a fresh read. */
  private boolean applyAdmin(BatchStatement batch, String group, String action, int attempt) {
    try {
      if (session.execute(batch).wasApplied()) {
        return true;
      }
      log.debug("{} of group '{}' lost a race (attempt {})", action, group, attempt);
    } catch (RuntimeException e) {
      if (!DriverErrors.outcomeUnknown(e) || attempt >= ADMIN_ATTEMPTS) {
        throw DriverErrors.map(e, action + " of group '" + group + "'");
      }
      // Re-reading under SERIAL completes or fences the unknown attempt; the next attempt is
      // built from what stands then.
      log.warn(
          "{} of group '{}' had an unknown outcome ({}); re-reading", action, group, e.toString());
    }
    if (attempt >= ADMIN_ATTEMPTS) {
      throw new StoreUnavailableException(
          action + " of group '" + group + "' lost " + attempt + " races in a row; retry", null);
    }
    return false;
  }

  private BatchStatement lwt(BatchStatementBuilder b) {
    return b.setConsistencyLevel(config.writeConsistency())
        .setSerialConsistencyLevel(config.serialConsistency())
        .setIdempotence(false)
        .build();
  }

  private List<List<Partition>> chunks(List<Partition> partitions) {
    // Partition layout: a conditional batch may name one Cassandra partition only.
    int size = config.layout() == CassandraLayout.GROUP ? config.maxRangesPerCommit() : 1;
    List<List<Partition>> out = new ArrayList<>();
    for (int i = 0; i < partitions.size(); i += size) {
      out.add(partitions.subList(i, Math.min(partitions.size(), i + size)));
    }
    return out;
  }

  // ---------------------------------------------------------------- plumbing

  private record Stored(long position, UUID commitId) {}

  /** The statements on the offsets table, prepared on first use (the table may come later). */
  private static final class Prepared {
    final PreparedStatement advance;
    final PreparedStatement insertIfAbsent;
    final PreparedStatement deleteIf;
    final PreparedStatement selectGroup;
    final PreparedStatement selectTopic;
    final PreparedStatement selectOne;
    final PreparedStatement distinctGroups;

    Prepared(CqlSession s, String t, CassandraLayout layout) {
      advance =
          s.prepare(
              "UPDATE "
                  + t
                  + " SET position = ?, commit_id = ?"
                  + " WHERE group_id = ? AND topic = ? AND partition_id = ? IF position = ?");
      insertIfAbsent =
          s.prepare(
              "INSERT INTO "
                  + t
                  + " (group_id, topic, partition_id, position, commit_id)"
                  + " VALUES (?, ?, ?, ?, ?) IF NOT EXISTS");
      deleteIf =
          s.prepare(
              "DELETE FROM "
                  + t
                  + " WHERE group_id = ? AND topic = ? AND partition_id = ? IF position = ?");
      if (layout == CassandraLayout.GROUP) {
        selectGroup =
            s.prepare(
                "SELECT topic, partition_id, position, commit_id FROM "
                    + t
                    + " WHERE group_id = ?");
        selectTopic =
            s.prepare(
                "SELECT partition_id, position, commit_id FROM "
                    + t
                    + " WHERE group_id = ? AND topic = ? AND partition_id IN ?");
        selectOne = null;
        distinctGroups = s.prepare("SELECT DISTINCT group_id FROM " + t);
      } else {
        selectGroup = null;
        // IN on the last column of the partition key: one query, many Cassandra partitions
        // (fanned out by the coordinator); not allowed under SERIAL consistency.
        selectTopic =
            s.prepare(
                "SELECT partition_id, position, commit_id FROM "
                    + t
                    + " WHERE group_id = ? AND topic = ? AND partition_id IN ?");
        selectOne =
            s.prepare(
                "SELECT position, commit_id FROM "
                    + t
                    + " WHERE group_id = ? AND topic = ? AND partition_id = ?");
        // SELECT DISTINCT must name the whole partition key.
        distinctGroups = s.prepare("SELECT DISTINCT group_id, topic, partition_id FROM " + t);
      }
    }
  }

  private Prepared prepared() {
    Prepared p = prepared;
    if (p == null) {
      synchronized (this) {
        p = prepared;
        if (p == null) {
          checkLayout();
          try {
            p = new Prepared(session, qualifiedTable, config.layout());
          } catch (RuntimeException e) {
            throw DriverErrors.map(e, "preparing statements on " + qualifiedTable);
          }
          prepared = p;
        }
      }
    }
    return p;
  }

  /**
   * Refuses a table whose primary key belongs to the other layout (a table created with {@code
   * layout=partition} opened with the default, say), naming the option that fits it. Skipped when
   * the session keeps no schema metadata or the table does not exist yet.
   */
  private void checkLayout() {
    Optional<TableMetadata> table;
    try {
      table =
          session
              .getMetadata()
              .getKeyspace(CqlIdentifier.fromCql(config.keyspace()))
              .flatMap(k -> k.getTable(CqlIdentifier.fromCql(config.table())));
    } catch (RuntimeException e) {
      log.debug("No schema metadata for {}: {}", qualifiedTable, e.toString());
      return;
    }
    if (table.isEmpty()) {
      return;
    }
    int keys = table.get().getPartitionKey().size();
    CassandraLayout found = keys == 1 ? CassandraLayout.GROUP : CassandraLayout.PARTITION;
    if (found != config.layout()) {
      throw new StoreConfigurationException(
          "Cassandra table "
              + qualifiedTable
              + " has the "
              + found
              + " layout (partition key of "
              + keys
              + " column(s)) but the store is configured with layout="
              + config.layout()
              + ". Set the option layout="
              + found
              + " (builder: layout(CassandraLayout."
              + found.name()
              + ")), or use another table for the "
              + config.layout()
              + " layout.");
    }
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("CassandraOffsetStore on " + qualifiedTable + " is closed");
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && ownsSession) {
      try {
        session.close();
      } catch (DriverException e) {
        log.warn("Closing the Cassandra session failed", e);
      }
    }
  }

  @Override
  public String toString() {
    return "CassandraOffsetStore[" + qualifiedTable + "]";
  }
}
