package io.tandem.demo;

import io.tandem.spi.Capabilities;
import io.tandem.spi.StoreUris;
import io.tandem.tck.e2e.E2eRecord;
import io.tandem.tck.e2e.ResultModel;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The demo's ledger on a store that is not SQL: the end-to-end kit's {@link ResultModel} of that
 * store, the code that proves the store exactly-once in its own build, found by {@link
 * ServiceLoader} in the store's test jar. A payment is an {@link E2eRecord} (id = payment id, key =
 * account, amount = cents, the same {@code id;amount} value the demo produces); a model appends one
 * result per payment and folds the amounts per account on a TRANSACTIONAL store, and writes keyed
 * results without a fold on an IDEMPOTENT one (a replay overwrites itself, so a fold is not
 * possible there: DESIGN, "Idempotent ... cannot do aggregates").
 */
@SuppressWarnings("try") // ResultModel.close() may throw anything a driver throws
final class ModelLedger implements AutoCloseable {

  private final ResultModel<Object> model;
  private final boolean folds;

  private ModelLedger(ResultModel<Object> model, boolean folds) {
    this.model = model;
    this.folds = folds;
  }

  /**
   * The model class for a store: per URI scheme, and for MongoDB per guarantee (a standalone server
   * gives IDEMPOTENT, a replica set TRANSACTIONAL).
   *
   * @throws IllegalArgumentException for a scheme without a model (jdbc: has the SQL ledger)
   */
  static String modelFor(String storeUri, Capabilities caps) {
    String scheme = StoreUris.scheme(storeUri);
    return switch (scheme) {
      case "redis", "rediss" -> "io.tandem.redis.e2e.RedisResultModel";
      case "zookeeper" -> "io.tandem.zookeeper.e2e.ZooKeeperResultModel";
      case "cassandra" -> "io.tandem.cassandra.e2e.CassandraResultModel";
      case "mongodb", "mongodb+srv" ->
          caps.transactional()
              ? "io.tandem.mongo.e2e.MongoCountingResultModel"
              : "io.tandem.mongo.e2e.MongoKeyedResultModel";
      default ->
          throw new IllegalArgumentException(
              "no demo ledger for a " + scheme + " store (jdbc: stores use the SQL ledger)");
    };
  }

  /**
   * Creates the named model and opens it on the run's namespace (creating its tables, collections
   * or nodes; idempotent, several JVMs may do it at once).
   *
   * @param folds whether the store is TRANSACTIONAL, so that the model folds balances
   */
  static ModelLedger open(
      String className, String storeUri, Map<String, String> props, String namespace, boolean folds)
      throws Exception {
    ResultModel<Object> model = create(className);
    try {
      model.open(storeUri, props, namespace);
    } catch (Exception | Error e) {
      try {
        model.close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return new ModelLedger(model, folds);
  }

  @SuppressWarnings({"unchecked", "rawtypes"}) // a service of a generic type
  private static ResultModel<Object> create(String className) {
    List<String> found = new ArrayList<>();
    for (ServiceLoader.Provider<ResultModel> p :
        ServiceLoader.load(ResultModel.class).stream().toList()) {
      if (p.type().getName().equals(className)) {
        return p.get();
      }
      found.add(p.type().getName());
    }
    throw new IllegalStateException(
        "result model "
            + className
            + " is not on the class path (the store's test jar); found "
            + found);
  }

  /** The namespace of a run: the models' tables and keys are derived from it. */
  static String namespace(String run) {
    return "demo_" + run;
  }

  /** Writes a batch of payments through the commit's handle. */
  void apply(Object handle, List<E2eRecord> batch) throws Exception {
    model.write(handle, batch);
  }

  /**
   * Reads back the run: results per payment id, and the folded balances when the store folds.
   *
   * @param records payments produced, ids {@code 0..records-1}
   * @param lostSample filled with up to 5 ids with no result
   */
  DemoLedger.Observed read(long records, List<Long> lostSample) throws Exception {
    ResultModel.Observed seen = model.read();
    long rows = 0;
    long distinct = 0;
    long unexpected = 0;
    BitSet present = new BitSet();
    for (Map.Entry<String, Integer> e : seen.occurrences().entrySet()) {
      rows += e.getValue();
      long id = parse(e.getKey());
      if (id >= 0 && id < records) {
        present.set((int) id);
        distinct++;
      } else {
        unexpected += e.getValue();
      }
    }
    for (int i = present.nextClearBit(0);
        i < records && lostSample.size() < 5;
        i = present.nextClearBit(i + 1)) {
      lostSample.add((long) i);
    }
    Map<String, Long> balances = folds ? seen.totals() : new HashMap<>();
    return new DemoLedger.Observed(
        rows - unexpected, distinct, rows - unexpected - distinct, balances, folds, unexpected);
  }

  private static long parse(String id) {
    try {
      return Long.parseLong(id);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  @Override
  public void close() throws Exception {
    model.close();
  }
}
