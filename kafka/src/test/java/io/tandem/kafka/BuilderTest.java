package io.tandem.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.Partition;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.tck.memory.MemoryTransaction;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/** What build() refuses, and what it resolves; no broker needed (the client connects lazily). */
class BuilderTest {

  private static TandemConsumer.Builder<String, String, MemoryTransaction> valid(
      MemoryOffsetStore store) {
    return TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
        .bootstrapServers("127.0.0.1:1")
        .group("g")
        .topics("t")
        .processor((batch, tx) -> {});
  }

  @Test
  void aValidConfigurationBuildsAndPicksTheWidestScopeTheStoreAllows() {
    try (TandemConsumer<String, String, MemoryTransaction> c =
        valid(new MemoryOffsetStore()).build()) {
      assertThat(c.commitScope()).isEqualTo(CommitScope.PER_POLL);
      assertThat(c.group()).isEqualTo("g");
      assertThat(c.state()).isEqualTo(TandemConsumer.State.NEW);
      assertThat(c.stats().records()).isZero();
      assertThat(c.stats().lag()).isEqualTo(-1);
    }
    try (TandemConsumer<String, String, MemoryTransaction> c =
        valid(MemoryOffsetStore.builder().atomicAcrossPartitions(false).build()).build()) {
      assertThat(c.commitScope()).isEqualTo(CommitScope.PER_PARTITION);
    }
  }

  @Test
  void perPollOnAStoreNotAtomicAcrossPartitionsIsRefused() {
    assertThatThrownBy(
            () ->
                valid(MemoryOffsetStore.builder().atomicAcrossPartitions(false).build())
                    .commitScope(CommitScope.PER_POLL)
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PER_POLL needs a store that is atomic across partitions")
        .hasMessageContaining("in-memory reference store");
  }

  @Test
  void requireDurableRefusesANonDurableStoreNamingIt() {
    // The in-memory reference store says it is not durable.
    assertThat(new MemoryOffsetStore().capabilities().durable()).isFalse();
    assertThatThrownBy(() -> valid(new MemoryOffsetStore()).requireDurable().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("requireDurable()")
        .hasMessageContaining("not durable")
        .hasMessageContaining("in-memory reference store");
    try (TandemConsumer<String, String, MemoryTransaction> c =
        valid(new MemoryOffsetStore()).build()) {
      assertThat(c.state()).isEqualTo(TandemConsumer.State.NEW);
    }
  }

  @Test
  void autoCommitIsRefused() {
    assertThatThrownBy(
            () -> valid(new MemoryOffsetStore()).property("enable.auto.commit", "true").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("enable.auto.commit=true")
        .hasMessageContaining("never to Kafka");
  }

  @Test
  void readUncommittedIsRefused() {
    assertThatThrownBy(
            () ->
                valid(new MemoryOffsetStore())
                    .property("isolation.level", "read_uncommitted")
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("isolation.level=read_uncommitted")
        .hasMessageContaining("aborted");
  }

  @Test
  void kafkaOffsetResetIsRefusedInFavourOfTheResetPolicy() {
    assertThatThrownBy(
            () -> valid(new MemoryOffsetStore()).property("auto.offset.reset", "earliest").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("resetPolicy");
  }

  @Test
  void harmlessRestatementsOfForcedPropertiesAreAccepted() {
    try (TandemConsumer<String, String, MemoryTransaction> c =
        valid(new MemoryOffsetStore())
            .property("enable.auto.commit", false)
            .property("isolation.level", "READ_COMMITTED")
            .build()) {
      assertThat(c.state()).isEqualTo(TandemConsumer.State.NEW);
    }
  }

  @Test
  void deserializerPropertiesAreRefused() {
    assertThatThrownBy(
            () ->
                valid(new MemoryOffsetStore())
                    .property("value.deserializer", StringDeserializer.class.getName())
                    .build())
        .hasMessageContaining("value.deserializer must not be set");
  }

  @Test
  void missingPiecesAreNamed() {
    MemoryOffsetStore store = new MemoryOffsetStore();
    assertThatThrownBy(
            () ->
                TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
                    .bootstrapServers("x:1")
                    .topics("t")
                    .processor((b, tx) -> {})
                    .build())
        .hasMessageContaining("group is required");
    assertThatThrownBy(
            () ->
                TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
                    .group("g")
                    .topics("t")
                    .processor((b, tx) -> {})
                    .build())
        .hasMessageContaining("bootstrap.servers is required");
    assertThatThrownBy(() -> valid(store).topicPattern(Pattern.compile("t.*")).build())
        .hasMessageContaining("exactly one source");
    assertThatThrownBy(() -> valid(store).assign(List.of(Partition.of("t", 0))).build())
        .hasMessageContaining("exactly one source");
    assertThatThrownBy(() -> valid(store).sink(b -> {}).build())
        .hasMessageContaining("exactly one of processor(...)");
    assertThatThrownBy(() -> valid(store).pollTimeout(java.time.Duration.ZERO).build())
        .hasMessageContaining("pollTimeout=PT0S");
  }

  @Test
  void aProcessorOnAnIdempotentStoreNeedsKeyedResults() {
    MemoryOffsetStore idempotent =
        new MemoryOffsetStore() {
          @Override
          public Capabilities capabilities() {
            return new Capabilities(Guarantee.IDEMPOTENT, true, 100, true, "idempotent store");
          }
        };
    assertThatThrownBy(() -> valid(idempotent).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("IDEMPOTENT")
        .hasMessageContaining("keyedResults()");
    try (TandemConsumer<String, String, MemoryTransaction> c =
        valid(idempotent).keyedResults().build()) {
      assertThat(c.state()).isEqualTo(TandemConsumer.State.NEW);
    }
  }

  @Test
  void aMeterRegistryOfTheWrongTypeIsRefused() {
    assertThatThrownBy(() -> valid(new MemoryOffsetStore()).meterRegistry("registry").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("MeterRegistry, got java.lang.String");
  }

  @Test
  void closeBeforeRunReleasesAndRunThenReturnsAtOnce() {
    TandemConsumer<String, String, MemoryTransaction> c = valid(new MemoryOffsetStore()).build();
    c.close();
    c.close();
    assertThat(c.state()).isEqualTo(TandemConsumer.State.STOPPED);
    c.run();
    assertThat(c.state()).isEqualTo(TandemConsumer.State.STOPPED);
  }
}
