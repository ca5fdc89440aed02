package io.tandem.kafka;

import static io.tandem.kafka.ConsumerRuntimeIT.awaitCounted;
import static io.tandem.kafka.ConsumerRuntimeIT.builder;
import static io.tandem.kafka.ConsumerRuntimeIT.recording;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tandem.tck.fault.FaultyStore;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.tck.memory.MemoryTransaction;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Micrometer meters and the plain stats, against the real broker. */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class MetricsIT {

  /** A clock that moves forward by a fixed step at every reading. */
  static final class SteppingClock extends Clock {
    private final AtomicLong nanos = new AtomicLong();
    private final Duration step;

    SteppingClock(Duration step) {
      this.step = step;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.EPOCH.plusNanos(nanos.addAndGet(step.toNanos()));
    }
  }

  @Test
  void metersCountRecordsCommitsConflictsRetriesAndLag() throws Exception {
    String topic = Kit.topic("metrics", 2);
    String group = Kit.unique("g");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    MemoryOffsetStore real = new MemoryOffsetStore();
    FaultyStore<MemoryTransaction> store = new FaultyStore<>(real).failBefore(2);
    Kit.produce(topic, 2, "v", 80);
    TandemConsumer<String, String, MemoryTransaction> c =
        builder(store, group)
            .topics(topic)
            .processor(recording())
            .meterRegistry(registry)
            .clock(new SteppingClock(Duration.ofMillis(5)))
            .build();
    try (Kit.Running run = Kit.start(c)) {
      awaitCounted(real, "v", 80);
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                Gauge lag = registry.find("tandem.consumer.lag").tag("group", group).gauge();
                assertThat(lag).isNotNull();
                assertThat(lag.value()).isZero();
                assertThat(c.stats().lag()).isZero();
                assertThat(c.stats().assignedPartitions()).isEqualTo(2);
              });
      assertThat(registry.get("tandem.consumer.records").tag("group", group).counter().count())
          .isEqualTo(80.0);
      assertThat(registry.get("tandem.consumer.retries").tag("group", group).counter().count())
          .isEqualTo(2.0);
      Timer committed =
          registry
              .get("tandem.consumer.commit")
              .tags("group", group, "outcome", "committed")
              .timer();
      Timer unavailable =
          registry
              .get("tandem.consumer.commit")
              .tags("group", group, "outcome", "unavailable")
              .timer();
      assertThat(committed.count()).isEqualTo(c.stats().batches());
      // The injected clock advances 5 ms per reading, and a commit is timed by two readings.
      assertThat(committed.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(5.0 * committed.count());
      assertThat(unavailable.count()).isEqualTo(2);
      assertThat(registry.get("tandem.consumer.batches").tag("group", group).counter().count())
          .isEqualTo((double) c.stats().batches());
    }
    // Closing removes the consumer's meters, so a restarted consumer starts clean.
    assertThat(registry.find("tandem.consumer.records").tag("group", group).counter()).isNull();
    assertThat(c.stats().records()).isEqualTo(80);
  }

  /** A clock that stands still until moved. */
  static final class ManualClock extends Clock {
    private final AtomicLong millis = new AtomicLong(1_000_000);

    void advance(Duration d) {
      millis.addAndGet(d.toMillis());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }
  }

  /** The partitions ("topic-partition") that have per-partition gauges in the registry. */
  static Set<String> gaugedPartitions(SimpleMeterRegistry registry, String group) {
    Set<String> out = new TreeSet<>();
    for (Gauge g : registry.find("tandem.consumer.partition.lag").tag("group", group).gauges()) {
      String tp = g.getId().getTag("topic") + "-" + g.getId().getTag("partition");
      assertThat(
              registry
                  .find("tandem.consumer.partition.since.commit")
                  .tags(g.getId().getTags())
                  .timeGauge())
          .as("since.commit of %s", tp)
          .isNotNull();
      out.add(tp);
    }
    return out;
  }

  @Test
  void perPartitionGaugesShowLagAndTimeSinceCommitAndLeaveWithThePartition() throws Exception {
    String topic = Kit.topic("pmetrics", 2);
    String group = Kit.unique("g");
    MemoryOffsetStore store = new MemoryOffsetStore();
    SimpleMeterRegistry first = new SimpleMeterRegistry();
    ManualClock clock = new ManualClock();
    Kit.produce(topic, 2, "v", 40);
    TandemConsumer<String, String, MemoryTransaction> a =
        builder(store, group)
            .topics(topic)
            .processor(recording())
            .meterRegistry(first)
            .clock(clock)
            .build();
    try (Kit.Running runA = Kit.start(a)) {
      awaitCounted(store, "v", 40);
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                assertThat(gaugedPartitions(first, group))
                    .containsExactly(topic + "-0", topic + "-1");
                for (Gauge lag :
                    first.find("tandem.consumer.partition.lag").tag("group", group).gauges()) {
                  assertThat(lag.value()).isZero();
                }
              });
      // The clock stands still: the last commit of each partition was at "now".
      TimeGauge since0 =
          first
              .get("tandem.consumer.partition.since.commit")
              .tags("group", group, "topic", topic, "partition", "0")
              .timeGauge();
      assertThat(since0.value(TimeUnit.MILLISECONDS)).isZero();
      clock.advance(Duration.ofSeconds(7));
      assertThat(since0.value(TimeUnit.SECONDS)).isEqualTo(7.0);
      // A commit on partition 0 only: its gauge drops back, partition 1's keeps counting.
      Kit.produce(topic, List.of(new ProducerRecord<>(topic, 0, "k", "w0")));
      awaitCounted(store, "w", 1);
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(since0.value(TimeUnit.SECONDS)).isZero());
      assertThat(
              first
                  .get("tandem.consumer.partition.since.commit")
                  .tags("group", group, "topic", topic, "partition", "1")
                  .timeGauge()
                  .value(TimeUnit.SECONDS))
          .isEqualTo(7.0);

      // A second member takes one partition: the first one's gauges of it are removed.
      SimpleMeterRegistry second = new SimpleMeterRegistry();
      TandemConsumer<String, String, MemoryTransaction> b =
          builder(store, group).topics(topic).processor(recording()).meterRegistry(second).build();
      try (Kit.Running runB = Kit.start(b)) {
        await()
            .atMost(Duration.ofSeconds(90))
            .untilAsserted(
                () -> {
                  Set<String> mine = gaugedPartitions(first, group);
                  Set<String> theirs = gaugedPartitions(second, group);
                  assertThat(mine).hasSize(1);
                  assertThat(theirs).hasSize(1);
                  assertThat(mine).doesNotContainAnyElementsOf(theirs);
                });
      }
    }
    assertThat(gaugedPartitions(first, group)).isEmpty();
    assertThat(first.find("tandem.consumer.partition.since.commit").timeGauges()).isEmpty();
  }
}
