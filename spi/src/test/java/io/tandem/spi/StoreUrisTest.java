package io.tandem.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class StoreUrisTest {

  @Test
  void schemeIsLowerCasePartBeforeFirstColon() {
    assertThat(StoreUris.scheme("jdbc:postgresql://h/db")).isEqualTo("jdbc");
    assertThat(StoreUris.scheme("MongoDB+SRV://h")).isEqualTo("mongodb+srv");
  }

  @Test
  void masksPasswordsInUserInfoAndParameters() {
    assertThat(StoreUris.mask("redis://user:s3cret@h:6379/0"))
        .isEqualTo("redis://user:****@h:6379/0");
    assertThat(StoreUris.mask("redis://:s3cret@h:6379")).isEqualTo("redis://:****@h:6379");
    assertThat(StoreUris.mask("jdbc:postgresql://h/db?user=a&password=s3cret&ssl=true"))
        .isEqualTo("jdbc:postgresql://h/db?user=a&password=****&ssl=true");
    assertThat(StoreUris.mask("jdbc:mysql://h/db;password=s3cret")).doesNotContain("s3cret");
    assertThat(StoreUris.mask("zookeeper://h:2181/root")).isEqualTo("zookeeper://h:2181/root");
  }

  @Test
  void queryParametersAreDecodedInOrder() {
    assertThat(StoreUris.query("cassandra://h:9042/ks?localDatacenter=dc%201&x"))
        .containsExactly(
            java.util.Map.entry("localDatacenter", "dc 1"), java.util.Map.entry("x", ""));
    assertThat(StoreUris.query("redis://h")).isEmpty();
  }

  @Test
  void repeatedParameterIsAnError() {
    assertThatThrownBy(() -> StoreUris.query("redis://h?db=1&db=2"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("parameter 'db' is given twice");
  }
}
