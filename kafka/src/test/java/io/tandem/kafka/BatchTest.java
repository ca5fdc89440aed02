package io.tandem.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class BatchTest {

  private static ConsumerRecord<String, String> rec(String topic, int p, long offset) {
    return new ConsumerRecord<>(topic, p, offset, "k" + offset, "v" + offset);
  }

  @Test
  void holdsRecordsPerPartitionAndTheirRanges() {
    Batch<String, String> b =
        Batch.of(
            List.of(OffsetRange.of("a", 0, 0, 3), OffsetRange.of("a", 1, 10, 12)),
            List.of(rec("a", 0, 0), rec("a", 0, 2), rec("a", 1, 11)));
    assertThat(b.size()).isEqualTo(3);
    assertThat(b.partitions()).containsExactly(Partition.of("a", 0), Partition.of("a", 1));
    assertThat(b.records(Partition.of("a", 1)))
        .extracting(ConsumerRecord::offset)
        .containsExactly(11L);
    assertThat(b.records(Partition.of("b", 0))).isEmpty();
  }

  @Test
  void refusesRecordsOutsideTheirRange() {
    assertThatThrownBy(
            () -> Batch.of(List.of(OffsetRange.of("a", 0, 0, 3)), List.of(rec("a", 0, 3))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a-0@3")
        .hasMessageContaining("a-0[0, 3)");
    assertThatThrownBy(
            () -> Batch.of(List.of(OffsetRange.of("a", 0, 0, 3)), List.of(rec("a", 1, 0))))
        .hasMessageContaining("none for a-1");
  }

  @Test
  void refusesAPartitionTwice() {
    assertThatThrownBy(
            () ->
                Batch.of(
                    List.of(OffsetRange.of("a", 0, 0, 3), OffsetRange.of("a", 0, 3, 5)),
                    List.<ConsumerRecord<String, String>>of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a-0 appears in two ranges");
  }
}
