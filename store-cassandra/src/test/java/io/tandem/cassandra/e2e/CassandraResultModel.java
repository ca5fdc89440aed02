package io.tandem.cassandra.e2e;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.tandem.cassandra.CassandraOffsetStore;
import io.tandem.cassandra.CassandraResults;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.tck.e2e.E2eRecord;
import io.tandem.tck.e2e.ResultModel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The end-to-end kit's results on Cassandra, an IDEMPOTENT store.
 *
 * <p>Two tables, one Cassandra partition per run (namespace):
 *
 * <ul>
 *   <li>{@code e2e_results (ns, id, k, amount)}, primary key {@code (ns, id)}: the record's result,
 *       a keyed {@code INSERT}. A replay of the record overwrites the same row, so this table holds
 *       at most one result per id <em>by construction</em>: {@link #read()} reporting one
 *       occurrence per id proves only that no id is missing and none is foreign, never that nothing
 *       was applied twice.
 *   <li>{@code e2e_writes (ns, id, attempt, k, amount)}, primary key {@code (ns, id, attempt)}: a
 *       log of every write of the record, one row per batch attempt ({@code attempt} is a UUID
 *       drawn once per {@link #write} call, bound as a value, so the statement stays a keyed,
 *       replay-safe overwrite). This is what makes the idempotent case observable: a record whose
 *       batch was written, then lost its commit (killed between the result statements and the
 *       offsets' LWT, or beaten by another owner) and replayed, has two or more attempts.
 * </ul>
 *
 * <p>{@link #write} also pre-writes the batch's results directly (see the comment there), so that
 * the kit's kills "inside an open commit" leave results standing without their offsets, the window
 * an idempotent store must survive; the final row of every record must come from the store's own
 * statements.
 *
 * <p>What the check proves for an idempotent store ({@link CassandraE2EIT}'s extra test, on top of
 * the kit's [E1]): every input id has exactly one result row and that row is the input record's own
 * (same key and amount, so the id maps 1:1 to its input, no row written for another record under
 * its id), last written by the store's commit path, not the pre-write; every result row was written
 * by at least one worker attempt; every attempt of a record wrote the same values (a replay is a
 * true overwrite, so the surviving result does not depend on which attempt ran last); and how many
 * records were written more than once — the duplicates an appending model on this store would have
 * shown, which the store's contract allows and the keyed result absorbs. It cannot prove a fold (a
 * running total) is exactly-once: that needs a transactional store, and the kit skips [E2] for that
 * reason.
 *
 * <p>Statements go through the commit's {@link CassandraResults} handle, marked idempotent; the
 * store runs them after the writer returned and before its LWT moves the offsets.
 */
public final class CassandraResultModel implements ResultModel<CassandraResults> {

  /** The tables, for {@link CassandraE2EIT} to create once before any worker starts. */
  static final String RESULTS_TABLE = "e2e_results";

  static final String WRITES_TABLE = "e2e_writes";

  /** What {@link #read()} saw in this JVM, per namespace, for the extra checks of the test. */
  static final Map<String, Detail> READ = new ConcurrentHashMap<>();

  private OffsetStore<?> store;
  private CqlSession session;
  private String keyspace;
  private String namespace;

  /** For the kit, which instantiates it by name. */
  public CassandraResultModel() {}

  /** Creates the model's tables in a keyspace, idempotently. */
  static void createTables(CqlSession session, String keyspace) {
    session.execute(
        SimpleStatement.newInstance(
                "CREATE TABLE IF NOT EXISTS "
                    + keyspace
                    + "."
                    + RESULTS_TABLE
                    + " (ns text, id text, k text, amount bigint, via text, PRIMARY KEY (ns, id))")
            .setTimeout(java.time.Duration.ofSeconds(60)));
    session.execute(
        SimpleStatement.newInstance(
                "CREATE TABLE IF NOT EXISTS "
                    + keyspace
                    + "."
                    + WRITES_TABLE
                    + " (ns text, id text, attempt uuid, k text, amount bigint,"
                    + " PRIMARY KEY (ns, id, attempt))")
            .setTimeout(java.time.Duration.ofSeconds(60)));
  }

  @Override
  public void open(String storeUri, Map<String, String> properties, String namespace) {
    if (!namespace.matches("[a-z][a-z0-9_]{0,39}")) {
      throw new IllegalArgumentException("namespace must match [a-z][a-z0-9_]{0,39}: " + namespace);
    }
    this.namespace = namespace;
    store = OffsetStores.open(storeUri, properties);
    if (!(store instanceof CassandraOffsetStore cassandra)) {
      throw new IllegalArgumentException(
          "not a Cassandra store URI: " + store + " (model " + getClass().getName() + ")");
    }
    session = cassandra.session();
    keyspace = cassandra.config().keyspace();
    // The test created the tables before any worker started: several JVMs running CREATE TABLE
    // at once can leave Cassandra (before 5.1's transactional metadata) with conflicting table
    // ids, so workers only check.
    if (session
        .getMetadata()
        .getKeyspace(keyspace)
        .flatMap(k -> k.getTable(WRITES_TABLE))
        .isEmpty()) {
      createTables(session, keyspace);
    }
  }

  @Override
  public void write(CassandraResults handle, List<E2eRecord> batch) {
    UUID attempt = UUID.randomUUID();
    String insert =
        "INSERT INTO "
            + keyspace
            + "."
            + RESULTS_TABLE
            + " (ns, id, k, amount, via) VALUES (?, ?, ?, ?, ?)";
    PreparedStatement result = handle.prepare(insert);
    PreparedStatement write =
        handle.prepare(
            "INSERT INTO "
                + keyspace
                + "."
                + WRITES_TABLE
                + " (ns, id, attempt, k, amount) VALUES (?, ?, ?, ?, ?)");
    // The pre-write: the store runs the handle's statements only after this writer returns, so
    // the kit's "hang" (a kill inside the commit, right after this method) would otherwise always
    // land before any result reached Cassandra. Writing the batch's results now, marked
    // via='pre', leaves at such a kill the state a crash between the store's result statements
    // and its LWT leaves: results standing, offsets not moved. The store's own statements below
    // run later on the same session (a higher client timestamp) and set via='store'; [C1]
    // requires 'store' on every row, so the pre-write can never stand in for a result the store
    // failed to write.
    BatchStatementBuilder pre = BatchStatement.builder(DefaultBatchType.UNLOGGED);
    for (E2eRecord r : batch) {
      pre.addStatement(result.bind(namespace, r.id(), r.key(), r.amount(), "pre"));
      pre.addStatement(write.bind(namespace, r.id(), attempt, r.key(), r.amount()));
    }
    // One Cassandra partition (the namespace): an unlogged batch is one mutation.
    handle.session().execute(pre.build().setIdempotent(true));
    for (E2eRecord r : batch) {
      handle.add(result.bind(namespace, r.id(), r.key(), r.amount(), "store").setIdempotent(true));
      handle.add(write.bind(namespace, r.id(), attempt, r.key(), r.amount()).setIdempotent(true));
    }
  }

  @Override
  public Observed read() {
    Map<String, Integer> occurrences = new HashMap<>();
    Map<String, E2eRecord> results = new HashMap<>();
    List<String> notByStore = new ArrayList<>();
    for (Row row :
        session.execute(
            SimpleStatement.newInstance(
                    "SELECT id, k, amount, via FROM "
                        + keyspace
                        + "."
                        + RESULTS_TABLE
                        + " WHERE ns = ?",
                    namespace)
                .setPageSize(5000))) {
      String id = row.getString(0);
      occurrences.merge(id, 1, Integer::sum);
      results.put(id, new E2eRecord(id, row.getString(1), row.getLong(2)));
      if (!"store".equals(row.getString(3))) {
        notByStore.add(id);
      }
    }
    Map<String, List<E2eRecord>> writes = new HashMap<>();
    for (Row row :
        session.execute(
            SimpleStatement.newInstance(
                    "SELECT id, k, amount FROM " + keyspace + "." + WRITES_TABLE + " WHERE ns = ?",
                    namespace)
                .setPageSize(5000))) {
      String id = row.getString(0);
      writes
          .computeIfAbsent(id, x -> new ArrayList<>())
          .add(new E2eRecord(id, row.getString(1), row.getLong(2)));
    }
    READ.put(
        namespace, new Detail(Map.copyOf(results), Map.copyOf(writes), List.copyOf(notByStore)));
    // No folds: keyed results cannot fold exactly-once on an idempotent store.
    return new Observed(occurrences, Map.of());
  }

  @Override
  public void close() {
    if (store != null) {
      store.close();
      store = null;
    }
  }

  /**
   * What the tables held for one namespace.
   *
   * @param results the result row of each id
   * @param writes every write attempt of each id
   * @param notByStore ids whose result row was last written by the pre-write, not by the store
   */
  record Detail(
      Map<String, E2eRecord> results,
      Map<String, List<E2eRecord>> writes,
      List<String> notByStore) {}
}
