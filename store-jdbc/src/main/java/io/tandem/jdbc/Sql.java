package io.tandem.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The store's statements for one dialect and table, built once per store. */
final class Sql {

  private static final String COLUMNS = "group_id, topic, partition_id, next_offset";

  final List<String> ddl;
  final String selectGroup;
  final String selectTopic;
  final String selectGroups;
  final String advance;

  /**
   * PostgreSQL: every range's conditional advance in one statement, whatever the number of ranges
   * (four arrays and the group are its parameters, so the text and its server-side plan are the
   * same for every commit). Null for the other dialects.
   */
  final String advanceAll;

  private final JdbcDialect dialect;
  private final String quotedTable;
  final String insertIfAbsent;
  final String upsert;
  final String deleteGroup;
  final String deletePartition;

  Sql(JdbcDialect dialect, String checkedTable) {
    String t = dialect.quote(checkedTable);
    this.dialect = dialect;
    this.quotedTable = t;
    this.ddl = ddl(dialect, t);
    this.selectGroup = "SELECT topic, partition_id, next_offset FROM " + t + " WHERE group_id = ?";
    this.selectTopic = selectGroup + " AND topic = ?";
    this.selectGroups = "SELECT DISTINCT group_id FROM " + t;
    // The conditional advance: the WHERE on next_offset is the contiguity check. Its update count
    // (1 or 0) says whether the stored position was the range's start.
    this.advance =
        "UPDATE "
            + t
            + " SET next_offset = ? WHERE group_id = ? AND topic = ? AND partition_id = ?"
            + " AND next_offset = ?";
    // One UPDATE joined with the ranges, unnested from arrays: under READ COMMITTED a row another
    // transaction moved meanwhile is re-checked against the join and WHERE (EvalPlanQual), as for
    // the single-row UPDATE above. RETURNING names the rows that moved; the others did not match.
    this.advanceAll =
        dialect == JdbcDialect.POSTGRESQL
            ? "UPDATE "
                + t
                + " AS d SET next_offset = v.u"
                + " FROM unnest(CAST(? AS text[]), CAST(? AS integer[]), CAST(? AS bigint[]),"
                + " CAST(? AS bigint[])) AS v(tp, p, f, u)"
                + " WHERE d.group_id = ? AND d.topic = v.tp AND d.partition_id = v.p"
                + " AND d.next_offset = v.f"
                + " RETURNING d.topic, d.partition_id"
            : null;
    String values = " (" + COLUMNS + ") VALUES (?, ?, ?, ?)";
    this.deleteGroup = "DELETE FROM " + t + " WHERE group_id = ?";
    this.deletePartition = deleteGroup + " AND topic = ? AND partition_id = ?";
    switch (dialect) {
      case POSTGRESQL -> {
        // ON CONFLICT is atomic against concurrent inserts of the same key (no unique violation).
        this.insertIfAbsent =
            "INSERT INTO " + t + values + " ON CONFLICT (group_id, topic, partition_id) DO NOTHING";
        this.upsert =
            "INSERT INTO "
                + t
                + values
                + " ON CONFLICT (group_id, topic, partition_id)"
                + " DO UPDATE SET next_offset = EXCLUDED.next_offset";
      }
      case MARIADB, MYSQL -> {
        // Not INSERT IGNORE: it would also turn real errors (too long a group) into warnings.
        this.insertIfAbsent =
            "INSERT INTO " + t + values + " ON DUPLICATE KEY UPDATE next_offset = next_offset";
        this.upsert =
            "INSERT INTO "
                + t
                + values
                + " ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset)";
      }
      case H2 -> {
        // Standard MERGE; two concurrent MERGEs of one new key can both take the NOT MATCHED
        // branch, and the second then fails with a unique violation (23505): callers retry.
        String source =
            " USING (VALUES (CAST(? AS CHARACTER VARYING), CAST(? AS CHARACTER VARYING),"
                + " CAST(? AS INTEGER), CAST(? AS BIGINT))) AS s(g, tp, p, o)"
                + " ON d.group_id = s.g AND d.topic = s.tp AND d.partition_id = s.p";
        String insert =
            " WHEN NOT MATCHED THEN INSERT (" + COLUMNS + ") VALUES (s.g, s.tp, s.p, s.o)";
        this.insertIfAbsent = "MERGE INTO " + t + " AS d" + source + insert;
        this.upsert =
            "MERGE INTO "
                + t
                + " AS d"
                + source
                + " WHEN MATCHED THEN UPDATE SET next_offset = s.o"
                + insert;
      }
      default -> throw new IllegalStateException("dialect " + dialect);
    }
  }

  /**
   * MariaDB/MySQL: the conditional advance of {@code n} ranges in one multi-table UPDATE, joined
   * with a derived table of the ranges (parameters: topic, partition, from, until per range, then
   * the group). MariaDB has no UPDATE ... RETURNING (only INSERT/DELETE ... RETURNING), so the
   * update count says whether every range matched: Connector/J and Connector/J for MySQL count
   * matched rows by default (CLIENT_FOUND_ROWS), as for the single-row UPDATE. InnoDB reads the
   * joined offset rows with locking reads of the latest committed version, at any isolation level.
   */
  String advanceMany(int n) {
    if (!dialect.mysqlFamily() || n < 1) {
      throw new IllegalStateException("advanceMany(" + n + ") on " + dialect);
    }
    StringBuilder b = new StringBuilder(96 + 20 * n);
    b.append("UPDATE ")
        .append(quotedTable)
        .append(" AS d JOIN (SELECT ? AS tp, ? AS p, ? AS f, ? AS u");
    for (int i = 1; i < n; i++) {
      b.append(" UNION ALL SELECT ?, ?, ?, ?");
    }
    b.append(") AS v ON d.topic = v.tp AND d.partition_id = v.p")
        .append(" SET d.next_offset = v.u WHERE d.group_id = ? AND d.next_offset = v.f");
    return b.toString();
  }

  private static List<String> ddl(JdbcDialect dialect, String quotedTable) {
    String resource = "ddl/" + dialect.id() + ".sql";
    String text;
    try (InputStream in = Sql.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource io/tandem/jdbc/" + resource);
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read io/tandem/jdbc/" + resource, e);
    }
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : text.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.startsWith("--") || trimmed.isEmpty()) {
        continue;
      }
      current.append(line).append('\n');
      if (trimmed.endsWith(";")) {
        String stmt = current.toString().strip();
        statements.add(stmt.substring(0, stmt.length() - 1).replace("${table}", quotedTable));
        current.setLength(0);
      }
    }
    if (current.length() > 0) {
      statements.add(current.toString().strip().replace("${table}", quotedTable));
    }
    return List.copyOf(statements);
  }
}
