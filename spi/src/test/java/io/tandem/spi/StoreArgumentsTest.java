package io.tandem.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoreArgumentsTest {

  @Test
  void emptyGroupIsInvalid() {
    assertThatThrownBy(() -> StoreArguments.group(""))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessage("group must not be empty");
    assertThatThrownBy(() -> StoreArguments.group(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void rangesAreSortedByPartition() {
    var sorted =
        StoreArguments.ranges(
            List.of(
                OffsetRange.of("b", 0, 0, 1),
                OffsetRange.of("a", 2, 0, 1),
                OffsetRange.of("a", 1, 0, 1)),
            10);
    assertThat(sorted)
        .extracting(r -> r.partition().toString())
        .containsExactly("a-1", "a-2", "b-0");
  }

  @Test
  void duplicatePartitionIsInvalidAndNamesBothRanges() {
    assertThatThrownBy(
            () ->
                StoreArguments.ranges(
                    List.of(OffsetRange.of("t", 0, 0, 5), OffsetRange.of("t", 0, 5, 9)), 10))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("partition t-0 appears twice in one commit: t-0[0, 5) and t-0[5, 9)");
  }

  @Test
  void emptyRangesAreInvalid() {
    assertThatThrownBy(() -> StoreArguments.ranges(List.of(), 10))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("ranges must not be empty");
  }

  @Test
  void tooManyRangesIsBatchTooLarge() {
    assertThatThrownBy(
            () ->
                StoreArguments.ranges(
                    List.of(OffsetRange.of("t", 0, 0, 1), OffsetRange.of("t", 1, 0, 1)), 1))
        .isInstanceOf(BatchTooLargeException.class)
        .hasMessageContaining("at most 1 ranges on this store, got 2");
  }

  @Test
  void negativePositionIsInvalid() {
    assertThatThrownBy(() -> StoreArguments.positions(Map.of(Partition.of("t", 4), -2L)))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("position must be >= 0, got -2 for t-4");
  }

  @Test
  void nullPositionIsANullPointerNamingThePartition() {
    Map<Partition, Long> m = new HashMap<>();
    m.put(Partition.of("t", 1), null);
    assertThatThrownBy(() -> StoreArguments.positions(m))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("t-1");
  }

  @Test
  void nullWriterSaysWhatToPassInstead() {
    assertThatThrownBy(() -> StoreArguments.results(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("ResultWriter.none()");
  }

  @Test
  void partitionsAreDistinctAndSorted() {
    assertThat(
            StoreArguments.partitions(
                List.of(Partition.of("b", 0), Partition.of("a", 0), Partition.of("b", 0))))
        .containsExactly(Partition.of("a", 0), Partition.of("b", 0));
  }
}
