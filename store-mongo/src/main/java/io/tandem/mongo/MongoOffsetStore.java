package io.tandem.mongo;

import static io.tandem.mongo.internal.GroupDocuments.ID;
import static io.tandem.mongo.internal.GroupDocuments.PARTITIONS;
import static io.tandem.mongo.internal.GroupDocuments.REVISION;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoClientException;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoConnectionPoolClearedException;
import com.mongodb.MongoException;
import com.mongodb.MongoExecutionTimeoutException;
import com.mongodb.MongoInterruptedException;
import com.mongodb.MongoNodeIsRecoveringException;
import com.mongodb.MongoNotPrimaryException;
import com.mongodb.MongoOperationTimeoutException;
import com.mongodb.MongoSecurityException;
import com.mongodb.MongoServerException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.MongoWriteConcernException;
import com.mongodb.MongoWriteException;
import com.mongodb.ReadConcern;
import com.mongodb.ReadPreference;
import com.mongodb.ServerAddress;
import com.mongodb.TransactionOptions;
import com.mongodb.WriteConcern;
import com.mongodb.bulk.BulkWriteError;
import com.mongodb.client.ClientSession;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.UpdateOneModel;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.result.UpdateResult;
import com.mongodb.connection.ClusterDescription;
import com.mongodb.connection.ClusterType;
import com.mongodb.connection.ServerDescription;
import io.tandem.mongo.internal.GroupDocuments;
import io.tandem.mongo.internal.PartitionDocuments;
import io.tandem.spi.BatchTooLargeException;
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
import io.tandem.spi.StoreAccessDeniedException;
import io.tandem.spi.StoreArguments;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.spi.StoreUris;
import io.tandem.spi.support.Conflicts;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.bson.BSONException;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link OffsetStore} on MongoDB (mongodb-driver-sync).
 *
 * <p><b>Layout.</b> One document per group in one collection ({@code tandem_offsets} by default):
 * {@code {_id: group, revision, partitions: [{topic, partition, position}, ...]}}. Topic names are
 * kept as values in an array, never as field names, so dots and dollars need no escaping.
 *
 * <p><b>Atomic step and guarantee</b>, decided when the store opens from the driver's cluster
 * description:
 *
 * <ul>
 *   <li>Replica set or sharded cluster (transactions available): {@link Guarantee#TRANSACTIONAL}.
 *       One {@link ClientSession} transaction, write concern {@code majority}, read concern {@code
 *       snapshot}: a conditional update of the group document whose filter requires every range's
 *       {@code from} ({@code $elemMatch} per range) and whose {@code arrayFilters} move each to
 *       {@code until}; matched nothing: abort, read back, report every mismatch. Then the user's
 *       writer runs with the session, its queued writes are sent in the transaction, and the
 *       transaction commits. A transaction aborted by a {@code TransientTransactionError} (a write
 *       conflict with a concurrent commit, a failover) is retried whole for at most {@link
 *       MongoStoreConfig#transactionTimeout()}: the writer runs again, but only after its earlier
 *       writes were aborted with the transaction. An {@code UnknownTransactionCommitResult} is
 *       resolved by retrying the commit alone, never by re-running the writer.
 *   <li>Standalone server (no transactions): {@link Guarantee#IDEMPOTENT}. The writer runs first
 *       and its queued keyed writes are sent; then one conditional single-document update moves
 *       every position, all or none. On a conflict the results stand (they are keyed) and no
 *       position moves. {@code $inc} is refused on this path ({@link MongoResults#increment}).
 * </ul>
 *
 * <p>Either way all positions of a commit move together: the group's document is updated by one
 * statement. <b>What weakens it:</b> a deployment whose write concern {@code majority} is not
 * journaled ({@code writeConcernMajorityJournalDefault: false}); writes a writer makes without the
 * session; a group too large for MongoDB's 16 MiB document limit (refused, see {@link
 * #capabilities()}).
 */
public final class MongoOffsetStore implements OffsetStore<MongoResults> {

  private static final Logger log = LoggerFactory.getLogger(MongoOffsetStore.class);

  /** A group name's limit in UTF-8 bytes, so that any group document's overhead stays small. */
  public static final int MAX_GROUP_BYTES = 16 * 1024;

  /**
   * Up to this many new partitions, initialize adds them in place ({@code $not $elemMatch} per
   * partition in the filter, which costs the server partitions x entries comparisons); more are
   * written by a compare-and-set of the whole document on its revision.
   */
  private static final int MAX_PARTITIONS_ADDED_IN_PLACE = 64;

  /**
   * Commits of up to this many ranges advance in place with one conditional update; larger ones by
   * compare-and-set of the whole document (see {@link #advance}).
   */
  static final int MAX_RANGES_IN_PLACE = 64;

  /** Bounded attempts of read-modify-write loops racing with other writers. */
  private static final int MAX_RACE_ATTEMPTS = 50;

  // MongoDB error codes (src/mongo/base/error_codes.yml).
  private static final int WRITE_CONFLICT = 112;
  private static final int BSON_OBJECT_TOO_LARGE = 10334;
  private static final int UPDATE_RESULT_TOO_LARGE = 17419;
  private static final int TRANSACTION_TOO_LARGE = 257;
  private static final int NAMESPACE_EXISTS = 48;
  private static final int COMMAND_NOT_FOUND = 59;
  private static final int USER_NOT_FOUND = 11;
  private static final int UNAUTHORIZED = 13;
  private static final int AUTHENTICATION_FAILED = 18;

  private final MongoStoreConfig config;
  private final MongoClient client;
  private final boolean ownsClient;
  private final MongoDatabase database;
  private final MongoCollection<BsonDocument> offsets;
  private final Guarantee guarantee;
  private final Capabilities capabilities;
  private final TransactionOptions transactionOptions;
  private final String where;
  private final boolean partitionLayout;
  private volatile boolean closed;

  private MongoOffsetStore(
      MongoStoreConfig config, MongoClient client, boolean ownsClient, String where) {
    this.config = config;
    this.client = client;
    this.ownsClient = ownsClient;
    this.where = where;
    // Durable acknowledgement for every write outside a transaction: majority (which on a
    // standalone server is the server itself) and journaled.
    WriteConcern durable = WriteConcern.MAJORITY.withJournal(true);
    this.database =
        client
            .getDatabase(config.database())
            .withWriteConcern(durable)
            .withReadPreference(ReadPreference.primary());
    this.offsets = database.getCollection(config.collection(), BsonDocument.class);
    this.transactionOptions =
        TransactionOptions.builder()
            .writeConcern(WriteConcern.MAJORITY)
            .readConcern(ReadConcern.SNAPSHOT)
            .readPreference(ReadPreference.primary())
            .build();

    // A command forces server selection, so the cluster description below is known, not UNKNOWN.
    try {
      database.runCommand(new BsonDocument("ping", new BsonInt64(1)));
    } catch (MongoException e) {
      throw failure("connecting", e);
    }
    ClusterDescription cluster = client.getClusterDescription();
    Server server = Server.of(cluster);
    this.guarantee = server.transactions() ? Guarantee.TRANSACTIONAL : Guarantee.IDEMPOTENT;
    if (config.requireTransactions() && guarantee != Guarantee.TRANSACTIONAL) {
      throw new StoreConfigurationException(
          "requireTransactions is set, but the MongoDB server at "
              + where
              + " is "
              + server.describe()
              + ": "
              + server.whyNoTransactions()
              + ". MongoDB runs transactions only on a replica set or a sharded cluster; start"
              + " mongod with --replSet and run rs.initiate() (a single-node replica set is"
              + " enough), or drop requireTransactions to run IDEMPOTENT (keyed results only).");
    }
    this.partitionLayout = config.layout() == MongoLayout.PARTITION;
    this.capabilities =
        new Capabilities(
            guarantee,
            // Per-partition documents outside a transaction move one by one.
            !partitionLayout || guarantee == Guarantee.TRANSACTIONAL,
            partitionLayout
                ? PartitionDocuments.MAX_RANGES_PER_COMMIT
                : GroupDocuments.MAX_RANGES_PER_COMMIT,
            true,
            "MongoDB "
                + server.describe()
                + (guarantee == Guarantee.TRANSACTIONAL
                    ? ": one transaction per commit (w:majority, read concern snapshot)"
                    : ": "
                        + server.whyNoTransactions()
                        + "; keyed results, then "
                        + (partitionLayout
                            ? "one conditional update per partition's document (not atomic across"
                                + " partitions)"
                            : "one conditional update of the group document"))
                + (partitionLayout
                    ? "; a document per (group, topic, partition)"
                    : "; one document per group, at most "
                        + GroupDocuments.MAX_PARTITIONS_WORST_CASE
                        + " partitions per group guaranteed (more with short topic names) under"
                        + " the 16 MiB document limit"));
    log.info(
        "MongoDB offset store open on {} ({}), {}.{}: {}",
        where,
        server.describe(),
        config.database(),
        config.collection(),
        guarantee);
  }

  /**
   * Opens a store. Connects at once: the store is usable when this returns.
   *
   * @param config the configuration
   * @return the store
   * @throws StoreConfigurationException if {@code requireTransactions} is set and the server has no
   *     transactions, or the connection string is malformed
   * @throws StoreUnavailableException if the server cannot be reached
   */
  public static MongoOffsetStore open(MongoStoreConfig config) {
    if (config.client().isPresent()) {
      MongoClient given = config.client().get();
      return new MongoOffsetStore(config, given, false, addresses(given));
    }
    String uri = config.connectionString().orElseThrow();
    com.mongodb.ConnectionString parsed = MongoStoreConfig.parse(uri);
    MongoClient own;
    try {
      own = MongoClients.create(parsed);
    } catch (IllegalArgumentException | MongoException e) {
      throw new StoreConfigurationException(
          "Cannot create a MongoDB client for '" + StoreUris.mask(uri) + "': " + e.getMessage(), e);
    }
    try {
      return new MongoOffsetStore(config, own, true, String.join(",", parsed.getHosts()));
    } catch (RuntimeException | Error e) {
      own.close();
      throw e;
    }
  }

  private static String addresses(MongoClient client) {
    return client.getClusterDescription().getClusterSettings().getHosts().stream()
        .map(ServerAddress::toString)
        .collect(Collectors.joining(","));
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public Class<MongoResults> handleType() {
    return MongoResults.class;
  }

  /**
   * The configuration this store was opened with.
   *
   * @return the configuration
   */
  public MongoStoreConfig config() {
    return config;
  }

  // ---------------------------------------------------------------- positions

  @Override
  public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
    checkGroup(group);
    List<Partition> wanted = StoreArguments.partitions(partitions);
    checkOpen();
    Map<Partition, Long> all = partitionLayout ? readPartitions(null, group, wanted) : read(group);
    Map<Partition, Long> out = new LinkedHashMap<>();
    for (Partition p : wanted) {
      Long position = all.get(p);
      if (position != null) {
        out.put(p, position);
      }
    }
    return out;
  }

  @Override
  public Map<Partition, Long> positions(String group) {
    checkGroup(group);
    checkOpen();
    return read(group);
  }

  private Map<Partition, Long> read(String group) {
    if (partitionLayout) {
      return readGroupPartitions(group);
    }
    return GroupDocuments.positions(find(group));
  }

  private BsonDocument find(String group) {
    try {
      return offsets.find(Filters.eq(ID, group)).first();
    } catch (MongoException | BSONException e) {
      throw failure("reading positions of group '" + group + "'", e);
    }
  }

  // ---------------------------------------------------------------- initialize

  @Override
  public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
    checkGroup(group);
    Map<Partition, Long> sorted = StoreArguments.positions(starts);
    checkOpen();
    if (partitionLayout) {
      return initializePartitions(group, sorted);
    }
    for (int attempt = 1; ; attempt++) {
      BsonDocument doc = find(group);
      Map<Partition, Long> existing = GroupDocuments.positions(doc);
      Map<Partition, Long> missing = new TreeMap<>(sorted);
      missing.keySet().removeAll(existing.keySet());
      if (!missing.isEmpty()) {
        Map<Partition, Long> after = new TreeMap<>(existing);
        after.putAll(missing);
        checkFits(group, after, "initializing " + missing.size() + " partition(s)");
        boolean done =
            missing.size() <= MAX_PARTITIONS_ADDED_IN_PLACE
                ? addAbsent(group, missing)
                : replace(group, doc, after);
        if (!done) {
          raced(attempt, "initializing group '" + group + "'");
          continue;
        }
        existing = after;
      }
      Map<Partition, Long> out = new LinkedHashMap<>();
      for (Partition p : sorted.keySet()) {
        out.put(p, existing.get(p));
      }
      return out;
    }
  }

  /**
   * Insert if absent, race-safe in one statement that never conflicts with commits: the filter
   * requires each new partition to have no entry, and the upsert creates the document when there is
   * none. A concurrent initializer that added one of them first makes this match nothing (or, for
   * two upserts of a new document, fail on the _id index): the caller reads again and retries.
   * {@code $addToSet} with {@code $each}, not {@code $push}: the jongodb emulator has no {@code
   * $push} ("unsupported update operator: $push"); behind the filter above {@code $addToSet} adds
   * exactly the new entries.
   */
  private boolean addAbsent(String group, Map<Partition, Long> missing) {
    BsonArray and = new BsonArray();
    missing.keySet().forEach(p -> and.add(GroupDocuments.noEntry(p)));
    BsonDocument filter = new BsonDocument(ID, new BsonString(group)).append("$and", and);
    BsonDocument update =
        new BsonDocument(
                "$addToSet",
                new BsonDocument(
                    PARTITIONS, new BsonDocument("$each", GroupDocuments.array(missing))))
            .append("$inc", new BsonDocument(REVISION, new BsonInt64(1)));
    try {
      UpdateResult r = offsets.updateOne(filter, update, new UpdateOptions().upsert(true));
      return r.getMatchedCount() > 0 || r.getUpsertedId() != null;
    } catch (MongoException e) {
      if (duplicateKey(e)) {
        return false; // another initializer created the document first
      }
      throw failure("initializing group '" + group + "'", e);
    } catch (BSONException e) {
      throw failure("initializing group '" + group + "'", e);
    }
  }

  // ---------------------------------------------------------------- commit

  @Override
  public void commit(
      String group, Collection<OffsetRange> ranges, ResultWriter<MongoResults> results) {
    checkGroup(group);
    List<OffsetRange> sorted = StoreArguments.ranges(ranges, capabilities.maxRangesPerCommit());
    StoreArguments.results(results);
    checkOpen();
    // Null: too many ranges for an in-place statement, advance by compare-and-set instead.
    BsonDocument statement =
        sorted.size() <= MAX_RANGES_IN_PLACE ? GroupDocuments.statement(group, sorted, 0) : null;
    if (guarantee == Guarantee.TRANSACTIONAL) {
      commitInTransaction(group, sorted, statement, results);
    } else if (partitionLayout) {
      commitIdempotentPartitions(group, sorted, results);
    } else {
      commitIdempotent(group, sorted, statement, results);
    }
  }

  private void commitIdempotent(
      String group,
      List<OffsetRange> ranges,
      BsonDocument statement,
      ResultWriter<MongoResults> results) {
    MongoResults handle =
        new MongoResults(database, null, Guarantee.IDEMPOTENT, config.collection());
    write(group, ranges, results, handle);
    flush(group, handle);
    for (int attempt = 1; ; attempt++) {
      boolean moved;
      try {
        moved = advance(null, group, ranges, statement);
      } catch (MongoException | BSONException e) {
        throw failure("committing " + ranges.size() + " range(s) of group '" + group + "'", e);
      }
      if (moved) {
        log.debug("group '{}': committed {}", group, ranges);
        return;
      }
      throwConflicts(group, ranges);
      // Every range matched when read back: the positions changed between update and read
      // (an overwrite moved them back). Results are keyed: trying the update again is safe.
      raced(attempt, "committing group '" + group + "'");
    }
  }

  private void commitInTransaction(
      String group,
      List<OffsetRange> ranges,
      BsonDocument statement,
      ResultWriter<MongoResults> results) {
    long deadline = System.nanoTime() + config.transactionTimeout().toNanos();
    String what = "committing " + ranges.size() + " range(s) of group '" + group + "'";
    try (ClientSession session = client.startSession()) {
      for (int attempt = 1; ; attempt++) {
        session.startTransaction(transactionOptions);
        try {
          if (!advance(session, group, ranges, statement)) {
            session.abortTransaction();
            throwConflicts(group, ranges);
            raced(attempt, what);
            continue;
          }
          MongoResults handle =
              new MongoResults(database, session, Guarantee.TRANSACTIONAL, config.collection());
          try {
            results.write(handle);
          } catch (Exception | Error e) {
            if (transient_(e) && System.nanoTime() < deadline) {
              // The writer's own write hit a write conflict: the transaction is aborted, so
              // running the writer again in a new one cannot duplicate anything.
              abortQuietly(session);
              retryTransaction(attempt, what, e);
              continue;
            }
            abortQuietly(session);
            throw writerFailed(group, ranges, e);
          }
          try {
            handle.flush();
          } catch (MongoBulkWriteException e) {
            abortQuietly(session);
            throw writesFailed(group, ranges, e);
          }
          commitTransaction(session, deadline, what);
          log.debug("group '{}': committed {} in a transaction", group, ranges);
          return;
        } catch (MongoException e) {
          abortQuietly(session);
          if (isTransient(e) && System.nanoTime() < deadline) {
            retryTransaction(attempt, what, e);
            continue;
          }
          throw failure(what, e);
        } catch (BSONException e) {
          abortQuietly(session);
          throw failure(what, e);
        } catch (RuntimeException | Error e) {
          abortQuietly(session);
          throw e;
        }
      }
    } catch (MongoException e) {
      throw failure("starting a session for " + what, e);
    }
  }

  /**
   * One attempt to move every range from {@code from} to {@code until}, all or none; false when the
   * group's document did not match (a conflict, or a race to read back and retry).
   *
   * <p>Up to {@value #MAX_RANGES_IN_PLACE} ranges: one conditional update, no read: the filter
   * requires every range's entry at its {@code from} ({@code $elemMatch} each), {@code
   * arrayFilters} move each. Its cost on the server grows with ranges times entries, so more ranges
   * are moved by a compare-and-set: read the document (in the transaction when there is one), check
   * every {@code from} here, and write the whole array back on condition that the revision is still
   * the one read. Both forms move all positions in one single-document write.
   */
  private boolean advance(
      ClientSession session, String group, List<OffsetRange> ranges, BsonDocument statement) {
    if (partitionLayout) {
      // One conditional update per range's document, in one ordered bulk write inside the
      // transaction: every one must match, else the transaction is aborted.
      List<UpdateOneModel<BsonDocument>> models = new ArrayList<>(ranges.size());
      for (OffsetRange r : ranges) {
        models.add(
            new UpdateOneModel<>(
                new BsonDocument(ID, PartitionDocuments.id(group, r.partition()))
                    .append(PartitionDocuments.POSITION, new BsonInt64(r.from())),
                new BsonDocument(
                    "$set",
                    new BsonDocument(PartitionDocuments.POSITION, new BsonInt64(r.until())))));
      }
      return offsets.bulkWrite(session, models).getMatchedCount() == ranges.size();
    }
    if (statement != null) {
      return update(session, statement).getMatchedCount() == 1;
    }
    BsonDocument doc =
        session == null
            ? offsets.find(Filters.eq(ID, group)).first()
            : offsets.find(session, Filters.eq(ID, group)).first();
    if (doc == null) {
      return false;
    }
    Map<Partition, Long> after = GroupDocuments.positions(doc);
    for (OffsetRange r : ranges) {
      Long stored = after.get(r.partition());
      if (stored == null || stored != r.from()) {
        return false;
      }
      after.put(r.partition(), r.until());
    }
    long revision = GroupDocuments.revision(doc);
    BsonDocument filter =
        new BsonDocument(ID, new BsonString(group)).append(REVISION, new BsonInt64(revision));
    BsonDocument update =
        new BsonDocument(
            "$set",
            new BsonDocument(PARTITIONS, GroupDocuments.array(after))
                .append(REVISION, new BsonInt64(revision + 1)));
    UpdateResult r =
        session == null
            ? offsets.updateOne(filter, update)
            : offsets.updateOne(session, filter, update);
    return r.getMatchedCount() == 1;
  }

  private UpdateResult update(ClientSession session, BsonDocument statement) {
    UpdateOptions options =
        new UpdateOptions()
            .arrayFilters(
                statement.getArray("arrayFilters").stream()
                    .map(BsonValue::asDocument)
                    .collect(Collectors.toList()));
    BsonDocument q = statement.getDocument("q");
    BsonDocument u = statement.getDocument("u");
    return session == null
        ? offsets.updateOne(q, u, options)
        : offsets.updateOne(session, q, u, options);
  }

  /**
   * Commits, retrying the commit alone on an unknown result: the driver resends it with {@code
   * w:majority}, and MongoDB answers a repeated commit of a committed transaction with success, so
   * the writer never runs twice for one transaction.
   */
  private void commitTransaction(ClientSession session, long deadline, String what) {
    for (int attempt = 1; ; attempt++) {
      try {
        session.commitTransaction();
        return;
      } catch (MongoException e) {
        if (e.hasErrorLabel(MongoException.UNKNOWN_TRANSACTION_COMMIT_RESULT_LABEL)
            && !(e instanceof MongoExecutionTimeoutException)
            && System.nanoTime() < deadline) {
          log.warn("{}: commit result unknown (attempt {}), retrying the commit", what, attempt, e);
          backoff(attempt);
          continue;
        }
        if (e.hasErrorLabel(MongoException.UNKNOWN_TRANSACTION_COMMIT_RESULT_LABEL)) {
          throw new StoreUnavailableException(
              what
                  + " on "
                  + where
                  + ": the transaction's commit result is unknown after retrying for "
                  + config.transactionTimeout()
                  + ". It may or may not have committed: re-read positions before going on.",
              e);
        }
        throw e;
      }
    }
  }

  private void retryTransaction(int attempt, String what, Throwable e) {
    log.warn(
        "{}: transient transaction error (attempt {}), retrying: {}", what, attempt, e.toString());
    backoff(attempt);
  }

  private static boolean isTransient(MongoException e) {
    // The jongodb emulator reports a commit-time write conflict (code 112) without the
    // TransientTransactionError label MongoDB puts on it; the transaction is aborted either way.
    // A refusal is never transient, whatever label the driver put on it inside a transaction.
    return !accessDenied(e)
        && (e.hasErrorLabel(MongoException.TRANSIENT_TRANSACTION_ERROR_LABEL)
            || e.getCode() == WRITE_CONFLICT);
  }

  private static boolean transient_(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof MongoException m && isTransient(m)) {
        return true;
      }
    }
    return false;
  }

  private static void abortQuietly(ClientSession session) {
    if (session.hasActiveTransaction()) {
      try {
        session.abortTransaction();
      } catch (RuntimeException e) {
        // abortTransaction already swallows server errors; this is a closed client or the like.
        log.debug("abortTransaction failed", e);
      }
    }
  }

  private void write(
      String group,
      List<OffsetRange> ranges,
      ResultWriter<MongoResults> results,
      MongoResults handle) {
    try {
      results.write(handle);
    } catch (Exception | Error e) {
      throw writerFailed(group, ranges, e);
    }
  }

  private void flush(String group, MongoResults handle) {
    try {
      handle.flush();
    } catch (MongoBulkWriteException e) {
      throw writesFailed(group, List.of(), e);
    } catch (MongoException | BSONException e) {
      throw failure("writing results of group '" + group + "'", e);
    }
  }

  private static ResultWriteException writerFailed(
      String group, List<OffsetRange> ranges, Throwable e) {
    if (e instanceof Error err && !(e instanceof AssertionError)) {
      throw err;
    }
    return new ResultWriteException(
        "The result writer of group '"
            + group
            + "' threw "
            + e
            + "; the commit of "
            + ranges
            + " was aborted and no position moved.",
        e);
  }

  private static ResultWriteException writesFailed(
      String group, List<OffsetRange> ranges, MongoBulkWriteException e) {
    return new ResultWriteException(
        "The queued result writes of group '"
            + group
            + "' failed: "
            + e.getWriteErrors()
            + "; the commit"
            + (ranges.isEmpty() ? "" : " of " + ranges)
            + " was aborted and no position moved.",
        e);
  }

  private void throwConflicts(String group, List<OffsetRange> ranges) {
    Map<Partition, Long> stored;
    if (partitionLayout) {
      List<Partition> ps = new ArrayList<>(ranges.size());
      ranges.forEach(r -> ps.add(r.partition()));
      stored = readPartitions(null, group, ps);
    } else {
      stored = read(group);
    }
    List<Conflict> conflicts = Conflicts.of(ranges, stored);
    if (!conflicts.isEmpty()) {
      log.warn("group '{}': offset conflict on {}", group, conflicts);
      throw new OffsetConflictException(group, conflicts);
    }
  }

  // ---------------------------------------------------------------- administration

  @Override
  public Set<String> groups() {
    checkOpen();
    if (partitionLayout) {
      return partitionGroups();
    }
    Set<String> out = new LinkedHashSet<>();
    try {
      for (BsonDocument d :
          offsets
              .find(Filters.exists(PARTITIONS + ".0"))
              .projection(Projections.include(ID))
              .sort(new BsonDocument(ID, new BsonInt64(1)))) {
        out.add(d.getString(ID).getValue());
      }
    } catch (MongoException | BSONException e) {
      throw failure("listing groups", e);
    }
    return out;
  }

  @Override
  public void overwrite(String group, Map<Partition, Long> positions) {
    checkGroup(group);
    Map<Partition, Long> sorted = StoreArguments.positions(positions);
    checkOpen();
    if (sorted.isEmpty()) {
      return;
    }
    if (partitionLayout) {
      overwritePartitions(group, sorted);
      return;
    }
    for (int attempt = 1; ; attempt++) {
      BsonDocument doc = find(group);
      Map<Partition, Long> after = new TreeMap<>(GroupDocuments.positions(doc));
      after.putAll(sorted);
      checkFits(group, after, "overwriting " + sorted.size() + " position(s)");
      if (replace(group, doc, after)) {
        log.info("group '{}': positions overwritten: {}", group, sorted);
        return;
      }
      raced(attempt, "overwriting positions of group '" + group + "'");
    }
  }

  @Override
  public boolean delete(String group) {
    checkGroup(group);
    checkOpen();
    if (partitionLayout) {
      return deletePartitions(group, null) > 0;
    }
    try {
      BsonDocument doc = find(group);
      if (doc == null) {
        return false;
      }
      offsets.deleteOne(Filters.eq(ID, group));
      boolean had = !GroupDocuments.positions(doc).isEmpty();
      log.info("group '{}' deleted", group);
      return had;
    } catch (MongoException | BSONException e) {
      throw failure("deleting group '" + group + "'", e);
    }
  }

  @Override
  public int delete(String group, Collection<Partition> partitions) {
    checkGroup(group);
    List<Partition> gone = StoreArguments.partitions(partitions);
    checkOpen();
    if (partitionLayout) {
      return gone.isEmpty() ? 0 : deletePartitions(group, gone);
    }
    for (int attempt = 1; ; attempt++) {
      BsonDocument doc = find(group);
      Map<Partition, Long> after = new TreeMap<>(GroupDocuments.positions(doc));
      int before = after.size();
      after.keySet().removeAll(gone);
      int deleted = before - after.size();
      if (deleted == 0) {
        return 0;
      }
      if (replace(group, doc, after)) {
        log.info("group '{}': {} position(s) deleted", group, deleted);
        return deleted;
      }
      raced(attempt, "deleting partitions of group '" + group + "'");
    }
  }

  /**
   * Compare-and-set of a whole group document on its revision: replaces {@code before} (null: no
   * document) by {@code after}. Returns false if another writer changed the document meanwhile.
   */
  private boolean replace(String group, BsonDocument before, Map<Partition, Long> after) {
    String what = "writing positions of group '" + group + "'";
    try {
      if (before == null) {
        offsets.insertOne(GroupDocuments.document(group, 1, after));
        return true;
      }
      long revision = GroupDocuments.revision(before);
      BsonDocument filter =
          new BsonDocument(ID, new BsonString(group)).append(REVISION, new BsonInt64(revision));
      if (after.isEmpty()) {
        return offsets.deleteOne(filter).getDeletedCount() == 1;
      }
      BsonDocument update =
          new BsonDocument(
              "$set",
              new BsonDocument(PARTITIONS, GroupDocuments.array(after))
                  .append(REVISION, new BsonInt64(revision + 1)));
      return offsets.updateOne(filter, update).getMatchedCount() == 1;
    } catch (MongoException e) {
      if (duplicateKey(e)) {
        return false; // created concurrently: read again
      }
      throw failure(what, e);
    } catch (BSONException e) {
      throw failure(what, e);
    }
  }

  // ---------------------------------------------------------------- partition layout

  /** The stored positions of {@code partitions}, in the transaction of {@code session} if any. */
  private Map<Partition, Long> readPartitions(
      ClientSession session, String group, List<Partition> partitions) {
    Map<Partition, Long> out = new TreeMap<>();
    if (partitions.isEmpty()) {
      return out;
    }
    BsonArray ids = new BsonArray();
    partitions.forEach(p -> ids.add(PartitionDocuments.id(group, p)));
    BsonDocument filter = new BsonDocument(ID, new BsonDocument("$in", ids));
    try {
      for (BsonDocument d :
          session == null ? offsets.find(filter) : offsets.find(session, filter)) {
        PartitionDocuments.put(out, d);
      }
    } catch (MongoException | BSONException e) {
      throw failure("reading positions of group '" + group + "'", e);
    }
    return out;
  }

  /** Every position of a group: its documents, found by the group in their {@code _id}. */
  private Map<Partition, Long> readGroupPartitions(String group) {
    Map<Partition, Long> out = new TreeMap<>();
    try {
      for (BsonDocument d : offsets.find(PartitionDocuments.filterGroup(group))) {
        PartitionDocuments.put(out, d);
      }
    } catch (MongoException | BSONException e) {
      throw failure("reading positions of group '" + group + "'", e);
    }
    return out;
  }

  /**
   * Inserts the missing positions, one document each; a document inserted meanwhile by another
   * initializer (duplicate key) wins. Refuses a group still kept in the group layout (a store
   * upgraded to the partition default over an existing collection): starting it afresh would replay
   * or skip its records.
   */
  private Map<Partition, Long> initializePartitions(String group, Map<Partition, Long> sorted) {
    List<Partition> all = new ArrayList<>(sorted.keySet());
    Map<Partition, Long> existing = readPartitions(null, group, all);
    if (existing.size() < sorted.size()) {
      BsonDocument legacy = find(group);
      if (legacy != null && !GroupDocuments.positions(legacy).isEmpty()) {
        throw new StoreConfigurationException(
            "group '"
                + group
                + "' is stored in the group layout (one document with _id '"
                + group
                + "' in "
                + config.collection()
                + "), but the store runs the partition layout. Set the option layout=group"
                + " (builder: layout(MongoLayout.GROUP)), or move the group's positions.");
      }
    }
    for (int attempt = 1; existing.size() < sorted.size(); attempt++) {
      List<BsonDocument> inserts = new ArrayList<>();
      for (Map.Entry<Partition, Long> e : sorted.entrySet()) {
        if (!existing.containsKey(e.getKey())) {
          inserts.add(PartitionDocuments.document(group, e.getKey(), e.getValue()));
        }
      }
      boolean raced = false;
      try {
        // Unordered: every insert is tried; a duplicate key is a document another initializer
        // inserted first, which wins.
        offsets.insertMany(inserts, new InsertManyOptions().ordered(false));
      } catch (MongoBulkWriteException ex) {
        for (BulkWriteError err : ex.getWriteErrors()) {
          if (ErrorCategory.fromErrorCode(err.getCode()) != ErrorCategory.DUPLICATE_KEY) {
            throw failure("initializing group '" + group + "'", ex);
          }
        }
        raced = true;
      } catch (MongoException ex) {
        // The jongodb emulator answers a duplicate in insertMany with a command error (E11000)
        // and may stop at it: read again and insert what is still missing.
        if (!duplicateKey(ex)) {
          throw failure("initializing group '" + group + "'", ex);
        }
        raced = true;
      } catch (BSONException ex) {
        throw failure("initializing group '" + group + "'", ex);
      }
      existing = readPartitions(null, group, all);
      if (raced && existing.size() < sorted.size()) {
        raced(attempt, "initializing group '" + group + "'");
      } else if (existing.size() < sorted.size()) {
        throw new StoreUnavailableException(
            "initializing group '"
                + group
                + "' on "
                + where
                + ": "
                + (sorted.size() - existing.size())
                + " inserted position(s) are not readable back; retry",
            null);
      }
    }
    Map<Partition, Long> out = new LinkedHashMap<>();
    for (Partition p : all) {
      out.put(p, existing.get(p));
    }
    return out;
  }

  /**
   * Standalone server: keyed results first, then each range's own conditional update. Ranges are
   * independent: those that match move, the others are reported together as conflicts.
   */
  private void commitIdempotentPartitions(
      String group, List<OffsetRange> ranges, ResultWriter<MongoResults> results) {
    MongoResults handle =
        new MongoResults(database, null, Guarantee.IDEMPOTENT, config.collection());
    write(group, ranges, results, handle);
    flush(group, handle);
    List<Conflict> conflicts = new ArrayList<>();
    for (OffsetRange r : ranges) {
      for (int attempt = 1; ; attempt++) {
        long matched;
        try {
          matched =
              offsets
                  .updateOne(
                      new BsonDocument(ID, PartitionDocuments.id(group, r.partition()))
                          .append(PartitionDocuments.POSITION, new BsonInt64(r.from())),
                      new BsonDocument(
                          "$set",
                          new BsonDocument(PartitionDocuments.POSITION, new BsonInt64(r.until()))))
                  .getMatchedCount();
        } catch (MongoException | BSONException e) {
          throw failure("committing " + r + " of group '" + group + "'", e);
        }
        if (matched == 1) {
          break;
        }
        List<Conflict> found =
            Conflicts.of(List.of(r), readPartitions(null, group, List.of(r.partition())));
        if (!found.isEmpty()) {
          conflicts.addAll(found);
          break;
        }
        // At from again when read back (an overwrite moved it back): results are keyed, so the
        // update can be tried again.
        raced(attempt, "committing " + r + " of group '" + group + "'");
      }
    }
    if (!conflicts.isEmpty()) {
      log.warn("group '{}': offset conflict on {}", group, conflicts);
      throw new OffsetConflictException(group, conflicts);
    }
    log.debug("group '{}': committed {}", group, ranges);
  }

  private Set<String> partitionGroups() {
    Set<String> out = new java.util.TreeSet<>();
    try {
      for (BsonDocument d :
          offsets
              .find(Filters.exists(PartitionDocuments.POSITION))
              .projection(Projections.include(ID))) {
        String g = PartitionDocuments.group(d);
        if (g != null) {
          out.add(g);
        }
      }
    } catch (MongoException | BSONException e) {
      throw failure("listing groups", e);
    }
    return new LinkedHashSet<>(out);
  }

  /** Forced positions: each document replaced or inserted. */
  private void overwritePartitions(String group, Map<Partition, Long> sorted) {
    try {
      for (Map.Entry<Partition, Long> e : sorted.entrySet()) {
        BsonDocument doc = PartitionDocuments.document(group, e.getKey(), e.getValue());
        offsets.replaceOne(
            new BsonDocument(ID, doc.get(ID)),
            doc,
            new com.mongodb.client.model.ReplaceOptions().upsert(true));
      }
    } catch (MongoException | BSONException e) {
      throw failure("overwriting positions of group '" + group + "'", e);
    }
    log.info("group '{}': positions overwritten: {}", group, sorted);
  }

  /** Deletes the documents of {@code partitions} (null: the whole group); returns how many. */
  private int deletePartitions(String group, List<Partition> partitions) {
    BsonDocument filter;
    if (partitions == null) {
      filter = PartitionDocuments.filterGroup(group);
    } else {
      BsonArray ids = new BsonArray();
      partitions.forEach(p -> ids.add(PartitionDocuments.id(group, p)));
      filter = new BsonDocument(ID, new BsonDocument("$in", ids));
    }
    try {
      long n = offsets.deleteMany(filter).getDeletedCount();
      log.info("group '{}': {} position(s) deleted", group, n);
      return (int) n;
    } catch (MongoException | BSONException e) {
      throw failure("deleting positions of group '" + group + "'", e);
    }
  }

  // ---------------------------------------------------------------- checks and errors

  private void checkGroup(String group) {
    StoreArguments.group(group);
    int bytes = group.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_GROUP_BYTES) {
      throw new InvalidBatchException(
          "group must be at most "
              + MAX_GROUP_BYTES
              + " bytes in UTF-8 on MongoDB (it is the _id of the group's document), got "
              + bytes
              + " bytes ("
              + group.substring(0, 20)
              + "...)");
    }
  }

  /** Refuses, before writing, a group document that would pass MongoDB's 16 MiB limit. */
  private static void checkFits(String group, Map<Partition, Long> after, String what) {
    int size = GroupDocuments.size(GroupDocuments.document(group, Long.MAX_VALUE, after));
    if (size > GroupDocuments.MAX_BSON_BYTES) {
      throw new BatchTooLargeException(
          what
              + " would make the document of group '"
              + group
              + "' "
              + size
              + " bytes with "
              + after.size()
              + " partitions, over MongoDB's limit of "
              + GroupDocuments.MAX_BSON_BYTES
              + " bytes per document; nothing was written. A group holds at least "
              + GroupDocuments.MAX_PARTITIONS_WORST_CASE
              + " partitions whatever their topic names (more with short ones): split the"
              + " topics among several groups.");
    }
  }

  private void raced(int attempt, String what) {
    if (attempt >= MAX_RACE_ATTEMPTS) {
      throw new StoreUnavailableException(
          what
              + " on "
              + where
              + ": the group's document kept changing under "
              + attempt
              + " attempts; retry later.",
          null);
    }
    log.debug("{}: raced with another writer (attempt {}), retrying", what, attempt);
    backoff(attempt);
  }

  private static void backoff(int attempt) {
    long maxMillis = Math.min(200, 5L << Math.min(attempt, 6));
    LockSupport.parkNanos(
        TimeUnit.MILLISECONDS.toNanos(ThreadLocalRandom.current().nextLong(1, maxMillis + 1)));
  }

  /**
   * Creates the offsets collection if it does not exist. The first write would create it anyway,
   * but not inside a transaction on MongoDB before 4.4 or on a sharded cluster before 8.0, and not
   * for a user without the {@code createCollection} privilege; so a deployment step creates it
   * here, explicitly. The layout needs no index beyond {@code _id}. Idempotent, also against a
   * concurrent call (the server's NamespaceExists answer is success).
   *
   * @throws StoreUnavailableException if the server cannot be reached
   * @throws OffsetStoreException if the server refuses
   */
  @Override
  public void prepare() {
    checkOpen();
    // Create and take "exists" as success, rather than list first: one round trip, no race
    // between the look and the create, and no need for the listCollections privilege.
    try {
      database.createCollection(config.collection());
      log.info("Created collection {}.{} on {}", config.database(), config.collection(), where);
    } catch (MongoCommandException e) {
      if (e.getErrorCode() == COMMAND_NOT_FOUND) {
        // Every MongoDB server has "create"; some emulators (jongodb 0.1.6) have not, and create
        // collections only by writing to them, which the first initialize() does.
        log.info(
            "The server at {} has no create command; collection {} is created by its first write",
            where,
            config.collection());
      } else if (e.getErrorCode() != NAMESPACE_EXISTS) {
        throw failure("creating collection " + config.collection(), e);
      }
    } catch (RuntimeException e) {
      throw failure("creating collection " + config.collection(), e);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("MongoOffsetStore on " + where + " is closed");
    }
  }

  /**
   * Maps a driver exception to Tandem's: the one place where MongoDB errors are classified. Refused
   * credentials and missing privileges are never retriable ({@link StoreAccessDeniedException});
   * connection loss, timeouts, failovers and write-concern failures are ({@link
   * StoreUnavailableException}); size limits are the caller's ({@link BatchTooLargeException});
   * anything else is an unexpected {@link OffsetStoreException} naming the server's error.
   */
  private OffsetStoreException failure(String what, RuntimeException e) {
    if (e instanceof OffsetStoreException o) {
      return o;
    }
    // Before the retriable classes: a revoked password must stop a consumer, not have it retry
    // forever under the default retry policy.
    if (accessDenied(e)) {
      return new StoreAccessDeniedException(
          what
              + " on MongoDB at "
              + where
              + " was refused: "
              + e.getMessage()
              + ". Not retriable: check the user, password, authSource and roles.",
          e);
    }
    if (e instanceof BSONException || tooLarge(e)) {
      return new BatchTooLargeException(
          what
              + " exceeds a MongoDB size limit (16 MiB per document or statement): "
              + e.getMessage()
              + ". Commit fewer partitions or smaller results per call.");
    }
    if (e instanceof MongoTimeoutException
        || e instanceof MongoSocketException
        || e instanceof MongoNotPrimaryException
        || e instanceof MongoNodeIsRecoveringException
        || e instanceof MongoConnectionPoolClearedException
        || e instanceof MongoExecutionTimeoutException
        || e instanceof MongoOperationTimeoutException
        || e instanceof MongoWriteConcernException
        || e instanceof MongoInterruptedException
        || (e instanceof MongoException m
            && (m.hasErrorLabel(MongoException.TRANSIENT_TRANSACTION_ERROR_LABEL)
                || m.hasErrorLabel("RetryableWriteError")
                || m.hasErrorLabel(MongoException.UNKNOWN_TRANSACTION_COMMIT_RESULT_LABEL)))) {
      return new StoreUnavailableException(
          what + " on MongoDB at " + where + " failed: " + e + ". Re-read positions and retry.", e);
    }
    if (e instanceof MongoClientException && closedClient(e)) {
      return new StoreUnavailableException(
          what + " on " + where + ": the MongoDB client is closed", e);
    }
    return new OffsetStoreException(
        what + " on MongoDB at " + where + " failed: " + e.getMessage(), e);
  }

  /**
   * Whether MongoDB refused the credentials or a privilege: the driver's {@link
   * MongoSecurityException} (authentication failed while connecting), or a server error with code
   * 13 (Unauthorized), 18 (AuthenticationFailed) or 11 (UserNotFound), anywhere in the cause chain.
   */
  static boolean accessDenied(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof MongoSecurityException) {
        return true;
      }
      if (c instanceof MongoException m
          && (m.getCode() == UNAUTHORIZED
              || m.getCode() == AUTHENTICATION_FAILED
              || m.getCode() == USER_NOT_FOUND)) {
        return true;
      }
    }
    return false;
  }

  /**
   * MongoDB reports a duplicate _id of an insert or upsert as a write error; the jongodb emulator
   * as a command error with the same code 11000 (seen in JongodbFactsIT).
   */
  private static boolean duplicateKey(MongoException e) {
    if (e instanceof MongoWriteException w) {
      return w.getError().getCategory() == ErrorCategory.DUPLICATE_KEY;
    }
    return e instanceof MongoServerException
        && ErrorCategory.fromErrorCode(e.getCode()) == ErrorCategory.DUPLICATE_KEY;
  }

  private static boolean tooLarge(RuntimeException e) {
    int code =
        e instanceof MongoWriteException w
            ? w.getError().getCode()
            : e instanceof MongoServerException s ? s.getCode() : 0;
    return code == BSON_OBJECT_TOO_LARGE
        || code == UPDATE_RESULT_TOO_LARGE
        || code == TRANSACTION_TOO_LARGE
        || (e instanceof MongoCommandException c && c.getErrorCodeName().contains("TooLarge"));
  }

  private static boolean closedClient(RuntimeException e) {
    String m = e.getMessage();
    return m != null && m.contains("state should be: open");
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (ownsClient) {
      client.close();
    }
  }

  /** What the driver learned about the deployment. */
  private record Server(
      ClusterType type, String setName, int maxWireVersion, Integer sessionMinutes) {

    // Transactions need wire version 7 (MongoDB 4.0) on a replica set, 8 (4.2) on a cluster.
    private static final int REPLICA_SET_TRANSACTIONS = 7;
    private static final int SHARDED_TRANSACTIONS = 8;

    static Server of(ClusterDescription cluster) {
      int wire = 0;
      String set = null;
      for (ServerDescription s : cluster.getServerDescriptions()) {
        if (s.isOk()) {
          wire = Math.max(wire, s.getMaxWireVersion());
          if (s.getSetName() != null) {
            set = s.getSetName();
          }
        }
      }
      return new Server(cluster.getType(), set, wire, cluster.getLogicalSessionTimeoutMinutes());
    }

    boolean transactions() {
      return whyNoTransactions() == null;
    }

    String whyNoTransactions() {
      switch (type) {
        case REPLICA_SET:
          if (sessionMinutes == null) {
            return "it reports no logical sessions";
          }
          return maxWireVersion < REPLICA_SET_TRANSACTIONS
              ? "it is older than MongoDB 4.0 (wire version " + maxWireVersion + ")"
              : null;
        case SHARDED:
          if (sessionMinutes == null) {
            return "it reports no logical sessions";
          }
          return maxWireVersion < SHARDED_TRANSACTIONS
              ? "it is older than MongoDB 4.2 (wire version " + maxWireVersion + ")"
              : null;
        case LOAD_BALANCED:
          // Behind a load balancer the driver learns no topology; such deployments (Atlas,
          // sharded clusters behind a proxy) run transactions.
          return null;
        case STANDALONE:
          return "a standalone server has no transactions";
        default:
          return "its type is " + type;
      }
    }

    String describe() {
      return type
          + (setName != null ? " (set " + setName + ")" : "")
          + ", wire version "
          + maxWireVersion;
    }
  }
}
