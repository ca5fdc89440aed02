package io.tandem.jdbc;

import io.tandem.spi.ResultWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A ready {@link ResultWriter} that upserts rows into a table of yours, inside the commit's
 * transaction, so that you write no SQL:
 *
 * <pre>{@code
 * JdbcUpsert balances = JdbcUpsert.into("balances").key("account").columns("amount").fold("amount");
 * store.commit(group, ranges, balances.rows(batch, b -> new Object[] {b.account(), b.amount()}));
 * }</pre>
 *
 * <p>Each row is inserted, or, when a row with the same key exists, updated: a plain column takes
 * the new value; a {@link #fold(String...) fold} column adds it to the stored one ({@code amount =
 * amount + new}), which is exactly-once only because the JDBC store commits results and offsets in
 * one transaction. Statements are per dialect (PostgreSQL {@code ON CONFLICT}, MariaDB/MySQL {@code
 * ON DUPLICATE KEY UPDATE}, H2 {@code MERGE}) and sent as JDBC batches.
 *
 * <p>The table must have a primary key or unique constraint on exactly the key columns (MariaDB and
 * MySQL update on any unique key, so give the table no other). Names are checked against {@code
 * [A-Za-z_][A-Za-z0-9_]*} (a table may be schema-qualified) and written into SQL unquoted, so they
 * follow your database's usual case rules, as in your own DDL; SQL reserved words cannot be used as
 * names here. Immutable and thread-safe: build it once, reuse it for every batch.
 */
public final class JdbcUpsert {

  /** Default number of rows per JDBC batch. */
  public static final int DEFAULT_BATCH_SIZE = 500;

  /**
   * Maps one of your objects to the values of one row.
   *
   * @param <R> your row type
   */
  @FunctionalInterface
  public interface RowMapper<R> {
    /**
     * The row's values: the key columns, then the other columns, each in the order declared.
     *
     * @param row your object
     * @return the values; {@code null} elements are SQL NULL
     * @throws Exception anything; it aborts the commit
     */
    Object[] map(R row) throws Exception;
  }

  private final String table;
  private final List<String> keys;
  private final List<String> columns;
  private final Set<String> folds;
  private final JdbcDialect dialect;
  private final int batchSize;
  private final Map<JdbcDialect, String> statements;

  private JdbcUpsert(
      String table,
      List<String> keys,
      List<String> columns,
      Set<String> folds,
      JdbcDialect dialect,
      int batchSize) {
    this.table = table;
    this.keys = List.copyOf(keys);
    this.columns = List.copyOf(columns);
    this.folds = Set.copyOf(folds);
    this.dialect = dialect;
    this.batchSize = batchSize;
    Map<JdbcDialect, String> sql = new EnumMap<>(JdbcDialect.class);
    if (!keys.isEmpty()) {
      for (JdbcDialect d : JdbcDialect.values()) {
        sql.put(d, statement(d));
      }
    }
    this.statements = sql;
  }

  /**
   * Starts an upsert into a table.
   *
   * @param table the table, possibly schema-qualified
   * @return an upsert with no columns yet
   * @throws IllegalArgumentException if the name is not a plain identifier
   */
  public static JdbcUpsert into(String table) {
    return new JdbcUpsert(
        Identifiers.table("table", table),
        List.of(),
        List.of(),
        Set.of(),
        null,
        DEFAULT_BATCH_SIZE);
  }

  /**
   * Sets the key columns: the table's primary key or a unique constraint.
   *
   * @param keyColumns one or more column names
   * @return a new upsert
   * @throws IllegalArgumentException if a name is invalid, repeated or also a value column
   */
  public JdbcUpsert key(String... keyColumns) {
    List<String> k = names("key column", keyColumns);
    if (k.isEmpty()) {
      throw new IllegalArgumentException("key needs at least one column");
    }
    return new JdbcUpsert(table, k, columns, folds, dialect, batchSize).checkDisjoint();
  }

