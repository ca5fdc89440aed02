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
  final String insertIfAbsent;
  final String upsert;
  final String deleteGroup;
  final String deletePartition;

  Sql(JdbcDialect dialect, String checkedTable) {
    String t = dialect.quote(checkedTable);
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
