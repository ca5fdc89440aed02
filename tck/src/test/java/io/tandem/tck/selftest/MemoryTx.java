package io.tandem.tck.selftest;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/** The in-memory store's unit-of-work handle: result writes, buffered or applied at once. */
public final class MemoryTx {
  private final Map<String, Map<String, String>> buffered = new LinkedHashMap<>();
  private final BiConsumer<String, Map<String, String>> direct;

  /**
   * A handle.
   *
   * @param direct applies writes at once (outside any transaction), or null to buffer them
   */
  MemoryTx(BiConsumer<String, Map<String, String>> direct) {
    this.direct = direct;
  }

  /**
   * Upserts one result.
   *
   * @param namespace the namespace
   * @param key the key
   * @param value the value
   */
  public void put(String namespace, String key, String value) {
    if (direct != null) {
      direct.accept(namespace, Map.of(key, value));
    } else {
      buffered.computeIfAbsent(namespace, n -> new LinkedHashMap<>()).put(key, value);
    }
  }

  Map<String, Map<String, String>> buffered() {
    return buffered;
  }
}
