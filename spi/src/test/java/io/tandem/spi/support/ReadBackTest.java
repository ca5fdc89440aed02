package io.tandem.spi.support;

import static io.tandem.spi.support.ReadBack.Verdict.APPLIED;
import static io.tandem.spi.support.ReadBack.Verdict.MOVED;
import static io.tandem.spi.support.ReadBack.Verdict.NOT_APPLIED;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReadBackTest {

  static final Partition A = new Partition("t", 0);
  static final Partition B = new Partition("t", 1);
  static final OffsetRange A5_9 = new OffsetRange(A, 5, 9);
  static final OffsetRange B0_3 = new OffsetRange(B, 0, 3);
  static final OffsetRange B4_4 = new OffsetRange(B, 4, 4);

  @Test
  void oneRange() {
    assertThat(ReadBack.ofRange(A5_9, 9L)).isEqualTo(APPLIED);
    assertThat(ReadBack.ofRange(A5_9, 5L)).isEqualTo(NOT_APPLIED);
    assertThat(ReadBack.ofRange(A5_9, 7L)).isEqualTo(MOVED);
    assertThat(ReadBack.ofRange(A5_9, null)).isEqualTo(MOVED);
    assertThat(ReadBack.ofRange(B4_4, 4L)).isEqualTo(NOT_APPLIED);
  }

  @Test
  void commitIsAppliedWhenEveryPositionIsAtItsUntil() {
    assertThat(ReadBack.ofCommit(List.of(A5_9, B0_3), List.of(9L, 3L))).isEqualTo(APPLIED);
    assertThat(ReadBack.ofCommit(List.of(A5_9, B4_4), List.of(9L, 4L))).isEqualTo(APPLIED);
  }

  @Test
  void commitIsNotAppliedWhenEveryPositionIsAtItsFrom() {
    assertThat(ReadBack.ofCommit(List.of(A5_9, B0_3), List.of(5L, 0L))).isEqualTo(NOT_APPLIED);
    assertThat(ReadBack.ofCommit(List.of(A5_9, B4_4), List.of(5L, 4L))).isEqualTo(NOT_APPLIED);
  }

  @Test
  void anythingElseWasMovedBySomeoneElse() {
    assertThat(ReadBack.ofCommit(List.of(A5_9, B0_3), List.of(9L, 0L))).isEqualTo(MOVED);
    assertThat(ReadBack.ofCommit(List.of(A5_9, B0_3), List.of(12L, 3L))).isEqualTo(MOVED);
    assertThat(ReadBack.ofCommit(List.of(A5_9, B0_3), Arrays.asList(9L, null))).isEqualTo(MOVED);
    assertThat(ReadBack.ofCommit(List.of(A5_9, B4_4), List.of(9L, 5L))).isEqualTo(MOVED);
  }

  @Test
  void onlyEmptyRangesCannotBeToldApartByPositions() {
    assertThat(ReadBack.ofCommit(List.of(B4_4), List.of(4L))).isEqualTo(APPLIED);
  }

  @Test
  void versionsTellEmptyRangesAndRewrittenPositionsApart() {
    assertThat(ReadBack.ofCommit(List.of(B4_4), List.of(4L), i -> true)).isEqualTo(NOT_APPLIED);
    assertThat(ReadBack.ofCommit(List.of(B4_4), List.of(4L), i -> false)).isEqualTo(APPLIED);
    // At from but written since: someone moved it away and back.
    assertThat(ReadBack.ofCommit(List.of(A5_9), List.of(5L), i -> false)).isEqualTo(MOVED);
    assertThat(ReadBack.ofCommit(List.of(A5_9, B0_3), List.of(9L, 3L), i -> false))
        .isEqualTo(APPLIED);
  }
}
