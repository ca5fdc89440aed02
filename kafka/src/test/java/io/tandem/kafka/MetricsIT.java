package io.tandem.kafka;

import static io.tandem.kafka.ConsumerRuntimeIT.awaitCounted;
import static io.tandem.kafka.ConsumerRuntimeIT.builder;
import static io.tandem.kafka.ConsumerRuntimeIT.recording;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Gauge;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
}
