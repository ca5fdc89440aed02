package io.tandem.connect;

import io.tandem.connect.JdbcSinkConfig.InsertMode;
import io.tandem.connect.JdbcSinkConfig.PkMode;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Turns sink records into rows of the configured table and writes them through a connection:
 * INSERT, or the dialect's upsert, in JDBC batches; DELETE for tombstones when enabled. Records are
 * written in order; a change of statement (other columns, a delete) sends the pending batch first,
 * so the last record of a key wins as in the topic.
 */
final class JdbcRecordWriter {

  /** The SQL dialects the sink writes. */
  enum Dialect {
    POSTGRESQL,
    MARIADB,
    H2;

    static Dialect of(Connection c) throws SQLException {
      String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
      if (product.contains("postgres")) {
        return POSTGRESQL;
      }
      if (product.contains("mariadb") || product.contains("mysql")) {
        return MARIADB;
      }
      if (product.contains("h2")) {
        return H2;
      }
      throw new SQLException(
          "The Tandem JDBC sink writes PostgreSQL, MariaDB/MySQL and H2, not '"
              + c.getMetaData().getDatabaseProductName()
              + "'");
    }
  }

  /** One row: its column names (statement shape) and values. */
  private record Row(List<String> keyColumns, List<String> valueColumns, List<Object> values) {}

  private final JdbcSinkConfig config;

  JdbcRecordWriter(JdbcSinkConfig config) {
    this.config = config;
  }

  /** Writes the records' rows through {@code c}; the caller owns the transaction. */
  void write(Connection c, List<SinkRecord> records) throws SQLException {
    Dialect dialect = Dialect.of(c);
    String currentSql = null;
    PreparedStatement ps = null;
    int pending = 0;
    try {
      for (SinkRecord r : records) {
        String sql;
        List<Object> values;
        if (r.value() == null) {
          if (!config.deleteEnabled) {
            continue; // a tombstone with deletes off: nothing to write
          }
          Map<String, Object> key = keyColumns(r);
          sql = delete(new ArrayList<>(key.keySet()));
          values = new ArrayList<>(key.values());
        } else {
          Row row = row(r);
          sql = upsertOrInsert(dialect, row.keyColumns(), row.valueColumns());
          values = row.values();
        }
        if (!sql.equals(currentSql)) {
          if (ps != null) {
            if (pending > 0) {
              ps.executeBatch();
            }
            ps.close();
          }
          ps = c.prepareStatement(sql);
          currentSql = sql;
          pending = 0;
        }
        for (int i = 0; i < values.size(); i++) {
          bind(ps, i + 1, values.get(i));
        }
        ps.addBatch();
        if (++pending >= config.batchSize) {
          ps.executeBatch();
          pending = 0;
        }
      }
      if (ps != null && pending > 0) {
        ps.executeBatch();
      }
    } catch (SQLException e) {
      throw new SQLException(
          "writing to " + config.table + " failed (" + currentSql + "): " + e.getMessage(),
          e.getSQLState(),
          e.getErrorCode(),
          e);
    } finally {
      if (ps != null) {
        ps.close();
      }
    }
  }

  private Row row(SinkRecord r) {
    Map<String, Object> key = keyColumns(r);
    Map<String, Object> value = new LinkedHashMap<>();
    Map<String, Object> fieldValues = fields(r.valueSchema(), r.value(), "value", r);
    if (config.fields.isEmpty()) {
      fieldValues.forEach(
          (f, v) -> {
            if (!key.containsKey(f)) {
              value.put(f, v);
            }
          });
    } else {
      config.fields.forEach(
          (field, column) -> {
            if (!fieldValues.containsKey(field)) {
              throw new DataException(
                  "Record "
                      + coordinates(r)
                      + " has no value field '"
                      + field
                      + "' (option fields); it has "
                      + fieldValues.keySet());
            }
            value.put(column, fieldValues.get(field));
          });
    }
    if (!config.kafkaColumns.isEmpty() && config.pkMode != PkMode.KAFKA) {
      value.put(config.kafkaColumns.get(0), r.originalTopic());
      value.put(config.kafkaColumns.get(1), r.originalKafkaPartition());
      value.put(config.kafkaColumns.get(2), r.originalKafkaOffset());
    }
    List<Object> values = new ArrayList<>(key.values());
    values.addAll(value.values());
    return new Row(List.copyOf(key.keySet()), List.copyOf(value.keySet()), values);
  }

  /** The key columns of a record and their values, by pk.mode. */
  private Map<String, Object> keyColumns(SinkRecord r) {
    Map<String, Object> key = new LinkedHashMap<>();
    switch (config.pkMode) {
      case NONE -> {}
      case KAFKA -> {
        key.put(config.kafkaColumns.get(0), r.originalTopic());
        key.put(config.kafkaColumns.get(1), r.originalKafkaPartition());
        key.put(config.kafkaColumns.get(2), r.originalKafkaOffset());
      }
      case RECORD_KEY -> {
        if (r.key() == null) {
          throw new DataException(
              "Record " + coordinates(r) + " has a null key (pk.mode=record_key)");
        }
        if (r.key() instanceof Struct || r.key() instanceof Map) {
          Map<String, Object> all = fields(r.keySchema(), r.key(), "key", r);
          List<String> names =
              config.pkFields.isEmpty() ? List.copyOf(all.keySet()) : config.pkFields;
          for (String n : names) {
            if (!all.containsKey(n)) {
              throw new DataException(
                  "Record "
                      + coordinates(r)
                      + " has no key field '"
                      + n
                      + "'; it has "
                      + all.keySet());
            }
            key.put(n, all.get(n));
          }
        } else {
          if (config.pkFields.size() != 1) {
            throw new DataException(
                "Record "
                    + coordinates(r)
                    + " has a primitive key: pk.fields must name exactly one column, got "
                    + config.pkFields);
          }
          key.put(config.pkFields.get(0), convert(r.keySchema(), r.key(), "key", r));
        }
      }
      case RECORD_VALUE -> {
        if (r.value() == null) {
          throw new DataException(
              "Record " + coordinates(r) + " has a null value (pk.mode=record_value)");
        }
        Map<String, Object> all = fields(r.valueSchema(), r.value(), "value", r);
        for (String n : config.pkFields) {
          if (!all.containsKey(n)) {
            throw new DataException(
                "Record "
                    + coordinates(r)
                    + " has no value field '"
                    + n
                    + "'; it has "
                    + all.keySet());
          }
          key.put(n, all.get(n));
        }
      }
    }
    return key;
  }

