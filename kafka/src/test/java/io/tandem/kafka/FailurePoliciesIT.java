package io.tandem.kafka;

import static io.tandem.kafka.ConsumerRuntimeIT.assertEachOnce;
import static io.tandem.kafka.ConsumerRuntimeIT.awaitCounted;
import static io.tandem.kafka.ConsumerRuntimeIT.builder;
import static io.tandem.kafka.ConsumerRuntimeIT.recording;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.spi.Partition;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.tck.memory.MemoryTransaction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Out-of-range positions and poison records, against the real broker. */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class FailurePoliciesIT {

  /** A topic of 20 records whose first 10 were deleted, and a group stored at position 0. */
  private static String deletedHead(MemoryOffsetStore store, String group) throws Exception {
    String topic = Kit.topic("retention", 1);
    Kit.produce(topic, 1, "v", 20);
    store.initialize(group, Map.of(Partition.of(topic, 0), 0L));
    try (Admin admin = Kit.broker().admin()) {
      admin
          .deleteRecords(Map.of(new TopicPartition(topic, 0), RecordsToDelete.beforeOffset(10)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    return topic;
  }

  @Test
  void positionDeletedByRetentionFailsByDefaultNamingWhatIsMissing() throws Exception {
    MemoryOffsetStore store = new MemoryOffsetStore();
    String group = Kit.unique("g");
    String topic = deletedHead(store, group);
    TandemConsumer<String, String, MemoryTransaction> c =
        builder(store, group).topics(topic).processor(recording()).build();
    Throwable failure = Kit.start(c).awaitFailure();
    assertThat(failure)
        .isInstanceOf(PositionOutOfRangeException.class)
        .hasMessageContaining(topic + "-0")
        .hasMessageContaining("[0, 10)")
        .hasMessageContaining("Nothing was skipped");
    PositionOutOfRangeException e = (PositionOutOfRangeException) failure;
    assertThat(e.position()).isZero();
    assertThat(e.logStart()).isEqualTo(10);
    assertThat(e.logEnd()).isEqualTo(20);
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 0L);
    assertThat(store.counters()).isEmpty();
  }

  @Test
  void skipPolicyMovesPastTheDeletedRangeAndCountsIt() throws Exception {
    MemoryOffsetStore store = new MemoryOffsetStore();
    String group = Kit.unique("g");
    String topic = deletedHead(store, group);
    TandemConsumer<String, String, MemoryTransaction> c =
        builder(store, group)
            .topics(topic)
            .outOfRange(OutOfRangePolicy.SKIP)
            .processor(recording())
            .build();
    try (Kit.Running run = Kit.start(c)) {
      await().atMost(Duration.ofSeconds(120)).until(() -> c.stats().records() == 10);
    }
    assertThat(c.stats().skippedPositions()).isEqualTo(10);
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 20L);
    for (int i = 0; i < 20; i++) {
      assertThat(store.counters().get("v" + i)).isEqualTo(i < 10 ? null : 1L);
    }
  }

  /** Values: v0..v9, with "undecodable" at 3 and "poison" at 7. */
  private static String poisonedTopic() {
    String topic = Kit.topic("poison", 1);
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      String value = i == 3 ? "undecodable" : i == 7 ? "poison" : "v" + i;
      records.add(new ProducerRecord<>(topic, 0, "k" + i, value));
    }
    Kit.produce(topic, records);
    return topic;
  }

  /** Refuses the bytes "undecodable", as a schema-checking deserializer would. */
  static final class Picky implements Deserializer<String> {
    private final StringDeserializer strings = new StringDeserializer();

    @Override
    public String deserialize(String topic, byte[] data) {
      String s = strings.deserialize(topic, data);
      if ("undecodable".equals(s)) {
        throw new SerializationException("not a valid value: " + s);
      }
      return s;
    }
  }

  private static BatchProcessor<String, String, MemoryTransaction> failingOnPoison() {
    return (batch, tx) -> {
      for (var r : batch.records()) {
        if (r.value().equals("poison")) {
          throw new IllegalArgumentException("cannot process " + r.value());
        }
      }
      recording().process(batch, tx);
    };
  }

  @Test
  void poisonRecordStopsTheConsumerAfterCommittingTheRecordsBeforeIt() throws Exception {
    String topic = poisonedTopic();
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    TandemConsumer<String, String, MemoryTransaction> c =
        TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
            .bootstrapServers(Kit.broker().bootstrapServers())
            .group(group)
            .topics(topic)
            .processor(failingOnPoison())
            .build();
    Throwable failure = Kit.start(c).awaitFailure();
    assertThat(failure)
        .isInstanceOf(PoisonRecordException.class)
        .hasMessageContaining(topic + "-0@7")
        .hasMessageContaining("cannot process poison")
        .hasRootCauseInstanceOf(IllegalArgumentException.class);
    PoisonRecordException e = (PoisonRecordException) failure;
    assertThat(e.offset()).isEqualTo(7);
    assertThat(e.stage()).isEqualTo(DeadLetter.Stage.PROCESSING);
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 7L);
    assertEachOnce(store, "v", 3);
    assertThat(store.counters()).containsKeys("undecodable", "v4", "v5", "v6").hasSize(7);
  }

  @Test
  void undecodableRecordStopsTheConsumerByDefault() throws Exception {
    String topic = poisonedTopic();
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    TandemConsumer<String, String, MemoryTransaction> c =
        TandemConsumer.builder(store, new StringDeserializer(), new Picky())
            .bootstrapServers(Kit.broker().bootstrapServers())
            .group(group)
            .topics(topic)
            .processor(recording())
            .build();
    Throwable failure = Kit.start(c).awaitFailure();
    assertThat(failure)
        .isInstanceOf(PoisonRecordException.class)
        .hasMessageContaining("Cannot deserialize record " + topic + "-0@3");
    assertThat(((PoisonRecordException) failure).stage())
        .isEqualTo(DeadLetter.Stage.DESERIALIZATION);
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 3L);
  }

  @Test
  void poisonRecordsAreDeadLetteredInTheCommitThatSkipsThem() throws Exception {
    String topic = poisonedTopic();
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    TandemConsumer<String, String, MemoryTransaction> c =
        TandemConsumer.builder(store, new StringDeserializer(), new Picky())
            .bootstrapServers(Kit.broker().bootstrapServers())
            .group(group)
            .topics(topic)
            .processor(failingOnPoison())
            .deadLetters(
                (letter, tx) ->
                    tx.put(
                        "dlq:" + letter.partition() + "@" + letter.offset(),
                        letter.stage()
                            + ":"
                            + new String(letter.value().orElseThrow(), StandardCharsets.UTF_8)
                            + ":"
                            + letter.record().isPresent()))
            .build();
    try (Kit.Running run = Kit.start(c)) {
      await()
          .atMost(Duration.ofSeconds(120))
          .until(() -> Long.valueOf(10).equals(store.positions(group).get(Partition.of(topic, 0))));
    }
    assertThat(store.results())
        .containsEntry("dlq:" + topic + "-0@3", "DESERIALIZATION:undecodable:false")
        .containsEntry("dlq:" + topic + "-0@7", "PROCESSING:poison:true");
    for (int i = 0; i < 10; i++) {
      assertThat(store.counters().get("v" + i)).isEqualTo(i == 3 || i == 7 ? null : 1L);
    }
    assertThat(c.stats().deadLetters()).isEqualTo(2);
    assertThat(c.stats().records()).isEqualTo(8);
    assertThat(run(c)).isTrue();
  }

  private static boolean run(TandemConsumer<?, ?, ?> c) {
    return c.state() == TandemConsumer.State.STOPPED;
  }

  @Test
  void anInterruptedProcessorStopsTheConsumerWithoutDeadLettering() throws Exception {
    String topic = Kit.topic("interrupt", 1);
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    Kit.produce(topic, 1, "v", 5);
    TandemConsumer<String, String, MemoryTransaction> c =
        builder(store, group)
            .topics(topic)
            .processor(
                (batch, tx) -> {
                  throw new InterruptedException("shutting down");
                })
            .deadLetters((letter, tx) -> tx.put("dlq:" + letter.offset(), "x"))
            .build();
    Kit.Running run = Kit.start(c);
    assertThat(run.awaitFailure()).isNull();
    assertThat(c.state()).isEqualTo(TandemConsumer.State.STOPPED);
    assertThat(c.stats().deadLetters()).isZero();
    assertThat(store.results()).isEmpty();
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 0L);
  }

  @Test
  void transientFailureInTheProcessorIsRetriedNotDeadLettered() throws Exception {
    String topic = Kit.topic("transient", 1);
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    Kit.produce(topic, 1, "v", 5);
    int[] failures = {2};
    TandemConsumer<String, String, MemoryTransaction> c =
        builder(store, group)
            .topics(topic)
            .processor(
                (batch, tx) -> {
                  if (failures[0]-- > 0) {
                    throw new io.tandem.spi.StoreUnavailableException(
                        "downstream busy", new java.io.IOException("busy"));
                  }
                  recording().process(batch, tx);
                })
            .deadLetters((letter, tx) -> tx.put("dlq:" + letter.offset(), "x"))
            .build();
    try (Kit.Running r = Kit.start(c)) {
      awaitCounted(store, "v", 5);
    }
    assertThat(c.stats().retries()).isEqualTo(2);
    assertThat(c.stats().deadLetters()).isZero();
    assertEachOnce(store, "v", 5);
  }
}
