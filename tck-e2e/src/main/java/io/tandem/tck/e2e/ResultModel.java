package io.tandem.tck.e2e;

import java.util.List;
import java.util.Map;

/**
 * How a backend keeps the end-to-end run's results: one result per input record, and a running
 * total (a fold) per key. The kit creates it by class name in every forked worker JVM and once in
 * the test JVM to read the results back, through {@link java.util.ServiceLoader}: list the class
 * (public, with a public no-argument constructor) in {@code
 * META-INF/services/io.tandem.tck.e2e.ResultModel} of the backend's test resources.
 *
 * <p>{@link #write} runs inside the store's commit, through the commit's handle. To make duplicates
 * visible, a transactional model should <em>append</em> per-record results (no unique key on the
 * id): a record applied twice then shows up twice in {@link Observed#occurrences()}. An idempotent
 * model writes keyed results (a replay overwrites itself) and may report no folds.
 *
 * <p>Example (JDBC, PostgreSQL): {@code open} creates {@code <ns>_results(id, k, amount)} and
 * {@code <ns>_totals(k primary key, total)}; {@code write} inserts one row per record and upserts
 * {@code total = total + amount} per key; {@code read} counts rows per id and reads the totals.
 *
 * @param <T> the store's handle type, as its {@link io.tandem.spi.OffsetStore#handleType()}
 * @since 0.1
 */
@SuppressWarnings("try") // close() may throw anything a driver throws
public interface ResultModel<T> extends AutoCloseable {

  /**
   * Connects (for setup and reading back) and creates what the model needs, idempotently: several
   * JVMs call it concurrently for the same namespace.
   *
   * @param storeUri the store URI the test gave
   * @param properties the store properties the test gave
   * @param namespace the run's namespace, matching {@code [a-z][a-z0-9_]{0,39}}; every table or key
   *     of the run is derived from it
   * @throws Exception if the store cannot be prepared
   */
  void open(String storeUri, Map<String, String> properties, String namespace) throws Exception;

  /**
   * Writes a batch's results through the commit's handle: one result per record and each record's
   * amount added to its key's total.
   *
   * @param handle the store's unit-of-work handle of the running commit
   * @param batch the records of the batch, in offset order per partition
   * @throws Exception anything; it aborts the commit
   */
  void write(T handle, List<E2eRecord> batch) throws Exception;

  /**
   * Reads back everything committed in the namespace.
   *
   * @return the observed results
   * @throws Exception if the store cannot be read
   */
  Observed read() throws Exception;

  /**
   * Releases what {@link #open} acquired. Idempotent.
   *
   * @throws Exception if closing fails
   */
  @Override
  void close() throws Exception;

  /**
   * What a model found in the store.
   *
   * @param occurrences for every record id with a result, how many results it has (1 when exactly
   *     once)
   * @param totals per key, the folded total of amounts; empty if the model keeps no fold
   * @since 0.1
   */
  record Observed(Map<String, Integer> occurrences, Map<String, Long> totals) {

    /**
     * Copies the maps.
     *
     * @param occurrences results per record id
     * @param totals folded total per key
     * @throws NullPointerException if a map is null
     */
    public Observed {
      occurrences = Map.copyOf(occurrences);
      totals = Map.copyOf(totals);
    }
  }
}
