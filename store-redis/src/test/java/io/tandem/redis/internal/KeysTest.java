package io.tandem.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.InvalidBatchException;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.Partition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeysTest {

  private final Keys keys = new Keys("tandem");

  @Test
  void groupIsTheHashTagOfItsKey() {
    assertThat(keys.offsets("orders")).isEqualTo("tandem:{orders}:offsets");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "x}:offsets", "{}", "a:b", "ünï cödé 🎉", "*?[]\\"})
  void groupRoundTripsThroughItsKey(String group) {
    assertThat(keys.group(keys.offsets(group))).contains(group);
  }

  @Test
  void foreignKeysAreNoGroup() {
    assertThat(keys.group("tandem:{}:offsets")).isEmpty();
    assertThat(keys.group("other:{g}:offsets")).isEmpty();
    assertThat(keys.group("tandem:{g}:other")).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"orders", "a:b:c", "7:", "with space", "{tag}", "ünï 🎉", ":"})
  void fieldRoundTripsAnyTopic(String topic) {
    Partition p = Partition.of(topic, 12);
    assertThat(Keys.partition("k", Keys.field(p))).isEqualTo(p);
  }

  @Test
  void scanPatternEscapesGlobCharactersOfThePrefix() {
    assertThat(new Keys("a*b?[c]").pattern()).isEqualTo("a\\*b\\?\\[c\\]:{*}:offsets");
  }

  @Test
  void loneSurrogateIsRefusedBecauseUtf8WouldMergeNames() {
    assertThatThrownBy(() -> keys.offsets("g\uD800"))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("lone surrogate at index 1");
    assertThatThrownBy(() -> Keys.field(Partition.of("t\uDC00x", 0)))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("topic");
  }

  @Test
  void foreignFieldsAndValuesAreNamed() {
    assertThatThrownBy(() -> Keys.partition("k", "nocolon"))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessageContaining("'nocolon'")
        .hasMessageContaining("'k'");
    assertThatThrownBy(() -> Keys.position("k", "t:1", "-3"))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessageContaining("'-3'");
    assertThatThrownBy(() -> Keys.position("k", "t:1", "abc"))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessageContaining("'abc'");
  }
}
