package io.tandem.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import io.tandem.spi.StoreConfigurationException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CassandraStoreProviderTest {

  @Test
  void parsesHostsKeyspaceAndEveryOption() {
    CassandraStoreProvider.Parsed p =
        CassandraStoreProvider.parse(
            "cassandra://a:9043,b/orders?localDatacenter=dc1&table=offs&writeConsistency=quorum"
                + "&serialConsistency=SERIAL&readConsistency=ONE&requestTimeout=500ms"
                + "&maxRangesPerCommit=100&resultConcurrency=4&lwtAttempts=5"
                + "&createSchema=NetworkTopologyStrategy:dc1=3,dc2=2",
            Map.of("user", "u", "password", "secret"));
    CassandraStoreConfig c = p.config();
    assertThat(c.contactPoints())
        .containsExactly(
            InetSocketAddress.createUnresolved("a", 9043),
            InetSocketAddress.createUnresolved("b", 9042));
    assertThat(c.keyspace()).isEqualTo("orders");
    assertThat(c.table()).isEqualTo("offs");
    assertThat(c.localDatacenter()).isEqualTo("dc1");
    assertThat(c.writeConsistency()).isEqualTo(DefaultConsistencyLevel.QUORUM);
    assertThat(c.serialConsistency()).isEqualTo(DefaultConsistencyLevel.SERIAL);
    assertThat(c.readConsistency()).isEqualTo(DefaultConsistencyLevel.ONE);
    assertThat(c.requestTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.maxRangesPerCommit()).isEqualTo(100);
    assertThat(c.resultConcurrency()).isEqualTo(4);
    assertThat(c.lwtAttempts()).isEqualTo(5);
    assertThat(c.toString()).contains("password=****").doesNotContain("secret");
    assertThat(p.createSchema()).isEqualTo("NetworkTopologyStrategy:dc1=3,dc2=2");
    assertThat(CassandraReplication.parse(p.createSchema()).cql())
        .isEqualTo("{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}");
  }

  @Test
  void defaultsKeyspacePortAndConsistencies() {
    CassandraStoreConfig c =
        CassandraStoreProvider.parse("cassandra://h?localDatacenter=dc1", Map.of()).config();
    assertThat(c.keyspace()).isEqualTo("tandem");
    assertThat(c.table()).isEqualTo("tandem_offsets");
    assertThat(c.contactPoints()).containsExactly(InetSocketAddress.createUnresolved("h", 9042));
    assertThat(c.writeConsistency()).isEqualTo(DefaultConsistencyLevel.LOCAL_QUORUM);
    assertThat(c.serialConsistency()).isEqualTo(DefaultConsistencyLevel.LOCAL_SERIAL);
  }

  @Test
  void layoutDefaultsToGroupAndPartitionIsSelectable() {
    assertThat(
            CassandraStoreProvider.parse("cassandra://h?localDatacenter=dc1", Map.of())
                .config()
                .layout())
        .isEqualTo(CassandraLayout.GROUP);
    assertThat(
            CassandraStoreProvider.parse(
                    "cassandra://h?localDatacenter=dc1&layout=PARTITION", Map.of())
                .config()
                .layout())
        .isEqualTo(CassandraLayout.PARTITION);
    assertThatThrownBy(
            () ->
                CassandraStoreProvider.parse(
                    "cassandra://h?localDatacenter=dc1&layout=rows", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("layout")
        .hasMessageContaining("partition or group");
  }

  @Test
  void formerUsernameIsRefusedWithAHintAndPlusStaysPlus() {
    assertThatThrownBy(
            () ->
                CassandraStoreProvider.parse(
                    "cassandra://h/ks?localDatacenter=d", Map.of("username", "u")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("It is now called 'user'");
    assertThat(
            CassandraStoreProvider.parse("cassandra://u:a+b@h/ks?localDatacenter=d", Map.of())
                .config()
                .password())
        .contains("a+b");
  }

  @Test
  void unknownParameterIsAnErrorNamingIt() {
    assertThatThrownBy(
            () ->
                CassandraStoreProvider.parse(
                    "cassandra://h/ks?localDatacenter=d&consistancy=ONE", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Unknown option 'consistancy' for the Cassandra store")
        .hasMessageContaining("Known options: localDatacenter, table,");
  }

  @Test
  void missingDatacenterIsAnError() {
    assertThatThrownBy(() -> CassandraStoreProvider.parse("cassandra://h/ks", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("localDatacenter");
  }

  @Test
  void badValuesNameTheOption() {
    assertThatThrownBy(
            () ->
                CassandraStoreProvider.parse(
                    "cassandra://h/ks?localDatacenter=d&writeConsistency=SERIAL", Map.of()))
        .hasMessageContaining("writeConsistency must not be serial");
    assertThatThrownBy(
            () ->
                CassandraStoreProvider.parse(
                    "cassandra://h/ks?localDatacenter=d&requestTimeout=soon", Map.of()))
        .hasMessageContaining("requestTimeout");
    assertThatThrownBy(
            () -> CassandraStoreProvider.parse("cassandra://h/bad-ks?localDatacenter=d", Map.of()))
        .hasMessageContaining("keyspace must match");
    assertThatThrownBy(
            () ->
                CassandraStoreProvider.parse(
                    "cassandra://h/ks?localDatacenter=d&createSchema=SimpleStrategy:0", Map.of()))
        .hasMessageContaining("replication");
    assertThatThrownBy(
            () -> CassandraStoreProvider.parse("cassandra://h:x/ks?localDatacenter=d", Map.of()))
        .hasMessageContaining("Bad port");
  }

  @Test
  void sameOptionInUriAndPropertiesIsAnError() {
    assertThatThrownBy(
            () ->
                CassandraStoreProvider.parse(
                    "cassandra://h/ks?localDatacenter=d", Map.of("localDatacenter", "e")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("both");
  }

  @Test
  void passwordsAreMaskedInMessages() {
    assertThatThrownBy(
            () ->
                CassandraStoreProvider.parse(
                    "cassandra://u:hunter2@h/ks?localDatacenter=d&x=1", Map.of()))
        .hasMessageNotContaining("hunter2");
  }
}
