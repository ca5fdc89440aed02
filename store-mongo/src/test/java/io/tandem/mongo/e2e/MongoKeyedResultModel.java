package io.tandem.mongo.e2e;

import io.tandem.mongo.MongoResults;
import io.tandem.tck.e2e.E2eRecord;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bson.Document;

/**
 * Results for an IDEMPOTENT MongoDB store (a standalone server): per record, a keyed replace of
 * {@code {_id: id, k, amount}} in {@code <ns>_results}, so a replayed batch overwrites its own
 * results with the same values. No fold: a {@code $inc} would count a replay twice (the store
 * refuses it there), so {@link Observed#totals()} is empty and the kit skips its fold rule.
 *
 * <p>By construction a keyed result cannot show a duplicate: on this path the kit's duplicate count
 * is 0 whatever happens, and what the run proves is that no record is lost and nothing unexpected
 * appears (a replay after a kill lands on the same keys).
 */
public final class MongoKeyedResultModel extends MongoResultModel {

  /** For the kit, which instantiates it by name. */
  public MongoKeyedResultModel() {}

  @Override
  public void write(MongoResults tx, List<E2eRecord> batch) {
    for (E2eRecord r : batch) {
      tx.replace(results, r.id(), new Document("k", r.key()).append("amount", r.amount()));
    }
  }

  @Override
  public Observed read() {
    Map<String, Integer> occurrences = new HashMap<>();
    for (Document d : all(results)) {
      occurrences.put(d.getString("_id"), 1);
    }
    return new Observed(occurrences, Map.of());
  }
}
