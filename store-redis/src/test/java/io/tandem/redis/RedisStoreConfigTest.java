package io.tandem.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.StoreConfigurationException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RedisStoreConfigTest {

  @Test
  void defaults() {
    RedisStoreConfig c = RedisStoreConfig.fromUri("redis://cache", Map.of());
    assertThat(c.host()).isEqualTo("cache");
    assertThat(c.port()).isEqualTo(6379);
    assertThat(c.ssl()).isFalse();
    assertThat(c.database()).isZero();
    assertThat(c.user()).isNull();
    assertThat(c.password()).isNull();
    assertThat(c.keyPrefix()).isEqualTo("tandem");
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.waitReplicas()).isZero();
    assertThat(c.maxRangesPerCommit()).isEqualTo(10_000);
    assertThat(c.watchRetries()).isEqualTo(16);
    assertThat(c.poolSize()).isEqualTo(8);
  }

  @Test
  void readsEveryPartOfTheUri() {
    RedisStoreConfig c =
        RedisStoreConfig.fromUri(
            "rediss://app:p%40ss%3Aw0rd@10.0.0.5:6380/3?timeout=750ms&connectTimeout=PT3S"
                + "&prefix=tx&poolSize=2&waitReplicas=1&waitTimeout=2s&maxRangesPerCommit=50"
                + "&watchRetries=0&clientName=svc&verifyHostname=false",
            Map.of());
    assertThat(c.ssl()).isTrue();
    assertThat(c.host()).isEqualTo("10.0.0.5");
    assertThat(c.port()).isEqualTo(6380);
    assertThat(c.database()).isEqualTo(3);
    assertThat(c.user()).isEqualTo("app");
    assertThat(c.password()).isEqualTo("p@ss:w0rd");
    assertThat(c.timeout()).isEqualTo(Duration.ofMillis(750));
    assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(c.keyPrefix()).isEqualTo("tx");
    assertThat(c.poolSize()).isEqualTo(2);
    assertThat(c.waitReplicas()).isEqualTo(1);
    assertThat(c.waitTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.maxRangesPerCommit()).isEqualTo(50);
    assertThat(c.watchRetries()).isZero();
    assertThat(c.clientName()).isEqualTo("svc");
    assertThat(c.verifyHostname()).isFalse();
    assertThat(c.toString()).doesNotContain("p@ss").contains("password=****");
  }

  @Test
  void aPlusInThePasswordStaysAPlus() {
    assertThat(RedisStoreConfig.fromUri("redis://:a+b%2Bc@h", Map.of()).password())
        .isEqualTo("a+b+c");
  }

  @Test
  void theFormerMaxRangesNamePointsAtTheNewOne() {
    assertThatThrownBy(() -> RedisStoreConfig.fromUri("redis://h?maxRanges=5", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("It is now called 'maxRangesPerCommit'");
  }

  @Test
  void passwordOnlyIsTheDefaultUser() {
    RedisStoreConfig c = RedisStoreConfig.fromUri("redis://:secret@h", Map.of());
    assertThat(c.user()).isNull();
    assertThat(c.password()).isEqualTo("secret");
  }

  @Test
  void propertiesCarryCredentialsAndOptions() {
    RedisStoreConfig c =
        RedisStoreConfig.fromUri(
            "redis://h:1",
            Map.of("user", "u", "password", "pw", "database", "2", "timeout", "1000"));
    assertThat(c.user()).isEqualTo("u");
    assertThat(c.password()).isEqualTo("pw");
    assertThat(c.database()).isEqualTo(2);
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void ipv6Host() {
    RedisStoreConfig c = RedisStoreConfig.fromUri("redis://[::1]:7000", Map.of());
    assertThat(c.host()).isEqualTo("::1");
    assertThat(c.port()).isEqualTo(7000);
    assertThat(c.address()).isEqualTo("redis://[::1]:7000/0");
  }

  @Test
  void unknownUriParameterIsNamedWithTheKnownOnes() {
    assertThatThrownBy(() -> RedisStoreConfig.fromUri("redis://h?tiemout=5", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'tiemout'")
        .hasMessageContaining("timeout");
  }

  @Test
  void unknownPropertyIsAnError() {
    assertThatThrownBy(() -> RedisStoreConfig.fromUri("redis://h", Map.of("colour", "red")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'colour'");
  }

  @Test
  void credentialsOnlyAsPropertiesNotInTheQuery() {
    assertThatThrownBy(() -> RedisStoreConfig.fromUri("redis://h?password=x", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'password'")
        .hasMessageNotContaining("=x");
  }

  @Test
  void anOptionGivenTwiceIsAnError() {
    assertThatThrownBy(
            () -> RedisStoreConfig.fromUri("redis://h?timeout=1s", Map.of("timeout", "2s")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("both");
    assertThatThrownBy(() -> RedisStoreConfig.fromUri("redis://:a@h", Map.of("password", "b")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("both");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "redis://",
        "redis:///3",
        "redis://h:notaport",
        "redis://h/x",
        "redis://h/-1",
        "redis://h:70000",
        "redis://h?timeout=soon",
        "redis://h?timeout=0",
        "redis://h?poolSize=0",
        "redis://h?maxRangesPerCommit=0",
        "redis://h?verifyHostname=yes",
        "redis://h?prefix=",
        "redis://h w",
        "http://h"
      })
  void malformedUrisAreConfigurationErrors(String uri) {
    assertThatThrownBy(() -> RedisStoreConfig.fromUri(uri, Map.of()))
        .isInstanceOf(StoreConfigurationException.class);
  }

  @Test
  void messagesMaskThePassword() {
    assertThatThrownBy(() -> RedisStoreConfig.fromUri("redis://u:hunter2@h?bogus=1", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageNotContaining("hunter2")
        .hasMessageContaining("****");
  }

  @Test
  void builderValidates() {
    assertThatThrownBy(() -> RedisStoreConfig.builder().waitReplicas(-1).build())
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("waitReplicas must be >= 0, got -1");
    assertThatThrownBy(() -> RedisStoreConfig.builder().user("u").build())
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("without a password");
    assertThat(RedisStoreConfig.builder().host("h").port(1).build().address())
        .isEqualTo("redis://h:1/0");
  }

  @Test
  void trustStoreNeedsTlsAndAReadableFile() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("trust", ".p12");
    try {
      RedisStoreConfig c =
          RedisStoreConfig.fromUri(
              "rediss://h?trustStore=" + file, Map.of("trustStorePassword", "changeit"));
      assertThat(c.trustStore()).isEqualTo(file.toString());
      assertThat(c.trustStorePassword()).isEqualTo("changeit");
      assertThatThrownBy(() -> RedisStoreConfig.fromUri("redis://h?trustStore=" + file, Map.of()))
          .isInstanceOf(StoreConfigurationException.class)
          .hasMessageContaining("rediss://");
      assertThatThrownBy(
              () -> RedisStoreConfig.fromUri("rediss://h?trustStore=/no/such/file", Map.of()))
          .isInstanceOf(StoreConfigurationException.class)
          .hasMessageContaining("'/no/such/file' is not a readable file");
      assertThatThrownBy(
              () ->
                  RedisStoreConfig.fromUri(
                      "rediss://h?trustStore=" + file + "&trustStorePassword=hunter2&x=1",
                      Map.of()))
          .isInstanceOf(StoreConfigurationException.class)
          .hasMessageNotContaining("hunter2");
    } finally {
      java.nio.file.Files.delete(file);
    }
  }
}
