package io.tandem.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ValuesTest {

  @Test
  void partitionRejectsEmptyTopicNegativeNumberAndTooLongName() {
    assertThatThrownBy(() -> new Partition("", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topic must not be empty");
    assertThatThrownBy(() -> new Partition("orders", -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partition must be >= 0, got partition=-1 (topic orders)");
    assertThatThrownBy(() -> new Partition("x".repeat(250), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 249 characters, got 250");
    assertThatThrownBy(() -> new Partition(null, 0)).isInstanceOf(NullPointerException.class);
    assertThat(new Partition("x".repeat(249), 0).topic()).hasSize(249);
  }

  @Test
  void partitionKeepsAnyCharacters() {
    assertThat(new Partition("a/b.c 'ü' \"q\"", 3).toString()).isEqualTo("a/b.c 'ü' \"q\"-3");
  }

  @Test
  void rangeRejectsNegativeFromAndUntilBeforeFrom() {
    assertThatThrownBy(() -> OffsetRange.of("orders", 3, -1, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("from must be >= 0, got from=-1, until=5 (orders-3)");
    assertThatThrownBy(() -> OffsetRange.of("orders", 3, 12, 7))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("from must be <= until, got from=12, until=7 (orders-3)");
    assertThat(OffsetRange.of("orders", 3, 7, 7).size()).isZero();
  }

  @Test
  void capabilitiesRejectZeroMaxRanges() {
    assertThatThrownBy(() -> new Capabilities(Guarantee.IDEMPOTENT, false, 0, true, "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxRangesPerCommit must be >= 1, got maxRangesPerCommit=0");
    assertThat(new Capabilities(Guarantee.TRANSACTIONAL, true, 5, true, "x").transactional())
        .isTrue();
  }

  @Test
  void conflictExceptionListsEveryPartitionWithExpectedAndFound() {
    var e =
        new OffsetConflictException(
            "g1",
            List.of(
                OffsetConflictException.Conflict.of(Partition.of("t", 0), 5, 9),
                OffsetConflictException.Conflict.missing(Partition.of("t", 1), 3)));
    assertThat(e.getMessage())
        .contains("group 'g1'")
        .contains("2 partition(s)")
        .contains("t-0 expected 5, found 9")
        .contains("t-1 expected 3, found no position")
        .contains("Re-read positions and re-seek");
    assertThat(e.conflicts()).hasSize(2);
    assertThat(e.conflicts().get(1).found()).isEqualTo(OptionalLong.empty());
    assertThat(e.group()).isEqualTo("g1");
  }

  @Test
  void conflictExceptionNeedsAConflict() {
    assertThatThrownBy(() -> new OffsetConflictException("g", List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
