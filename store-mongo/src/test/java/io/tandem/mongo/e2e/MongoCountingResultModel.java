package io.tandem.mongo.e2e;

import io.tandem.mongo.MongoResults;
import io.tandem.tck.e2e.E2eRecord;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bson.Document;

/**
 * Results for a TRANSACTIONAL MongoDB store: per record, {@code $inc} of an occurrence counter
 * {@code n} in {@code <ns>_results} (document {@code _id} = the record id), so a record applied
 * twice reads back as {@code n = 2}; per key, {@code $inc} of {@code total} in {@code <ns>_totals}.
 * Both through {@link MongoResults#increment}, which the store sends in the commit's transaction
 * and refuses on an IDEMPOTENT store (so this model cannot silently run where it proves nothing).
 */
public final class MongoCountingResultModel extends MongoResultModel {

  /** For the kit, which instantiates it by name. */
  public MongoCountingResultModel() {}

  @Override
  public void write(MongoResults tx, List<E2eRecord> batch) {
    for (E2eRecord r : batch) {
      tx.increment(results, r.id(), "n", 1);
    }
    Map<String, Long> sums = new TreeMap<>();
    batch.forEach(r -> sums.merge(r.key(), r.amount(), Long::sum));
    sums.forEach((k, v) -> tx.increment(totals, k, "total", v));
  }

  @Override
  public Observed read() {
    Map<String, Integer> occurrences = new HashMap<>();
    for (Document d : all(results)) {
      occurrences.put(d.getString("_id"), ((Number) d.get("n")).intValue());
    }
    Map<String, Long> folded = new HashMap<>();
    for (Document d : all(totals)) {
      folded.put(d.getString("_id"), ((Number) d.get("total")).longValue());
    }
    return new Observed(occurrences, folded);
  }
}
