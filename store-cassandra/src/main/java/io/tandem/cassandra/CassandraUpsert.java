package io.tandem.cassandra;

import com.datastax.oss.driver.api.core.cql.ColumnDefinition;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.type.DataTypes;
import io.tandem.spi.ResultWriter;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A ready result writer: one prepared {@code INSERT} or {@code UPDATE} bound once per row, each
 * bound statement marked idempotent. The store runs them in parallel, {@link
 * CassandraStoreConfig#resultConcurrency()} at a time, before it moves the offsets.
 *
 * <pre>{@code
 * CassandraUpsert<Order> upsert =
 *     CassandraUpsert.of(
 *         "INSERT INTO shop.orders (id, customer, total) VALUES (?, ?, ?)",
 *         o -> new Object[] {o.id(), o.customer(), o.total()});
 * store.commit(group, ranges, upsert.rows(orders));
 * }</pre>
 *
 * <p>Idempotence is what makes this exactly-once: a batch replayed after a crash or a conflict
 * writes the same rows with the same keys again. So the statement is checked: it must be an {@code
 * INSERT} or {@code UPDATE}, without a condition ({@code IF}), without a non-deterministic function
 * ({@code now()}, {@code uuid()}, {@code currentTimestamp()}, ...), without an append or increment
 * ({@code c = c + ?}, {@code l = ? + l}), and no bound column may be a counter. Thread-safe and
 * reusable across commits.
 *
 * @param <R> the row type
 */
public final class CassandraUpsert<R> {

  private static final Pattern VERB = Pattern.compile("(?is)\\s*(INSERT|UPDATE)\\b.*");
  private static final Pattern CONDITION = Pattern.compile("(?i)\\bIF\\b");
  private static final Pattern NON_DETERMINISTIC =
      Pattern.compile(
          "(?i)\\b(now|uuid|currenttimeuuid|currenttimestamp|currentdate|currenttime)\\s*\\(");
  private static final Pattern APPEND =
      Pattern.compile("(?i)\\b(\\w+)\\s*=\\s*(\\1\\s*[-+]|[^,;]*[-+]\\s*\\1\\b)");

  private final String cql;
  private final Function<? super R, Object[]> values;

  private CassandraUpsert(String cql, Function<? super R, Object[]> values) {
    this.cql = cql;
    this.values = values;
  }

  /**
   * An upsert from a statement and a row mapper.
   *
   * @param <R> the row type
   * @param cql an {@code INSERT} or {@code UPDATE} with positional bind markers, by full primary
   *     key, fully qualified ({@code keyspace.table})
   * @param values the bind values of one row, in marker order
   * @return the upsert
   * @throws IllegalArgumentException if the statement is not a keyed, idempotent overwrite
   */
  public static <R> CassandraUpsert<R> of(String cql, Function<? super R, Object[]> values) {
    Objects.requireNonNull(cql, "cql must not be null");
    Objects.requireNonNull(values, "values must not be null");
    if (!VERB.matcher(cql).matches()) {
      throw refuse(cql, "it is not an INSERT or UPDATE");
    }
    if (CONDITION.matcher(cql).find()) {
      throw refuse(
          cql, "it has a condition (IF): a conditional result write is not a plain overwrite");
    }
    if (NON_DETERMINISTIC.matcher(cql).find()) {
      throw refuse(cql, "it calls a non-deterministic function: a replay would write other values");
    }
    if (APPEND.matcher(cql).find()) {
      throw refuse(cql, "it appends to or increments a column: a replay would apply it twice");
    }
    return new CassandraUpsert<>(cql, values);
  }

  private static IllegalArgumentException refuse(String cql, String why) {
    return new IllegalArgumentException(
        "CassandraUpsert needs an idempotent keyed INSERT or UPDATE, and '"
            + cql
            + "' is not: "
            + why
            + ".");
  }

  /**
   * A writer that adds one bound, idempotent statement per row.
   *
   * @param rows the rows of this batch; the list is read when the commit runs
   * @return the writer
   */
  public ResultWriter<CassandraResults> rows(List<? extends R> rows) {
    Objects.requireNonNull(rows, "rows must not be null");
    return results -> {
      PreparedStatement prepared = results.prepare(cql);
      checkNoCounter(prepared);
      for (R row : rows) {
        Object[] bind = Objects.requireNonNull(values.apply(row), "values returned null");
        results.add(prepared.bind(bind).setIdempotent(true));
      }
    };
  }

  private void checkNoCounter(PreparedStatement prepared) {
    for (ColumnDefinition def : prepared.getVariableDefinitions()) {
      if (def.getType().equals(DataTypes.COUNTER)) {
        throw refuse(
            cql,
            "column "
                + def.getName().asCql(true).toLowerCase(Locale.ROOT)
                + " is a counter, and counter updates are not idempotent");
      }
    }
  }

  @Override
  public String toString() {
    return "CassandraUpsert[" + cql + "]";
  }
}
