package io.tandem.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.StoreConfigurationException;
import java.time.Duration;
import java.util.Map;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.Test;

class ZooKeeperStoreConfigTest {

  @Test
  void defaults() {
    ZooKeeperStoreConfig c = ZooKeeperStoreConfig.fromUri("zookeeper://zk1:2181", Map.of());
    assertThat(c.connectString()).isEqualTo("zk1:2181");
    assertThat(c.root()).isEqualTo("/tandem");
    assertThat(c.sessionTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.juteMaxBuffer()).isEqualTo(1048575);
    assertThat(c.maxRangesPerCommit()).isEqualTo((1048575 - 1024) / 256);
    assertThat(c.commitAttempts()).isEqualTo(3);
    assertThat(c.acl()).isEqualTo(ZooDefs.Ids.OPEN_ACL_UNSAFE);
    assertThat(c.digest()).isNull();
  }

  @Test
  void hostsPathAndOptionsFromUriAndProperties() {
    ZooKeeperStoreConfig c =
        ZooKeeperStoreConfig.fromUri(
            "zookeeper://u:p%40ss@zk1:2181,zk2,[::1]:2182/apps/orders/?sessionTimeout=10s"
                + "&connectTimeout=1500ms&juteMaxBuffer=4194304",
            Map.of("commitAttempts", "5", "acl", "creator"));
    assertThat(c.connectString()).isEqualTo("zk1:2181,zk2:2181,[::1]:2182");
    assertThat(c.root()).isEqualTo("/apps/orders");
    assertThat(c.sessionTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.connectTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(c.juteMaxBuffer()).isEqualTo(4194304);
    assertThat(c.maxRangesPerCommit()).isEqualTo((4194304 - 1024) / 256);
    assertThat(c.commitAttempts()).isEqualTo(5);
    assertThat(c.acl()).isEqualTo(ZooDefs.Ids.CREATOR_ALL_ACL);
    assertThat(c.digest()).isEqualTo("u:p@ss");
    assertThat(c.toString()).doesNotContain("p@ss");
  }

  @Test
  void unknownOptionIsAnErrorNamingTheKnownOnes() {
    assertThatThrownBy(
            () -> ZooKeeperStoreConfig.fromUri("zookeeper://h:1?sessiontimeout=5s", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Unknown option 'sessiontimeout' for the ZooKeeper store")
        .hasMessageContaining("Did you mean 'sessionTimeout'?")
        .hasMessageContaining("Known options: sessionTimeout, connectTimeout,");
    assertThatThrownBy(() -> ZooKeeperStoreConfig.fromUri("zookeeper://h:1", Map.of("pool", "3")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'pool'");
  }

  @Test
  void badValuesAreErrorsNamingOptionAndValue() {
    assertThatThrownBy(
            () -> ZooKeeperStoreConfig.fromUri("zookeeper://h:1?sessionTimeout=soon", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'soon'")
        .hasMessageContaining("sessionTimeout");
    assertThatThrownBy(
            () -> ZooKeeperStoreConfig.fromUri("zookeeper://h:1?juteMaxBuffer=100", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("juteMaxBuffer must be >= 4096");
    assertThatThrownBy(() -> ZooKeeperStoreConfig.fromUri("zookeeper://h:99999", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("99999");
    assertThatThrownBy(() -> ZooKeeperStoreConfig.fromUri("zookeeper:///tandem", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("names no server");
    assertThatThrownBy(() -> ZooKeeperStoreConfig.fromUri("zookeeper://h:1/zookeeper/x", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("/zookeeper");
    assertThatThrownBy(
            () -> ZooKeeperStoreConfig.fromUri("zookeeper://h:1?acl=open", Map.of("acl", "open")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("given both");
  }

  @Test
  void aPlusInTheDigestStaysAPlusAndTheQueryTakesNoDigest() {
    assertThat(ZooKeeperStoreConfig.fromUri("zookeeper://u:a+b@h:1", Map.of()).digest())
        .isEqualTo("u:a+b");
    assertThatThrownBy(() -> ZooKeeperStoreConfig.fromUri("zookeeper://h:1?digest=u:pw", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("not accepted in the URI query")
        .message()
        .doesNotContain("u:pw");
    assertThatThrownBy(
            () -> ZooKeeperStoreConfig.fromUri("zookeeper://u:x@h:1", Map.of("digest", "u:y")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("given both");
  }

  @Test
  void durationsFollowTheOneGrammar() {
    assertThat(
            ZooKeeperStoreConfig.fromUri(
                    "zookeeper://h:1?sessionTimeout=PT20S&connectTimeout=1h", Map.of())
                .sessionTimeout())
        .isEqualTo(java.time.Duration.ofSeconds(20));
  }

  @Test
  void passwordsNeverAppearInMessages() {
    assertThatThrownBy(
            () -> ZooKeeperStoreConfig.fromUri("zookeeper://u:secret@h:1?bogus=1", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .message()
        .doesNotContain("secret");
    assertThatThrownBy(
            () -> ZooKeeperStoreConfig.fromUri("zookeeper://h:1", Map.of("digest", "nocolon")))
        .isInstanceOf(StoreConfigurationException.class)
        .message()
        .doesNotContain("nocolon");
  }

  @Test
  void builderChecksRoot() {
    assertThatThrownBy(() -> ZooKeeperStoreConfig.builder("h:1").root("/").build())
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("root");
    assertThatThrownBy(() -> ZooKeeperStoreConfig.builder("h:1").root("relative").build())
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("relative");
    assertThatThrownBy(() -> ZooKeeperStoreConfig.builder("h:1/chroot").build())
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("chroot");
  }
}
