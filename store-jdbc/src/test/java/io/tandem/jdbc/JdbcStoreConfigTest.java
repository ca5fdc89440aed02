package io.tandem.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.StoreConfigurationException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JdbcStoreConfigTest {

  @Test
  void defaultsAreDocumented() {
    JdbcStoreConfig c = JdbcStoreConfig.builder().url("jdbc:postgresql://db/app").build();
    assertThat(c.tableName()).isEqualTo("tandem_offsets");
    assertThat(c.createSchema()).isTrue();
    assertThat(c.poolSize()).isEqualTo(4);
    assertThat(c.connectionTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.dialect()).contains(JdbcDialect.POSTGRESQL);
    assertThat(c.user()).isEmpty();
  }

  @Test
  void dialectComesFromTheUrl() {
    assertThat(JdbcDialect.fromUrl("jdbc:postgresql://h/db")).isEqualTo(JdbcDialect.POSTGRESQL);
    assertThat(JdbcDialect.fromUrl("jdbc:h2:mem:x")).isEqualTo(JdbcDialect.H2);
    assertThat(JdbcDialect.fromUrl("JDBC:MariaDB://h/db")).isEqualTo(JdbcDialect.MARIADB);
    assertThat(JdbcDialect.fromUrl("jdbc:mysql://h/db")).isEqualTo(JdbcDialect.MYSQL);
  }

  @Test
  void unknownDialectIsAClearConfigurationError() {
    assertThatThrownBy(
            () -> JdbcStoreConfig.fromUri("jdbc:oracle:thin:@h:1521/x?password=s3cret", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Unknown JDBC dialect")
        .hasMessageContaining("jdbc:oracle:thin:@h:1521/x?password=****")
        .hasMessageNotContaining("s3cret")
        .hasMessageContaining("dialect");
  }

  @Test
  void dialectOptionOverridesTheUrl() {
    JdbcStoreConfig c =
        JdbcStoreConfig.fromUri("jdbc:p6spy:postgresql://h/db", Map.of("dialect", "PostgreSQL"));
    assertThat(c.dialect()).contains(JdbcDialect.POSTGRESQL);
  }

  @Test
  void uriOptionsAreTakenOutOfTheDriverUrl() {
    JdbcStoreConfig c =
        JdbcStoreConfig.fromUri(
            "jdbc:postgresql://h:5432/db?sslmode=require&tandem.table=my_offsets"
                + "&tandem.poolSize=7&ApplicationName=x",
            Map.of("user", "u", "password", "p", "driver.tcpKeepAlive", "true"));
    assertThat(c.url()).contains("jdbc:postgresql://h:5432/db?sslmode=require&ApplicationName=x");
    assertThat(c.tableName()).isEqualTo("my_offsets");
    assertThat(c.poolSize()).isEqualTo(7);
    assertThat(c.user()).contains("u");
    assertThat(c.password()).contains("p");
    assertThat(c.driverProperties()).containsExactly(Map.entry("tcpKeepAlive", "true"));
    assertThat(c.toString()).doesNotContain("=p,").contains("password=****");
  }

  @Test
  void h2SemicolonOptionsAreTakenOutToo() {
    JdbcStoreConfig c =
        JdbcStoreConfig.fromUri(
            "jdbc:h2:./data/x;WRITE_DELAY=0;tandem.createSchema=false;tandem.table=s.t",
            Map.of("connectionTimeout", "2500"));
    assertThat(c.url()).contains("jdbc:h2:./data/x;WRITE_DELAY=0");
    assertThat(c.createSchema()).isFalse();
    assertThat(c.tableName()).isEqualTo("s.t");
    assertThat(c.connectionTimeout()).isEqualTo(Duration.ofMillis(2500));
  }

  @Test
  void onlyTandemParametersLeaveAQuestionMarkBehindNothing() {
    JdbcStoreConfig c = JdbcStoreConfig.fromUri("jdbc:mariadb://h/db?tandem.table=x", Map.of());
    assertThat(c.url()).contains("jdbc:mariadb://h/db");
  }

  @Test
  void unknownUriOptionIsAnError() {
    assertThatThrownBy(
            () -> JdbcStoreConfig.fromUri("jdbc:postgresql://h/db?tandem.colour=red", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Unknown option 'colour' for the JDBC store")
        .hasMessageContaining("Known options: table, createSchema, poolSize, connectionTimeout");
  }

  @Test
  void unknownPropertyIsAnError() {
    assertThatThrownBy(
            () -> JdbcStoreConfig.fromUri("jdbc:postgresql://h/db", Map.of("poolsize", "3")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Unknown option 'poolsize' for the JDBC store")
        .hasMessageContaining("Did you mean 'poolSize'?");
  }

  @Test
  void optionGivenTwiceIsAnError() {
    assertThatThrownBy(
            () ->
                JdbcStoreConfig.fromUri(
                    "jdbc:postgresql://h/db?tandem.table=a", Map.of("table", "b")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("is given both in the JDBC store URI");
    assertThatThrownBy(
            () ->
                JdbcStoreConfig.fromUri(
                    "jdbc:postgresql://h/db?tandem.table=a&tandem.table=b", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("given twice");
  }

  @Test
  void malformedUrisAreRefused() {
    for (String uri : new String[] {"jdbc:", "postgresql://h/db", "", "jdbc"}) {
      assertThatThrownBy(() -> JdbcStoreConfig.fromUri(uri, Map.of()))
          .as(uri)
          .isInstanceOf(StoreConfigurationException.class)
          .hasMessageContaining("Malformed JDBC store URI");
    }
    assertThatThrownBy(
            () -> JdbcStoreConfig.fromUri("jdbc:postgresql://h/db?tandem.table", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("tandem.<option>=<value>");
  }

  @Test
  void badTableNamesAreRefusedByName() {
    for (String bad :
        new String[] {
          "x;drop table y", "\"quoted\"", "a.b.c", "1abc", "", "with space", "a-b", "x".repeat(64)
        }) {
      assertThatThrownBy(
              () -> JdbcStoreConfig.builder().url("jdbc:h2:mem:x").tableName(bad).build())
          .as(bad)
          .isInstanceOf(StoreConfigurationException.class)
          .hasMessageContaining("table must match");
    }
    assertThat(
            JdbcStoreConfig.builder().url("jdbc:h2:mem:x").tableName("s1.T_2").build().tableName())
        .isEqualTo("s1.T_2");
  }

  @Test
  void invalidValuesNameOptionAndValue() {
    assertThatThrownBy(() -> JdbcStoreConfig.fromUri("jdbc:h2:mem:x", Map.of("poolSize", "many")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("expected an integer, got 'many'");
    assertThatThrownBy(() -> JdbcStoreConfig.fromUri("jdbc:h2:mem:x", Map.of("poolSize", "0")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("poolSize must be between 1 and 1000, got 0");
    assertThatThrownBy(
            () -> JdbcStoreConfig.fromUri("jdbc:h2:mem:x", Map.of("createSchema", "yes")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("expected true or false, got 'yes'");
    assertThatThrownBy(
            () -> JdbcStoreConfig.fromUri("jdbc:h2:mem:x", Map.of("connectionTimeout", "10")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("connectionTimeout must be >= 250ms");
    assertThatThrownBy(() -> JdbcStoreConfig.fromUri("jdbc:h2:mem:x", Map.of("dialect", "db2")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Unknown dialect 'db2'");
  }

  @Test
  void formerKebabCaseNamesPointAtTheNewOnesAndPlusStaysPlus() {
    assertThatThrownBy(
            () -> JdbcStoreConfig.fromUri("jdbc:h2:mem:x", Map.of("connection-timeout-ms", "1")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("It is now called 'connectionTimeout'");
    JdbcStoreConfig c =
        JdbcStoreConfig.fromUri(
            "jdbc:postgresql://h/db?tandem.password=a+b%2Bc&tandem.connectionTimeout=PT2S",
            Map.of());
    assertThat(c.password()).contains("a+b+c");
    assertThat(c.connectionTimeout()).isEqualTo(java.time.Duration.ofSeconds(2));
    assertThat(c.toString()).doesNotContain("a+b+c");
  }
}
