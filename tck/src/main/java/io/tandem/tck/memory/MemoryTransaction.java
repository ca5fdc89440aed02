package io.tandem.tck.memory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The handle of {@link MemoryOffsetStore}: the result writes of one commit. On a TRANSACTIONAL
 * store they are buffered and applied only if the commit succeeds; on an IDEMPOTENT store each is
 * applied as it is written (a keyed upsert), before positions move.
 *
 * @since 0.1
 */
public final class MemoryTransaction {

  private final MemoryDatabase direct;
  private final Map<String, String> puts = new LinkedHashMap<>();
  private final Map<String, Long> adds = new LinkedHashMap<>();

  /**
   * A handle.
   *
   * @param direct the database to write to at once, or null to buffer the writes
   */
  MemoryTransaction(MemoryDatabase direct) {
    this.direct = direct;
  }

  /**
   * Upserts a result: an existing key's value is replaced.
   *
   * @param key the result's key
   * @param value its value
   * @throws NullPointerException if either is null
   */
  public void put(String key, String value) {
    Objects.requireNonNull(key, "key must not be null");
    Objects.requireNonNull(value, "value must not be null");
    if (direct != null) {
      direct.apply(Map.of(key, value), Map.of());
    } else {
      puts.put(key, value);
    }
  }

  /**
   * Adds to a counter (a fold: any duplicate or loss shows in its sum). Not idempotent, so on an
   * IDEMPOTENT store it is applied at once like every write, and a replay adds again.
   *
   * @param key the counter's key
   * @param amount what to add
   * @throws NullPointerException if {@code key} is null
   */
  public void add(String key, long amount) {
    Objects.requireNonNull(key, "key must not be null");
    if (direct != null) {
      direct.apply(Map.of(), Map.of(key, amount));
    } else {
      adds.merge(key, amount, Long::sum);
    }
  }

  /** Applies the buffered writes; the caller holds the database's monitor. */
  void applyTo(MemoryDatabase database) {
    database.apply(puts, adds);
  }
}