  /**
   * Sets the value columns, written on insert and updated when the key exists.
   *
   * @param valueColumns zero or more column names (none: insert if absent)
   * @return a new upsert
   * @throws IllegalArgumentException if a name is invalid, repeated or also a key column
   */
  public JdbcUpsert columns(String... valueColumns) {
    List<String> c = names("column", valueColumns);
    Set<String> keptFolds = folds.stream().filter(c::contains).collect(Collectors.toSet());
    return new JdbcUpsert(table, keys, c, keptFolds, dialect, batchSize).checkDisjoint();
  }

  /**
   * Marks value columns as folds: on an existing key the new value is added to the stored one
   * ({@code col = col + new}); on insert it is the initial value. The columns must be numeric.
   *
   * @param foldColumns names among {@link #columns(String...)}
   * @return a new upsert
   * @throws IllegalArgumentException if a name is not one of the value columns
   */
  public JdbcUpsert fold(String... foldColumns) {
    List<String> f = names("fold column", foldColumns);
    for (String name : f) {
      if (!columns.contains(name)) {
        throw new IllegalArgumentException(
            "fold column '"
                + name
                + "' is not a value column; declare it in columns(...) first. Value columns: "
                + columns);
      }
    }
    return new JdbcUpsert(table, keys, columns, new LinkedHashSet<>(f), dialect, batchSize);
  }

  /**
   * Fixes the dialect instead of asking the connection's metadata.
   *
   * @param dialect the dialect
   * @return a new upsert
   */
  public JdbcUpsert dialect(JdbcDialect dialect) {
    Objects.requireNonNull(dialect, "dialect must not be null");
    return new JdbcUpsert(table, keys, columns, folds, dialect, batchSize);
  }

