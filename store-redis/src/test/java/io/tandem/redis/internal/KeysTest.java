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
  void groupIsTheHashTagOfEveryKey() {
    assertThat(keys.index("orders")).isEqualTo("tandem:{orders}:partitions");
    assertThat(keys.offset("orders", Partition.of("t", 3))).isEqualTo("tandem:{orders}:offset:t:3");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "x}:partitions", "{}", "a:b", "ünï cödé 🎉", "*?[]\\"})
  void groupRoundTripsThroughItsIndexKey(String group) {
    assertThat(keys.group(keys.index(group))).contains(group);
  }

  @Test
  void foreignKeysAreNoGroup() {
    assertThat(keys.group("tandem:{}:partitions")).isEmpty();
    assertThat(keys.group("other:{g}:partitions")).isEmpty();
    assertThat(keys.group("tandem:{g}:other")).isEmpty();
    assertThat(keys.group(keys.offset("g", Partition.of("t", 0)))).isEmpty();
  }

  @Test
  void braceInTheGroupCannotMergeTwoPositionKeys() {
    // Written raw, both would be tandem:{a}:offset:x}:offset:t:0.
    String one = keys.offset("a}:offset:x", Partition.of("t", 0));
    String two = keys.offset("a", Partition.of("x}:offset:t", 0));
    assertThat(one).isNotEqualTo(two);
    // Doubling the brace keeps the hash tag: it still ends at the first '}'.
    assertThat(one).startsWith("tandem:{a}");
    assertThat(slotTag(one)).isEqualTo(slotTag(keys.index("a}:offset:x"))).isEqualTo("a");
  }

  /** The part of a key Redis Cluster hashes: between the first '{' and the next '}'. */
  private static String slotTag(String key) {
    int open = key.indexOf('{');
    return key.substring(open + 1, key.indexOf('}', open + 1));
  }

  @ParameterizedTest
  @ValueSource(strings = {"orders", "a:b:c", "7:", "with space", "{tag}", "ünï 🎉", ":"})
  void fieldRoundTripsAnyTopic(String topic) {
    Partition p = Partition.of(topic, 12);
    assertThat(Keys.partition("k", Keys.field(p))).isEqualTo(p);
  }

  @Test
  void scanPatternEscapesGlobCharactersOfThePrefix() {
    assertThat(new Keys("a*b?[c]").pattern()).isEqualTo("a\\*b\\?\\[c\\]:{*}:partitions");
  }

  @Test
  void loneSurrogateIsRefusedBecauseUtf8WouldMergeNames() {
    assertThatThrownBy(() -> keys.index("g\uD800"))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("lone surrogate at index 1");
    assertThatThrownBy(() -> Keys.field(Partition.of("t\uDC00x", 0)))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("topic");
  }

  @Test
  void foreignMembersAndValuesAreNamed() {
    assertThatThrownBy(() -> Keys.partition("k", "nocolon"))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessageContaining("'nocolon'")
        .hasMessageContaining("'k'");
    assertThatThrownBy(() -> Keys.position("k", "-3"))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessageContaining("'-3'");
    assertThatThrownBy(() -> Keys.position("k", "abc"))
        .isInstanceOf(OffsetStoreException.class)
        .hasMessageContaining("'abc'");
  }
}
