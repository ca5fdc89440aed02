package io.tandem.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.testing.MariaDbServer;
import io.tandem.testing.PostgresServer;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The JDBC sink task on each database it supports, with its real JDBC store: upserts from Struct
 * values with schemas (decimal and timestamp logical types), inserts from schemaless maps, deletes
 * on tombstones, and a bad record failing the commit with nothing written.
 */
class JdbcSinkDialectsIT {

  /** A database: URL and credentials. */
  record Db(String name, String url, String user, String password) {
    Connection connect() throws Exception {
      return DriverManager.getConnection(url, user, password);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> databases() {
    PostgresServer pg = PostgresServer.shared();
    MariaDbServer maria = MariaDbServer.shared();
    String h2 = "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    return Stream.of(
        Arguments.of(new Db("PostgreSQL", pg.jdbcUrl(), pg.user(), pg.password())),
        Arguments.of(new Db("MariaDB", maria.jdbcUrl(), maria.user(), maria.password())),
        Arguments.of(new Db("H2", h2, "", "")));
  }

  static final Schema VALUE =
      SchemaBuilder.struct()
          .field("account", Schema.STRING_SCHEMA)
          .field("amount", Decimal.schema(2))
          .field("at", Timestamp.SCHEMA)
          .field("note", Schema.OPTIONAL_STRING_SCHEMA)
          .build();

  static Struct value(String account, String amount, String note) {
    return new Struct(VALUE)
        .put("account", account)
        .put("amount", new BigDecimal(amount))
        .put("at", new java.util.Date(1_700_000_000_000L))
        .put("note", note);
  }

  static SinkRecord rec(String topic, long offset, Object key, Schema schema, Object value) {
    return new SinkRecord(topic, 0, Schema.OPTIONAL_STRING_SCHEMA, key, schema, value, offset);
  }

  TandemJdbcSinkTask task(Db db, String table, Map<String, String> options) {
    Map<String, String> props = new HashMap<>();
    props.put("name", table);
    props.put(TandemSinkConfig.STORE_URI, db.url());
    if (!db.user().isEmpty()) {
      props.put("tandem.store.user", db.user());
      props.put(TandemSinkConfig.STORE_PASSWORD, db.password());
    }
    props.put("tandem.store.poolSize", "1");
    props.put(TandemSinkConfig.KAFKA_BOOTSTRAP, "unused:9092");
    props.put(JdbcSinkConfig.TABLE, table);
    props.putAll(options);
    TandemSinkConfig config = new TandemSinkConfig(props);
    OffsetStore<Connection> store =
        OffsetStores.open(config.storeUri(), config.storeProperties(), Connection.class);
    TandemJdbcSinkTask t = new TandemJdbcSinkTask();
    t.initialize(new TandemSinkTaskTest.Context());
    t.init(config, store, new ConnectThroughputIT.NoGaps());
    t.configure(props);
    return t;
  }

  static List<String> rows(Db db, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= n; i++) {
          b.append(i > 1 ? "|" : "").append(rs.getString(i));
        }
        out.add(b.toString());
      }
    }
    return out;
  }

  static void exec(Db db, String sql) throws Exception {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  static String name(String prefix) {
    return prefix + "_" + UUID.randomUUID().toString().substring(0, 8);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void upsertFromStructsKeepsTheLastValuePerKeyAndDeletesOnTombstones(Db db) throws Exception {
    String table = name("acct");
    exec(
        db,
        "CREATE TABLE "
            + table
            + " (account VARCHAR(50) PRIMARY KEY, amount DECIMAL(12,2), ts TIMESTAMP NULL,"
            + " note VARCHAR(50))");
    TandemJdbcSinkTask t =
        task(
            db,
            table,
            Map.of(
                JdbcSinkConfig.INSERT_MODE, "upsert",
                JdbcSinkConfig.PK_MODE, "record_key",
                JdbcSinkConfig.PK_FIELDS, "account",
                JdbcSinkConfig.FIELDS, "amount,at:ts,note",
                JdbcSinkConfig.DELETE_ENABLED, "true"));
    String topic = name("t");
    TopicPartition tp = new TopicPartition(topic, 0);
    t.open(List.of(tp));
    t.put(
        List.of(
            rec(topic, 0, "a", VALUE, value("a", "10.50", "first")),
            rec(topic, 1, "b", VALUE, value("b", "3.00", null)),
            rec(topic, 2, "a", VALUE, value("a", "11.25", "second")),
            rec(topic, 3, "c", VALUE, value("c", "1.00", "gone soon")),
            rec(topic, 4, "c", null, null)));
    assertThat(rows(db, "SELECT account, amount, note FROM " + table + " ORDER BY account"))
        .containsExactly("a|11.25|second", "b|3.00|null");
    assertThat(t.preCommit(Map.of()).get(tp).offset()).isEqualTo(5L);
    t.stop();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void insertFromSchemalessMapsWritesKafkaCoordinates(Db db) throws Exception {
    String table = name("ins");
    exec(
        db,
        "CREATE TABLE "
            + table
            + " (src_topic VARCHAR(255), src_partition INT, src_offset BIGINT, id BIGINT,"
            + " label VARCHAR(50))");
    TandemJdbcSinkTask t =
        task(
            db,
            table,
            Map.of(
                JdbcSinkConfig.FIELDS, "id,name:label",
                JdbcSinkConfig.KAFKA_COLUMNS, "src_topic,src_partition,src_offset"));
    String topic = name("t");
    t.open(List.of(new TopicPartition(topic, 0)));
    t.put(
        List.of(
            rec(topic, 7, null, null, Map.of("id", 1L, "name", "one", "extra", "ignored")),
            rec(topic, 9, null, null, Map.of("id", 2L, "name", "two"))));
    assertThat(rows(db, "SELECT src_offset, id, label FROM " + table + " ORDER BY src_offset"))
        .containsExactly("7|1|one", "9|2|two");
    t.stop();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void aRecordThatCannotBeWrittenFailsTheTaskWithNothingWritten(Db db) throws Exception {
    String table = name("bad");
    exec(db, "CREATE TABLE " + table + " (id BIGINT NOT NULL, name VARCHAR(50))");
    TandemJdbcSinkTask t = task(db, table, Map.of(JdbcSinkConfig.FIELDS, "id,name"));
    String topic = name("t");
    TopicPartition tp = new TopicPartition(topic, 0);
    t.open(List.of(tp));
    assertThatThrownBy(
            () ->
                t.put(
                    List.of(
                        rec(topic, 0, null, null, Map.of("id", 1L, "name", "ok")),
                        rec(topic, 1, null, null, Map.of("name", "no id")))))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining(topic + "-0@1")
        .hasMessageContaining("'id'");
    assertThat(rows(db, "SELECT id FROM " + table)).isEmpty();
    assertThat(t.preCommit(Map.of()).get(tp).offset()).isZero();
    t.stop();
  }
}