  /**
   * Sets how many rows go in one JDBC batch. Default {@value #DEFAULT_BATCH_SIZE}.
   *
   * @param rowsPerBatch at least 1
   * @return a new upsert
   */
  public JdbcUpsert batchSize(int rowsPerBatch) {
    if (rowsPerBatch < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + rowsPerBatch);
    }
    return new JdbcUpsert(table, keys, columns, folds, dialect, rowsPerBatch);
  }

  /**
   * A writer that upserts {@code rows} through the commit's connection.
   *
   * @param <R> your row type
   * @param rows the rows; copied now, so later changes to the collection are not seen
   * @param mapper maps a row to its values: keys, then columns
   * @return the writer
   * @throws IllegalStateException if no key is set
   */
  public <R> ResultWriter<Connection> rows(
      Collection<? extends R> rows, RowMapper<? super R> mapper) {
    Objects.requireNonNull(rows, "rows must not be null");
    Objects.requireNonNull(mapper, "mapper must not be null");
    if (keys.isEmpty()) {
      throw new IllegalStateException(
          "JdbcUpsert into " + table + " has no key: call key(...) before rows(...)");
    }
    List<R> copy = new ArrayList<>(rows);
    return connection -> write(connection, copy, mapper);
  }

  /**
   * A writer that upserts rows given as value lists (keys, then columns).
   *
   * @param rows the rows
   * @return the writer
   * @throws IllegalStateException if no key is set
   */
  public ResultWriter<Connection> values(Collection<? extends List<?>> rows) {
    return rows(rows, List::toArray);
  }

  /**
   * The statement this upsert sends for a dialect, for logs and reviews.
   *
   * @param dialect the dialect
   * @return the SQL
   * @throws IllegalStateException if no key is set
   */
  public String sql(JdbcDialect dialect) {
    String s = statements.get(dialect);
    if (s == null) {
      throw new IllegalStateException("JdbcUpsert into " + table + " has no key yet");
    }
    return s;
  }

  private <R> void write(Connection c, List<R> rows, RowMapper<? super R> mapper) throws Exception {
    if (rows.isEmpty()) {
      return;
    }
    JdbcDialect d =
        dialect != null
            ? dialect
            : JdbcDialect.fromProductName(c.getMetaData().getDatabaseProductName());
    int width = keys.size() + columns.size();
    try (PreparedStatement ps = c.prepareStatement(sql(d))) {
      int pending = 0;
      for (R row : rows) {
        Object[] values = mapper.map(row);
        if (values == null || values.length != width) {
          throw new IllegalArgumentException(
              "row mapper for "
                  + table
                  + " must return "
                  + width
                  + " values "
                  + names()
                  + ", got "
                  + (values == null ? "null" : values.length + ": " + Arrays.toString(values)));
        }
        for (int i = 0; i < width; i++) {
          ps.setObject(i + 1, values[i]);
        }
        ps.addBatch();
        if (++pending == batchSize) {
          ps.executeBatch();
          pending = 0;
        }
      }
      if (pending > 0) {
        ps.executeBatch();
      }
    } catch (SQLException e) {
      // The driver's message names the failing statement's error; add which upsert it was.
      throw new SQLException(
          "upsert into " + table + " failed: " + e.getMessage(),
          e.getSQLState(),
          e.getErrorCode(),
          e);
    }
  }

  private List<String> names() {
    List<String> all = new ArrayList<>(keys);
    all.addAll(columns);
    return all;
  }

  private String statement(JdbcDialect d) {
    List<String> all = names();
    String columnList = String.join(", ", all);
    String params = all.stream().map(c -> "?").collect(Collectors.joining(", "));
    return switch (d) {
      case POSTGRESQL -> {
        String head =
            "INSERT INTO "
                + table
                + " AS d ("
                + columnList
                + ") VALUES ("
                + params
                + ") ON CONFLICT ("
                + String.join(", ", keys)
                + ") DO ";
        yield columns.isEmpty()
            ? head + "NOTHING"
            : head + "UPDATE SET " + assignments("d.", "EXCLUDED.", "");
      }
      case MARIADB, MYSQL -> {
        String head = "INSERT INTO " + table + " (" + columnList + ") VALUES (" + params + ")";
        // With no value column an update of the key to itself makes the upsert a no-op.
        yield head
            + " ON DUPLICATE KEY UPDATE "
            + (columns.isEmpty()
                ? keys.get(0) + " = " + keys.get(0)
                : assignments("", "VALUES(", ")"));
      }
      case H2 -> {
        String on =
            keys.stream().map(k -> "d." + k + " = s." + k).collect(Collectors.joining(" AND "));
        String insert =
            " WHEN NOT MATCHED THEN INSERT ("
                + columnList
                + ") VALUES ("
                + all.stream().map(c -> "s." + c).collect(Collectors.joining(", "))
                + ")";
        String update =
            columns.isEmpty() ? "" : " WHEN MATCHED THEN UPDATE SET " + assignments("d.", "s.", "");
        yield "MERGE INTO "
            + table
            + " AS d USING (VALUES ("
            + params
            + ")) AS s("
            + columnList
            + ") ON "
            + on
            + update
            + insert;
      }
    };
  }

  /** {@code c = new} or, for folds, {@code c = stored + new}, for every value column. */
  private String assignments(String stored, String newPrefix, String newSuffix) {
    return columns.stream()
        .map(
            c ->
                c
                    + " = "
                    + (folds.contains(c) ? stored + c + " + " : "")
                    + newPrefix
                    + c
                    + newSuffix)
        .collect(Collectors.joining(", "));
  }

  private static List<String> names(String what, String... names) {
    Objects.requireNonNull(names, what + "s must not be null");
    List<String> out = new ArrayList<>();
    for (String n : names) {
      Identifiers.column(what, n);
      if (out.contains(n)) {
        throw new IllegalArgumentException(what + " '" + n + "' is given twice");
      }
      out.add(n);
    }
    return out;
  }

  private JdbcUpsert checkDisjoint() {
    for (String c : columns) {
      if (keys.contains(c)) {
        throw new IllegalArgumentException(
            "column '" + c + "' is both a key and a value column of " + table);
      }
    }
    return this;
  }

  @Override
  public String toString() {
    return "JdbcUpsert["
        + table
        + ", key "
        + keys
        + ", columns "
        + columns
        + ", fold "
        + folds
        + "]";
  }
}
