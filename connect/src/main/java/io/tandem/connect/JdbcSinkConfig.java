package io.tandem.connect;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * The options of {@link TandemJdbcSinkConnector}, beside {@link TandemSinkConfig}'s.
 *
 * <table>
 *   <caption>Options</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@value #TABLE}</td><td>required</td><td>the target table, possibly
 *       schema-qualified</td></tr>
 *   <tr><td>{@value #INSERT_MODE}</td><td>{@code insert}</td><td>{@code insert}: one row per
 *       record; {@code upsert}: insert, or update the row with the same key</td></tr>
 *   <tr><td>{@value #PK_MODE}</td><td>{@code none}</td><td>where key columns come from: {@code
 *       none}, {@code kafka} (the record's original topic, partition, offset), {@code record_key},
 *       {@code record_value}</td></tr>
 *   <tr><td>{@value #PK_FIELDS}</td><td>empty</td><td>key fields; for {@code record_key} with a
 *       primitive key the one column name; for {@code record_value} the value's fields</td></tr>
 *   <tr><td>{@value #FIELDS}</td><td>all</td><td>value fields written, each {@code field} or
 *       {@code field:column}; empty: every field of the value</td></tr>
 *   <tr><td>{@value #KAFKA_COLUMNS}</td><td>empty</td><td>three columns that receive the
 *       record's original topic, partition and offset; with {@code pk.mode=kafka} default {@code
 *       kafka_topic,kafka_partition,kafka_offset}</td></tr>
 *   <tr><td>{@value #DELETE_ENABLED}</td><td>{@code false}</td><td>a record with a null value
 *       deletes the row of its key ({@code pk.mode=record_key}); otherwise it is skipped</td></tr>
 *   <tr><td>{@value #BATCH_SIZE}</td><td>{@code 500}</td><td>rows per JDBC batch</td></tr>
 * </table>
 *
 * @since 0.1
 */
public final class JdbcSinkConfig extends AbstractConfig {

  /** Option: the target table. */
  public static final String TABLE = "table";

  /** Option: insert or upsert. */
  public static final String INSERT_MODE = "insert.mode";

  /** Option: where key columns come from. */
  public static final String PK_MODE = "pk.mode";

  /** Option: key fields. */
  public static final String PK_FIELDS = "pk.fields";

  /** Option: value fields and their columns. */
  public static final String FIELDS = "fields";

  /** Option: columns for the record's original topic, partition and offset. */
  public static final String KAFKA_COLUMNS = "kafka.columns";

  /** Option: tombstones delete rows. */
  public static final String DELETE_ENABLED = "delete.enabled";

  /** Option: rows per JDBC batch. */
  public static final String BATCH_SIZE = "batch.size";

  /** Default coordinate columns when {@code pk.mode=kafka}. */
  static final List<String> DEFAULT_KAFKA_COLUMNS =
      List.of("kafka_topic", "kafka_partition", "kafka_offset");

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern TABLE_NAME =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

  /** Insert or upsert. */
  enum InsertMode {
    INSERT,
    UPSERT
  }

  /** Where key columns come from. */
  enum PkMode {
    NONE,
    KAFKA,
    RECORD_KEY,
    RECORD_VALUE
  }

  static ConfigDef define(ConfigDef def) {
    return def.define(
            TABLE,
            Type.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            new ConfigDef.NonEmptyString(),
            Importance.HIGH,
            "The target table, possibly schema-qualified; letters, digits and underscores.")
        .define(
            INSERT_MODE,
            Type.STRING,
            "insert",
            ConfigDef.CaseInsensitiveValidString.in("insert", "upsert"),
            Importance.HIGH,
            "insert: one row per record; upsert: insert, or update the row with the same key.")
        .define(
            PK_MODE,
            Type.STRING,
            "none",
            ConfigDef.CaseInsensitiveValidString.in("none", "kafka", "record_key", "record_value"),
            Importance.HIGH,
            "Where key columns come from: none, kafka (original topic, partition, offset),"
                + " record_key, record_value.")
        .define(
            PK_FIELDS,
            Type.LIST,
            "",
            Importance.MEDIUM,
            "Key fields: for record_key with a primitive key the column name; for record_key"
                + " with a struct or map key its fields (empty: all); for record_value the"
                + " value's fields.")
        .define(
            FIELDS,
            Type.LIST,
            "",
            Importance.MEDIUM,
            "Value fields to write, each field or field:column; empty writes every field.")
        .define(
            KAFKA_COLUMNS,
            Type.LIST,
            "",
            Importance.LOW,
            "Three columns receiving the record's original topic, partition and offset.")
        .define(
            DELETE_ENABLED,
            Type.BOOLEAN,
            false,
            Importance.LOW,
            "A record with a null value deletes the row of its key (pk.mode=record_key).")
        .define(
            BATCH_SIZE,
            Type.INT,
            500,
            ConfigDef.Range.atLeast(1),
            Importance.LOW,
            "Rows per JDBC batch.");
  }

  static final ConfigDef DEF = define(new ConfigDef());

  final String table;
  final InsertMode insertMode;
  final PkMode pkMode;
  final List<String> pkFields;

  /** Value field → column, in declared order; empty: every field of the value. */
  final Map<String, String> fields;

  final List<String> kafkaColumns;
  final boolean deleteEnabled;
  final int batchSize;

  /**
   * Parses and checks the JDBC options.
   *
   * @param props the connector's configuration
   * @throws ConfigException if an option is missing, invalid, or contradicts another
   */
  JdbcSinkConfig(Map<String, String> props) {
    super(DEF, props, false);
    table = getString(TABLE).trim();
    if (!TABLE_NAME.matcher(table).matches()) {
      throw new ConfigException(
          TABLE, table, "must be [schema.]name of letters, digits and underscores");
    }
    insertMode = InsertMode.valueOf(getString(INSERT_MODE).toUpperCase(Locale.ROOT));
    pkMode = PkMode.valueOf(getString(PK_MODE).toUpperCase(Locale.ROOT));
    pkFields = identifiers(PK_FIELDS, getList(PK_FIELDS));
    fields = new LinkedHashMap<>();
    for (String f : getList(FIELDS)) {
      String field = f.trim();
      String column = field;
      int colon = field.indexOf(':');
      if (colon >= 0) {
        column = field.substring(colon + 1).trim();
        field = field.substring(0, colon).trim();
      }
      if (field.isEmpty()) {
        throw new ConfigException(FIELDS, f, "a field name is empty");
      }
      checkIdentifier(FIELDS, column);
      if (fields.put(field, column) != null) {
        throw new ConfigException(FIELDS, f, "field '" + field + "' is given twice");
      }
    }
    List<String> kc = identifiers(KAFKA_COLUMNS, getList(KAFKA_COLUMNS));
    if (kc.isEmpty() && pkMode == PkMode.KAFKA) {
      kc = DEFAULT_KAFKA_COLUMNS;
    }
    if (!kc.isEmpty() && kc.size() != 3) {
      throw new ConfigException(
          KAFKA_COLUMNS, kc, "needs exactly three columns: topic, partition, offset");
    }
    kafkaColumns = kc;
    deleteEnabled = getBoolean(DELETE_ENABLED);
    batchSize = getInt(BATCH_SIZE);
    if (insertMode == InsertMode.UPSERT && pkMode == PkMode.NONE) {
      throw new ConfigException(
          INSERT_MODE,
          "upsert",
          "needs key columns: set pk.mode to kafka, record_key or record_value");
    }
    if (pkMode == PkMode.RECORD_VALUE && pkFields.isEmpty()) {
      throw new ConfigException(PK_FIELDS, "", "pk.mode=record_value needs the key fields");
    }
    if (deleteEnabled && pkMode != PkMode.RECORD_KEY) {
      throw new ConfigException(DELETE_ENABLED, true, "needs pk.mode=record_key");
    }
  }

  private static List<String> identifiers(String option, List<String> names) {
    List<String> out = new ArrayList<>();
    for (String n : names) {
      String name = n.trim();
      checkIdentifier(option, name);
      if (out.contains(name)) {
        throw new ConfigException(option, names, "'" + name + "' is given twice");
      }
      out.add(name);
    }
    return out;
  }

  private static void checkIdentifier(String option, String name) {
    if (!IDENTIFIER.matcher(name).matches()) {
      throw new ConfigException(
          option, name, "column names must be letters, digits and underscores");
    }
  }
}
