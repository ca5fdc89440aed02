package io.tandem.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.spi.Partition;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.tck.memory.MemoryTransaction;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The monitoring mirror of committed positions into Kafka's group offsets, on the real broker:
 * after a run Kafka's offsets equal the store's; on a restart the store wins over a mirror that is
 * ahead or behind (a kill -9 between the store commit and the asynchronous mirror); switched off,
 * Kafka's group offsets stay untouched.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class OffsetMirrorIT {

  static Map<Partition, Long> kafkaOffsets(String group) throws Exception {
    try (Admin admin = Kit.broker().admin()) {
      Map<Partition, Long> out = new HashMap<>();
      Map<TopicPartition, OffsetAndMetadata> m =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      m.forEach((tp, om) -> out.put(Partition.of(tp.topic(), tp.partition()), om.offset()));
      return out;
    }
  }

  @Test
  void afterARunKafkasGroupOffsetsEqualTheStoresAndARestartFollowsTheStoreNotAMirrorAhead()
      throws Exception {
    String topic = Kit.topic("mirror", 2);
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    Kit.produce(topic, 2, "a", 100);
    TandemConsumer<String, String, MemoryTransaction> first =
        ConsumerRuntimeIT.builder(store, group)
            .topics(topic)
            .processor(ConsumerRuntimeIT.recording())
            .build();
    try (Kit.Running r = Kit.start(first)) {
      ConsumerRuntimeIT.awaitCounted(store, "a", 100);
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(() -> assertThat(kafkaOffsets(group)).isEqualTo(store.positions(group)));
    }
    assertThat(store.positions(group))
        .isEqualTo(Map.of(Partition.of(topic, 0), 50L, Partition.of(topic, 1), 50L));

    // The mirror ahead of the store (as if the store lost a suffix, or an operator set it):
    // the runtime must read the store, never Kafka.
    try (Admin admin = Kit.broker().admin()) {
      admin
          .alterConsumerGroupOffsets(
              group,
              Map.of(
                  new TopicPartition(topic, 0), new OffsetAndMetadata(70),
                  new TopicPartition(topic, 1), new OffsetAndMetadata(70)))
          .all()
          .get();
    }
    Kit.produce(topic, 2, "b", 100); // offsets 50..99 in each partition
    TandemConsumer<String, String, MemoryTransaction> second =
        ConsumerRuntimeIT.builder(store, group)
            .topics(topic)
            .processor(ConsumerRuntimeIT.recording())
            .build();
    try (Kit.Running r = Kit.start(second)) {
      // Every b record, including b0..b39 which sit below the mirror's 70 in each partition.
      ConsumerRuntimeIT.awaitCounted(store, "b", 100);
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(kafkaOffsets(group))
                      .isEqualTo(
                          Map.of(Partition.of(topic, 0), 100L, Partition.of(topic, 1), 100L)));
    }
    ConsumerRuntimeIT.assertEachOnce(store, "a", 100);
    ConsumerRuntimeIT.assertEachOnce(store, "b", 100);
  }

  @Test
  void anAssigningConsumerIsMirroredToo() throws Exception {
    // assign() joins no group, but its positions are still the group's: lag tools must see them.
    String topic = Kit.topic("mirrorassign", 2);
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    Kit.produce(topic, 2, "a", 40);
    TandemConsumer<String, String, MemoryTransaction> c =
        ConsumerRuntimeIT.builder(store, group)
            .assign(List.of(Partition.of(topic, 0), Partition.of(topic, 1)))
            .processor(ConsumerRuntimeIT.recording())
            .build();
    try (Kit.Running r = Kit.start(c)) {
      ConsumerRuntimeIT.awaitCounted(store, "a", 40);
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(() -> assertThat(kafkaOffsets(group)).isEqualTo(store.positions(group)));
    }
  }

  @Test
  void aRestartFollowsTheStoreNotAMirrorLeftBehindByACrash() throws Exception {
    String topic = Kit.topic("mirrorbehind", 1);
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    Kit.produce(topic, 1, "p", 60);
    try (Kit.Running r =
        Kit.start(
            ConsumerRuntimeIT.builder(store, group)
                .topics(topic)
                .processor(ConsumerRuntimeIT.recording())
                .build())) {
      ConsumerRuntimeIT.awaitCounted(store, "p", 60);
    }
    assertThat(store.positions(group)).isEqualTo(Map.of(Partition.of(topic, 0), 60L));
    // A kill -9 between the store commit and the asynchronous mirror leaves Kafka's group offset
    // behind the store (here far behind): a restart must not replay from it.
    try (Admin admin = Kit.broker().admin()) {
      admin
          .alterConsumerGroupOffsets(
              group, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(10)))
          .all()
          .get();
    }
    Kit.produce(topic, 1, "q", 20);
    try (Kit.Running r =
        Kit.start(
            ConsumerRuntimeIT.builder(store, group)
                .topics(topic)
                .processor(ConsumerRuntimeIT.recording())
                .build())) {
      ConsumerRuntimeIT.awaitCounted(store, "q", 20);
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> assertThat(kafkaOffsets(group)).isEqualTo(Map.of(Partition.of(topic, 0), 80L)));
    }
    ConsumerRuntimeIT.assertEachOnce(store, "p", 60);
    ConsumerRuntimeIT.assertEachOnce(store, "q", 20);
  }

  @Test
  void switchedOffKafkasGroupOffsetsStayEmpty() throws Exception {
    String topic = Kit.topic("nomirror", 2);
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    Kit.produce(topic, 2, "c", 40);
    TandemConsumer<String, String, MemoryTransaction> c =
        ConsumerRuntimeIT.builder(store, group)
            .topics(topic)
            .processor(ConsumerRuntimeIT.recording())
            .mirrorOffsets(false)
            .build();
    try (Kit.Running r = Kit.start(c)) {
      ConsumerRuntimeIT.awaitCounted(store, "c", 40);
    }
    assertThat(kafkaOffsets(group)).isEmpty();
  }
}