  /** The fields of a Struct (schema order) or a Map (sorted keys), converted for JDBC. */
  private static Map<String, Object> fields(Schema schema, Object data, String what, SinkRecord r) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (data instanceof Struct s) {
      for (Field f : s.schema().fields()) {
        out.put(f.name(), convert(f.schema(), s.get(f), what + "." + f.name(), r));
      }
    } else if (data instanceof Map<?, ?> m) {
      Map<String, Object> sorted = new TreeMap<>();
      m.forEach((k, v) -> sorted.put(String.valueOf(k), v));
      Schema valueSchema = schema == null ? null : schema.valueSchema();
      sorted.forEach((k, v) -> out.put(k, convert(valueSchema, v, what + "." + k, r)));
    } else {
      throw new DataException(
          "Record "
              + coordinates(r)
              + ": the "
              + what
              + " must be a Struct or a Map to map to columns, got "
              + (data == null ? "null" : data.getClass().getName())
              + ". Use a converter with schemas (e.g. JsonConverter, schemas.enable) or one that"
              + " yields maps.");
    }
    return out;
  }

  /** A Connect value as a JDBC parameter. */
  private static Object convert(Schema schema, Object v, String what, SinkRecord r) {
    if (v == null) {
      return null;
    }
    String logical = schema == null ? null : schema.name();
    if (Decimal.LOGICAL_NAME.equals(logical) || v instanceof BigDecimal) {
      return v;
    }
    if (v instanceof java.util.Date d) {
      if (Date.LOGICAL_NAME.equals(logical)) {
        return new java.sql.Date(d.getTime());
      }
      if (Time.LOGICAL_NAME.equals(logical)) {
        return new java.sql.Time(d.getTime());
      }
      if (Timestamp.LOGICAL_NAME.equals(logical) || logical == null) {
        return new java.sql.Timestamp(d.getTime());
      }
    }
    if (v instanceof ByteBuffer b) {
      byte[] bytes = new byte[b.remaining()];
      b.duplicate().get(bytes);
      return bytes;
    }
    if (v instanceof Number || v instanceof Boolean || v instanceof String || v instanceof byte[]) {
      return v;
    }
    throw new DataException(
        "Record "
            + coordinates(r)
            + ": "
            + what
            + " is a "
            + v.getClass().getSimpleName()
            + ", which has no column type; flatten it (e.g. the Flatten transform) or leave it"
            + " out of 'fields'");
  }

  private static void bind(PreparedStatement ps, int index, Object v) throws SQLException {
    if (v == null) {
      ps.setNull(index, Types.NULL);
    } else {
      ps.setObject(index, v);
    }
  }

  private String upsertOrInsert(Dialect d, List<String> keys, List<String> columns) {
    List<String> all = new ArrayList<>(keys);
    all.addAll(columns);
    String columnList = String.join(", ", all);
    String params = all.stream().map(c -> "?").collect(Collectors.joining(", "));
    if (config.insertMode == InsertMode.INSERT) {
      return "INSERT INTO " + config.table + " (" + columnList + ") VALUES (" + params + ")";
    }
    return switch (d) {
      case POSTGRESQL ->
          "INSERT INTO "
              + config.table
              + " ("
              + columnList
              + ") VALUES ("
              + params
              + ") ON CONFLICT ("
              + String.join(", ", keys)
              + ") DO "
              + (columns.isEmpty()
                  ? "NOTHING"
                  : "UPDATE SET "
                      + columns.stream()
                          .map(c -> c + " = EXCLUDED." + c)
                          .collect(Collectors.joining(", ")));
      case MARIADB ->
          "INSERT INTO "
              + config.table
              + " ("
              + columnList
              + ") VALUES ("
              + params
              + ") ON DUPLICATE KEY UPDATE "
              + (columns.isEmpty()
                  ? keys.get(0) + " = " + keys.get(0)
                  : columns.stream()
                      .map(c -> c + " = VALUES(" + c + ")")
                      .collect(Collectors.joining(", ")));
      case H2 ->
          "MERGE INTO "
              + config.table
              + " ("
              + columnList
              + ") KEY ("
              + String.join(", ", keys)
              + ") VALUES ("
              + params
              + ")";
    };
  }

  private String delete(List<String> keys) {
    return "DELETE FROM "
        + config.table
        + " WHERE "
        + keys.stream().map(k -> k + " = ?").collect(Collectors.joining(" AND "));
  }

  static String coordinates(SinkRecord r) {
    return r.originalTopic() + "-" + r.originalKafkaPartition() + "@" + r.originalKafkaOffset();
  }

  @Override
  public String toString() {
    return "JdbcRecordWriter["
        + config.table
        + ", "
        + config.insertMode
        + ", "
        + config.pkMode
        + "]";
  }
}
