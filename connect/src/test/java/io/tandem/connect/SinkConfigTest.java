package io.tandem.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** The connectors' options: defaults, pass-through to the store, and each rule's message. */
class SinkConfigTest {

  static Map<String, String> base() {
    Map<String, String> p = new HashMap<>();
    p.put("name", "orders-sink");
    p.put(TandemSinkConfig.STORE_URI, "jdbc:postgresql://db/app");
    p.put(TandemSinkConfig.KAFKA_BOOTSTRAP, "k1:9092,k2:9092");
    p.put(JdbcSinkConfig.TABLE, "orders");
    return p;
  }

  static Map<String, String> with(String... kv) {
    Map<String, String> p = base();
    for (int i = 0; i < kv.length; i += 2) {
      p.put(kv[i], kv[i + 1]);
    }
    return p;
  }

  @Test
  void groupDefaultsToConnectorsConsumerGroupName() {
    TandemSinkConfig c = new TandemSinkConfig(base());
    assertThat(c.group()).isEqualTo("connect-orders-sink");
    assertThat(c.connectorConsumerGroup()).isEqualTo("connect-orders-sink");
    assertThat(new TandemSinkConfig(with("tandem.group", "g1")).group()).isEqualTo("g1");
    assertThat(
            new TandemSinkConfig(with("consumer.override.group.id", "cg")).connectorConsumerGroup())
        .isEqualTo("cg");
    assertThat(c.unknownPartitionPolicy()).isEqualTo(UnknownPartitionPolicy.EARLIEST);
    assertThat(c.failOnRetentionLoss()).isTrue();
  }

  @Test
  void storeOptionsArePassedWithoutPrefixAndWithoutTheConnectorsOwn() {
    TandemSinkConfig c =
        new TandemSinkConfig(
            with(
                "tandem.store.user", "app",
                "tandem.store.password", "secret",
                "tandem.store.poolSize", "2",
                "tandem.store.retry.timeout.ms", "1000"));
    assertThat(c.storeProperties())
        .containsOnly(
            Map.entry("user", "app"), Map.entry("password", "secret"), Map.entry("poolSize", "2"));
    assertThat(c.adminProperties()).containsEntry("bootstrap.servers", "k1:9092,k2:9092");
  }

  @Test
  void missingStoreOrBootstrapIsNamed() {
    Map<String, String> p = base();
    p.remove(TandemSinkConfig.KAFKA_BOOTSTRAP);
    assertThatThrownBy(() -> new TandemSinkConfig(p))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(TandemSinkConfig.KAFKA_BOOTSTRAP);
    Map<String, String> q = base();
    q.remove(TandemSinkConfig.STORE_URI);
    assertThatThrownBy(() -> new TandemSinkConfig(q))
        .hasMessageContaining(TandemSinkConfig.STORE_URI);
  }

  @Test
  void jdbcOptionsThatContradictEachOtherAreRefused() {
    assertThatThrownBy(() -> new JdbcSinkConfig(with("insert.mode", "upsert")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("needs key columns");
    assertThatThrownBy(() -> new JdbcSinkConfig(with("pk.mode", "record_value")))
        .hasMessageContaining("pk.fields");
    assertThatThrownBy(() -> new JdbcSinkConfig(with("delete.enabled", "true")))
        .hasMessageContaining("pk.mode=record_key");
    assertThatThrownBy(() -> new JdbcSinkConfig(with("kafka.columns", "t,p")))
        .hasMessageContaining("exactly three");
    assertThatThrownBy(() -> new JdbcSinkConfig(with("table", "orders; DROP TABLE x")))
        .hasMessageContaining("letters, digits and underscores");
    assertThatThrownBy(() -> new JdbcSinkConfig(with("fields", "a:b c")))
        .hasMessageContaining("column names");
  }

  @Test
  void kafkaKeyModeDefaultsItsColumnsAndFieldsMapToColumns() {
    JdbcSinkConfig c =
        new JdbcSinkConfig(
            with("pk.mode", "kafka", "insert.mode", "upsert", "fields", "id,name:label"));
    assertThat(c.kafkaColumns).containsExactly("kafka_topic", "kafka_partition", "kafka_offset");
    assertThat(c.fields).containsExactly(Map.entry("id", "id"), Map.entry("name", "label"));
  }

  @Test
  void connectorValidatesOnStartAndDescribesEveryOption() {
    TandemJdbcSinkConnector connector = new TandemJdbcSinkConnector();
    assertThatThrownBy(() -> connector.start(with("insert.mode", "upsert")))
        .isInstanceOf(ConfigException.class);
    connector.start(base());
    assertThat(connector.taskConfigs(3)).hasSize(3).allMatch(m -> m.equals(base()));
    assertThat(connector.config().names())
        .contains(TandemSinkConfig.STORE_URI, JdbcSinkConfig.TABLE, JdbcSinkConfig.PK_MODE);
    assertThat(new TandemRedisSinkConnector().config().names()).contains(RedisSinkConfig.KEY_MODE);
  }
}
