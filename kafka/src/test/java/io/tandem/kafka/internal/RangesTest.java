package io.tandem.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.List;
import org.junit.jupiter.api.Test;

class RangesTest {

  private static final Partition P = Partition.of("orders", 3);

  @Test
  void rangeRunsFromThePositionBeforeToThePositionAfterNotToTheLastRecord() {
    // Records 12..16 returned, the consumer already skipped the commit marker at 17.
    assertThat(Ranges.covering(P, 5, 12, 16, 18)).isEqualTo(new OffsetRange(P, 5, 18));
  }

  @Test
  void rangeOfOneRecordWithoutHoles() {
    assertThat(Ranges.covering(P, 7, 7, 7, 8)).isEqualTo(new OffsetRange(P, 7, 8));
  }

  @Test
  void recordsBeforeThePositionBeforeAreRefused() {
    assertThatThrownBy(() -> Ranges.covering(P, 10, 9, 12, 13))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("orders-3@[9..12]")
        .hasMessageContaining("[10, 13)");
  }

  @Test
  void recordsAtOrAfterThePositionAfterAreRefused() {
    assertThatThrownBy(() -> Ranges.covering(P, 0, 0, 5, 5))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void perRecordRangesAreContiguousAndCoverTheWholeRange() {
    OffsetRange range = new OffsetRange(P, 5, 18);
    List<OffsetRange> singles = Ranges.perRecord(range, new long[] {6, 7, 12, 16});
    assertThat(singles)
        .containsExactly(
            new OffsetRange(P, 5, 7),
            new OffsetRange(P, 7, 8),
            new OffsetRange(P, 8, 13),
            new OffsetRange(P, 13, 18));
  }

  @Test
  void perRecordRefusesOffsetsOutsideOrOutOfOrder() {
    OffsetRange range = new OffsetRange(P, 5, 10);
    assertThatThrownBy(() -> Ranges.perRecord(range, new long[] {4}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("offset 4");
    assertThatThrownBy(() -> Ranges.perRecord(range, new long[] {7, 6}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Ranges.perRecord(range, new long[] {10}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Ranges.perRecord(range, new long[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void chunksKeepOrderAndSize() {
    assertThat(Ranges.chunks(List.of(1, 2, 3, 4, 5), 2))
        .containsExactly(List.of(1, 2), List.of(3, 4), List.of(5));
    assertThat(Ranges.chunks(List.of(1, 2), 5)).containsExactly(List.of(1, 2));
    assertThat(Ranges.chunks(List.<Integer>of(), 3)).isEmpty();
    assertThatThrownBy(() -> Ranges.chunks(List.of(1), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max=0");
  }
}
