package io.tandem.kafka;

import static io.tandem.kafka.ConsumerRuntimeIT.assertEachOnce;
import static io.tandem.kafka.ConsumerRuntimeIT.awaitCounted;
import static io.tandem.kafka.ConsumerRuntimeIT.builder;
import static io.tandem.kafka.ConsumerRuntimeIT.recording;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.spi.Partition;
import io.tandem.tck.memory.MemoryOffsetStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Guards for a safe start, on the real broker: positions stored for a topic that was deleted and
 * re-created under the same name are refused with both topic IDs; a stored position beyond the log
 * end is refused naming the partition, the position and the log end.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class StartGuardsIT {

  static Uuid topicId(String topic) throws Exception {
    try (Admin admin = Kit.broker().admin()) {
      return admin
          .describeTopics(List.of(topic))
          .allTopicNames()
          .get(30, TimeUnit.SECONDS)
          .get(topic)
          .topicId();
    }
  }

  /** Deletes the topic, waits until it is gone, creates it again; returns the new topic ID. */
  static Uuid recreate(String topic, int partitions, Uuid old) throws Exception {
    try (Admin admin = Kit.broker().admin()) {
      admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                // Deletion completes asynchronously: creating before it has fails with
                // TopicExistsException.
                try {
                  admin
                      .createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
                      .all()
                      .get(30, TimeUnit.SECONDS);
                  return true;
                } catch (ExecutionException e) {
                  if (e.getCause() instanceof TopicExistsException
                      || e.getCause() instanceof UnknownTopicOrPartitionException) {
                    return false;
                  }
                  throw e;
                }
              });
    }
    // Metadata reaches the broker a moment after the controller answers.
    AtomicReference<Uuid> now = new AtomicReference<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              now.set(topicId(topic));
              assertThat(now.get()).isNotEqualTo(old);
            });
    Kit.broker().createTopic(topic, partitions); // exists: waits until every leader is known
    return now.get();
  }

  @Test
  void aTopicDeletedAndRecreatedIsRefusedWithBothIdsUntilAdoptedOnPurpose() throws Exception {
    String topic = Kit.topic("recreated", 2);
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    Kit.produce(topic, 2, "a", 40);
    Uuid before = topicId(topic);
    try (Kit.Running r =
        Kit.start(builder(store, group).topics(topic).processor(recording()).build())) {
      awaitCounted(store, "a", 40);
    }
    Map<Partition, Long> stored = store.positions(group);
    assertThat(stored).isEqualTo(Map.of(Partition.of(topic, 0), 20L, Partition.of(topic, 1), 20L));
    assertThat(TopicIdGuard.decode(topic, store.positions(TopicIdGuard.PREFIX + group)))
        .isEqualTo(before);

    Uuid after = recreate(topic, 2, before);
    // 30 records per partition: the stored 20 lie inside the new log, so only the ID tells.
    Kit.produce(topic, 2, "b", 60);

    Throwable failure =
        Kit.start(builder(store, group).topics(topic).processor(recording()).build())
            .awaitFailure();
    assertThat(failure)
        .isInstanceOf(TopicIdMismatchException.class)
        .hasMessageContaining(before.toString())
        .hasMessageContaining(after.toString())
        .hasMessageContaining("'" + topic + "'")
        .hasMessageContaining(topic + "-0=20");
    TopicIdMismatchException e = (TopicIdMismatchException) failure;
    assertThat(e.storedTopicId()).isEqualTo(before.toString());
    assertThat(e.currentTopicId()).isEqualTo(after.toString());
    assertThat(store.positions(group)).isEqualTo(stored);
    assertThat(store.counters().keySet()).noneMatch(k -> k.startsWith("b"));

    // The operator sets positions for the new topic and adopts it once, on purpose.
    store.overwrite(group, Map.of(Partition.of(topic, 0), 0L, Partition.of(topic, 1), 0L));
    try (Kit.Running r =
        Kit.start(
            builder(store, group)
                .topics(topic)
                .processor(recording())
                .adoptTopicIds(topic)
                .build())) {
      awaitCounted(store, "b", 60);
    }
    assertEachOnce(store, "b", 60);
    assertThat(TopicIdGuard.decode(topic, store.positions(TopicIdGuard.PREFIX + group)))
        .isEqualTo(after);
  }

  @Test
  void aNewTopicIdIsAdoptedByItselfWhenTheGroupHasNoPositionOfTheTopic() throws Exception {
    String topic = Kit.topic("fresh", 1);
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    Kit.produce(topic, 1, "c", 10);
    // A record left by an earlier incarnation of the topic whose positions were deleted since.
    Uuid stale = Uuid.randomUuid();
    store.initialize(TopicIdGuard.PREFIX + group, TopicIdGuard.encode(topic, stale));
    try (Kit.Running r =
        Kit.start(builder(store, group).topics(topic).processor(recording()).build())) {
      awaitCounted(store, "c", 10);
    }
    assertEachOnce(store, "c", 10);
    assertThat(TopicIdGuard.decode(topic, store.positions(TopicIdGuard.PREFIX + group)))
        .isEqualTo(topicId(topic));
  }

  @Test
  void aStoredPositionBeyondTheLogEndIsRefusedNamingPartitionPositionAndLogEnd() throws Exception {
    String topic = Kit.topic("beyond", 1);
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    Kit.produce(topic, 1, "d", 20);
    store.initialize(group, Map.of(Partition.of(topic, 0), 50L));
    for (OutOfRangePolicy policy : OutOfRangePolicy.values()) {
      Throwable failure =
          Kit.start(
                  builder(store, group)
                      .topics(topic)
                      .processor(recording())
                      .outOfRange(policy)
                      .build())
              .awaitFailure();
      assertThat(failure)
          .as("under %s", policy)
          .isInstanceOf(PositionOutOfRangeException.class)
          .hasMessageContaining("Stored position 50 of " + topic + "-0")
          .hasMessageContaining("is beyond the log end 20 (the log holds [0, 20))")
          .hasMessageContaining("Nothing was read or skipped");
      PositionOutOfRangeException e = (PositionOutOfRangeException) failure;
      assertThat(e.partition()).isEqualTo(Partition.of(topic, 0));
      assertThat(e.position()).isEqualTo(50);
      assertThat(e.logEnd()).isEqualTo(20);
      assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 50L);
      assertThat(store.counters()).isEmpty();
    }
  }
}
