package io.tandem.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.OffsetStores;
import io.tandem.spi.StoreConfigurationException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MongoStoreProviderTest {

  @Test
  void providerIsFoundByBothSchemes() {
    assertThat(OffsetStores.provider("mongodb://h/db")).isInstanceOf(MongoStoreProvider.class);
    assertThat(OffsetStores.provider("mongodb+srv://cluster.example.com/db"))
        .isInstanceOf(MongoStoreProvider.class);
  }

  @Test
  void layoutDefaultsToGroupAndPartitionIsSelectable() {
    assertThat(MongoStoreProvider.config("mongodb://h/db", Map.of()).layout())
        .isEqualTo(MongoLayout.GROUP);
    assertThat(MongoStoreProvider.config("mongodb://h/db?layout=partition", Map.of()).layout())
        .isEqualTo(MongoLayout.PARTITION);
    assertThatThrownBy(() -> MongoStoreProvider.config("mongodb://h/db?layout=rows", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("partition or group");
  }

  @Test
  void databaseAndCollectionComeFromThePath() {
    MongoStoreConfig c = MongoStoreProvider.config("mongodb://h:27017/shop.offsets", Map.of());
    assertThat(c.database()).isEqualTo("shop");
    assertThat(c.collection()).isEqualTo("offsets");
    MongoStoreConfig d = MongoStoreProvider.config("mongodb://h:27017/shop", Map.of());
    assertThat(d.database()).isEqualTo("shop");
    assertThat(d.collection()).isEqualTo(MongoStoreConfig.DEFAULT_COLLECTION);
    MongoStoreConfig e = MongoStoreProvider.config("mongodb://h:27017", Map.of());
    assertThat(e.database()).isEqualTo(MongoStoreConfig.DEFAULT_DATABASE);
  }

  @Test
  void tandemParametersAreTakenOutAndDriverOptionsPassThrough() {
    MongoStoreConfig c =
        MongoStoreProvider.config(
            "mongodb://u:secret@h1,h2/shop?replicaSet=rs0&collection=offs&w=majority"
                + "&requireTransactions=true&serverSelectionTimeoutMS=2500&transactionTimeout=700",
            Map.of());
    assertThat(c.collection()).isEqualTo("offs");
    assertThat(c.requireTransactions()).isTrue();
    assertThat(c.transactionTimeout()).isEqualTo(Duration.ofMillis(700));
    assertThat(c.connectionString())
        .contains(
            "mongodb://u:secret@h1,h2/shop?replicaSet=rs0&w=majority&serverSelectionTimeoutMS=2500");
    com.mongodb.ConnectionString driver =
        new com.mongodb.ConnectionString(c.connectionString().get());
    assertThat(driver.getRequiredReplicaSetName()).isEqualTo("rs0");
    assertThat(driver.getServerSelectionTimeout()).isEqualTo(2500);
    assertThat(c.toString()).doesNotContain("secret");
  }

  @Test
  void formerTransactionTimeoutMsPointsAtTheNewNameAndDurationsFollowTheOneGrammar() {
    assertThatThrownBy(
            () -> MongoStoreProvider.config("mongodb://h/db?transactionTimeoutMs=5", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("It is now called 'transactionTimeout'");
    assertThat(
            MongoStoreProvider.config("mongodb://h/db", Map.of("transactionTimeout", "PT2S"))
                .transactionTimeout())
        .isEqualTo(Duration.ofSeconds(2));
    assertThatThrownBy(() -> MongoStoreProvider.config("mongodb://h/db?database=x", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("not accepted in the URI query");
  }

  @Test
  void driverOptionNamesAreCaseInsensitiveAndSemicolonsWork() {
    MongoStoreConfig c =
        MongoStoreProvider.config("mongodb://h/db?REPLICASET=rs1;appName=tandem", Map.of());
    assertThat(new com.mongodb.ConnectionString(c.connectionString().get()).getApplicationName())
        .isEqualTo("tandem");
  }

  @Test
  void anUnknownParameterIsRefusedByName() {
    assertThatThrownBy(
            () ->
                MongoStoreProvider.config("mongodb://u:pw@h/db?requireTransaction=true", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'requireTransaction'")
        .hasMessageContaining("requireTransactions")
        .hasMessageNotContaining("pw@");
  }

  @Test
  void propertiesCarryTandemOptionsAndUnknownOnesAreRefused() {
    MongoStoreConfig c =
        MongoStoreProvider.config(
            "mongodb://h/db", Map.of("collection", "c1", "database", "other"));
    assertThat(c.collection()).isEqualTo("c1");
    assertThat(c.database()).isEqualTo("other");
    assertThatThrownBy(() -> MongoStoreProvider.config("mongodb://h/db", Map.of("replicaSet", "x")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'replicaSet'")
        .hasMessageContaining("connection string");
    assertThatThrownBy(
            () ->
                MongoStoreProvider.config("mongodb://h/db?collection=a", Map.of("collection", "b")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("both");
  }

  @Test
  void badValuesAreRefusedWithTheValue() {
    assertThatThrownBy(
            () -> MongoStoreProvider.config("mongodb://h/db?requireTransactions=yes", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'yes'");
    assertThatThrownBy(
            () -> MongoStoreProvider.config("mongodb://h/db?transactionTimeout=-5", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'-5'");
    assertThatThrownBy(() -> MongoStoreProvider.config("mongodb://h/db?collection=a$b", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("a$b");
    assertThatThrownBy(() -> MongoStoreProvider.config("mongodb://h/db.system.x", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("system.");
    assertThatThrownBy(() -> MongoStoreProvider.config("mongodb://u:pw@/db", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageNotContaining(":pw@");
  }

  @Test
  void builderNeedsExactlyOneSource() {
    assertThatThrownBy(() -> MongoStoreConfig.builder().build())
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("neither");
  }
}
