package io.tandem.jdbc;

import static io.tandem.jdbc.Databases.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.testing.FreePorts;
import io.tandem.testing.PostgresServer;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

/** Opening stores: by URI through the provider, on a DataSource, and what fails how. */
class JdbcStoreOpenIT {

  @Test
  void unreachablePostgresIsUnavailableWithTheUrlMasked() {
    String url = "jdbc:postgresql://127.0.0.1:" + FreePorts.next() + "/app?user=u&password=s3cret";
    assertThatThrownBy(() -> OffsetStores.open(url, Map.of("connectionTimeout", "1s")))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("password=****")
        .hasMessageContaining("127.0.0.1")
        .hasMessageNotContaining("s3cret")
        .hasMessageContaining("Retriable");
  }

  @Test
  void unreachableMariaDbIsUnavailable() {
    String url = "jdbc:mariadb://127.0.0.1:" + FreePorts.next() + "/app";
    assertThatThrownBy(
            () -> OffsetStores.open(url, Map.of("connectionTimeout", "1s", "password", "s3cret")))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining(url)
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void wrongPasswordIsAConfigurationError() {
    PostgresServer pg = PostgresServer.shared();
    // zonky's default pg_hba trusts local connections: a user that does not exist is refused.
    assertThatThrownBy(
            () ->
                OffsetStores.open(
                    pg.jdbcUrl(),
                    Map.of("user", "nobody_" + System.nanoTime(), "password", "s3cret")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining(pg.jdbcUrl())
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void storeBecomesUnavailableWhenItsServerGoesAway() throws Exception {
    // An H2 server we can stop: the store keeps its URL, the database disappears.
    org.h2.tools.Server server =
        org.h2.tools.Server.createTcpServer(
                "-tcpPort", String.valueOf(FreePorts.next()), "-ifNotExists")
            .start();
    String url = "jdbc:h2:tcp://127.0.0.1:" + server.getPort() + "/mem:" + unique("gone");
    try (OffsetStore<?> store = OffsetStores.open(url, Map.of("connectionTimeout", "1s"))) {
      Partition p = new Partition("t", 0);
      store.initialize("g", Map.of(p, 0L));
      server.stop();
      assertThatThrownBy(
              () -> store.commit("g", List.of(new OffsetRange(p, 0, 1)), ResultWriter.none()))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining(url);
      assertThatThrownBy(() -> store.positions("g")).isInstanceOf(StoreUnavailableException.class);
    } finally {
      server.stop();
    }
  }

  @Test
  void providerOpensPostgresAndH2ByUri() {
    PostgresServer pg = PostgresServer.shared();
    try (OffsetStore<Connection> store =
        OffsetStores.open(
            pg.jdbcUrl() + "?tandem.table=" + unique("via_provider"),
            Map.of("user", pg.user(), "password", pg.password()),
            Connection.class)) {
      assertThat(store).isInstanceOf(JdbcOffsetStore.class);
      assertThat(((JdbcOffsetStore) store).dialect()).isEqualTo(JdbcDialect.POSTGRESQL);
      assertThat(store.capabilities().durable()).isTrue();
      Partition p = new Partition("t", 0);
      assertThat(store.initialize("g", Map.of(p, 2L))).containsEntry(p, 2L);
    }
    try (OffsetStore<?> store = OffsetStores.open("jdbc:h2:mem:" + unique("prov"))) {
      assertThat(((JdbcOffsetStore) store).dialect()).isEqualTo(JdbcDialect.H2);
      assertThat(store.capabilities().durable()).as("H2 in memory").isFalse();
      assertThat(store.capabilities().description()).contains("in memory", "NOT durable");
      assertThat(store.groups()).isEmpty();
    }
  }

  @Test
  void malformedUrisAndUnknownOptionsFailBeforeConnecting() {
    assertThatThrownBy(() -> OffsetStores.open("jdbc:", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Malformed JDBC store URI");
    assertThatThrownBy(() -> OffsetStores.open("jdbc:sqlite:x.db", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Unknown JDBC dialect");
    assertThatThrownBy(() -> OffsetStores.open("jdbc:h2:mem:x;tandem.table=a-b", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'a-b'");
    assertThatThrownBy(() -> OffsetStores.open("jdbc:h2:mem:x", Map.of("colour", "red")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("colour");
  }

  @Test
  void missingDriverNamesTheArtifact() {
    // No MySQL Connector/J on the test class path; MariaDB's driver does not take jdbc:mysql:
    // unless told to.
    assertThatThrownBy(() -> OffsetStores.open("jdbc:mysql://127.0.0.1:1/x", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("com.mysql:mysql-connector-j");
  }

  @Test
  void suppliedDataSourceIsUsedAndLeftOpen() throws Exception {
    JdbcDataSource ds = new JdbcDataSource();
    String name = unique("ds");
    ds.setURL("jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1");
    Partition p = new Partition("t", 0);
    try (JdbcOffsetStore store =
        JdbcOffsetStore.open(ds, JdbcStoreConfig.builder().tableName("offs").build())) {
      assertThat(store.dialect()).isEqualTo(JdbcDialect.H2);
      store.initialize("g", Map.of(p, 0L));
      store.commit("g", List.of(new OffsetRange(p, 0, 4)), ResultWriter.none());
    }
    // Still usable, and the store gave its connections back in auto-commit mode.
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        var rs = s.executeQuery("SELECT next_offset FROM \"offs\"")) {
      assertThat(c.getAutoCommit()).isTrue();
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong(1)).isEqualTo(4);
    }
  }

  @Test
  void closeIsIdempotentAndAClosedStoreRefusesWork() {
    OffsetStore<?> store = OffsetStores.open("jdbc:h2:mem:" + unique("closed"));
    store.close();
    store.close();
    assertThatThrownBy(() -> store.groups())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }
}
