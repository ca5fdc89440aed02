package io.tandem.kafka;

import static io.tandem.kafka.MockRun.P0;
import static io.tandem.kafka.MockRun.TP0;
import static io.tandem.kafka.MockRun.putEach;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.tck.memory.MemoryOffsetStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The end of a batch comes from {@link ConsumerRecords#nextOffsets()}, with {@code position()} as
 * the fallback. A broker poll that ends on a transaction marker returns the records before it and a
 * next offset past the marker; here the mock says so in {@code nextOffsets()} only (its position
 * stays right after the last record), so the stored position shows which one the runtime used.
 */
@Timeout(60)
class BatchEndTest {

  /** Reports, for every partition with records, a next offset one past the last record + 1. */
  static final class MarkerAfterEachPoll extends MockBroker {
    private final boolean withNextOffsets;

    MarkerAfterEachPoll(boolean withNextOffsets) {
      this.withNextOffsets = withNextOffsets;
    }

    @Override
    public synchronized ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
      ConsumerRecords<byte[], byte[]> out = super.poll(timeout);
      if (out.isEmpty()) {
        return out;
      }
      Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> records = new HashMap<>();
      Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
      for (TopicPartition tp : out.partitions()) {
        List<ConsumerRecord<byte[], byte[]>> rs = out.records(tp);
        records.put(tp, rs);
        next.put(tp, new OffsetAndMetadata(rs.get(rs.size() - 1).offset() + 2));
      }
      // The one-argument constructor leaves nextOffsets() empty, as a consumer that does not
      // fill it would.
      return withNextOffsets
          ? new ConsumerRecords<>(records, next)
          : new ConsumerRecords<>(records);
    }
  }

  private static Map<io.tandem.spi.Partition, Long> runOver(MockBroker kafka) throws Exception {
    kafka.partition(TP0, 0);
    kafka.append(TP0, "a", "b", "c");
    try (MockRun run = new MockRun(new MemoryOffsetStore(), kafka)) {
      run.start(run.builder().assign(List.of(P0)).processor(putEach()));
      if (kafka instanceof MarkerAfterEachPoll m && m.withNextOffsets) {
        run.awaitStored(Map.of(P0, 4L));
      } else {
        run.awaitStored(Map.of(P0, 3L));
      }
      assertThat(run.failure()).isNull();
      return run.stored();
    }
  }

  @Test
  void theBatchEndsAtNextOffsetsWhenTheConsumerFillsIt() throws Exception {
    // offsets 0..2 are records, 3 is the marker: the range is [0, 4), past the marker.
    assertThat(runOver(new MarkerAfterEachPoll(true))).isEqualTo(Map.of(P0, 4L));
  }

  @Test
  void theBatchEndsAtPositionWhenNextOffsetsIsEmpty() throws Exception {
    assertThat(runOver(new MarkerAfterEachPoll(false))).isEqualTo(Map.of(P0, 3L));
  }
}
