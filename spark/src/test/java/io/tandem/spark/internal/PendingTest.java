package io.tandem.spark.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetRange;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class PendingTest {

  private static final OffsetRange RANGE = OffsetRange.of("orders", 3, 100, 200);

  @Test
  void storedAtTheRangeStartCommitsTheWholeRange() {
    Pending p = Pending.of(RANGE, OptionalLong.of(100));
    assertThat(p.pending()).isEqualTo(RANGE);
    assertThat(p.trimmed()).isFalse();
    assertThat(p.conflict()).isNull();
  }

  @Test
  void storedAtOrPastTheEndMeansCommittedBefore() {
    assertThat(Pending.of(RANGE, OptionalLong.of(200)).alreadyCommitted()).isTrue();
    assertThat(Pending.of(RANGE, OptionalLong.of(350)).alreadyCommitted()).isTrue();
  }

  @Test
  void storedInsideTheRangeLeavesOnlyTheRest() {
    Pending p = Pending.of(RANGE, OptionalLong.of(150));
    assertThat(p.pending()).isEqualTo(OffsetRange.of("orders", 3, 150, 200));
    assertThat(p.trimmed()).isTrue();
  }

  @Test
  void storedBeforeTheStartIsAConflictNamingBothPositions() {
    Pending p = Pending.of(RANGE, OptionalLong.of(90));
    assertThat(p.pending()).isNull();
    assertThat(p.alreadyCommitted()).isFalse();
    assertThat(p.conflict().toString()).isEqualTo("orders-3 expected 100, found 90");
  }

  @Test
  void noStoredPositionIsAConflict() {
    Pending p = Pending.of(RANGE, OptionalLong.empty());
    assertThat(p.conflict().found()).isEmpty();
    assertThat(p.alreadyCommitted()).isFalse();
  }
}
