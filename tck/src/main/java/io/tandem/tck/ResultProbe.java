package io.tandem.tck;

import io.tandem.spi.ResultWriter;
import java.util.Map;

/**
 * Writes and reads keyed results through a store's handle, so that the kit can check which results
 * a commit left behind. A backend author implements it once, for the results shape simplest on the
 * backend (a table {@code (namespace, key, value)}, a Redis hash per namespace, a znode per key,
 * ...).
 *
 * <p>Every test uses its own namespace, so an implementation needs no cleanup between tests.
 *
 * @param <T> the store's unit-of-work handle type
 * @since 0.1
 */
public interface ResultProbe<T> {

  /**
   * A writer that upserts every entry under {@code (namespace, key)} through the handle it is
   * given, so that the entries commit (or not) with the commit that runs the writer. It must not
   * write through any other channel: the kit checks that a failed commit leaves nothing behind.
   *
   * <p>The writer may be called more than once (a replay) and from several threads at once, each
   * with its own handle; an upsert of an existing key replaces its value.
   *
   * @param namespace where the entries go; matches {@code [a-z][a-z0-9_]{0,39}}, so it can be used
   *     as a table suffix, key prefix or path segment without escaping
   * @param entries keys and values; keys match {@code [A-Za-z0-9_.-]{1,64}}, values are short
   *     printable strings
   * @return the writer; never null
   */
  ResultWriter<T> put(String namespace, Map<String, String> entries);

  /**
   * Everything committed in a namespace, read outside any commit (a fresh connection, a plain
   * read).
   *
   * @param namespace the namespace, as given to {@link #put(String, Map)}
   * @return every key and value committed in {@code namespace}; empty if none, never null
   * @throws Exception if the backend cannot be read; the test fails with it
   */
  Map<String, String> read(String namespace) throws Exception;
}
