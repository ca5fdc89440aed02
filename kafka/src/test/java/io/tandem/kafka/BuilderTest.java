package io.tandem.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.Partition;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.tck.memory.MemoryTransaction;
import java.util.List;
import java.util.Properties;
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
  void anOffsetResetMatchingTheResetPolicyIsAccepted() {
    try (TandemConsumer<String, String, MemoryTransaction> c =
        valid(new MemoryOffsetStore()).property("auto.offset.reset", "earliest").build()) {
      assertThat(c.state()).isEqualTo(TandemConsumer.State.NEW);
    }
    try (TandemConsumer<String, String, MemoryTransaction> c =
        valid(new MemoryOffsetStore())
            .resetPolicy(ResetPolicy.LATEST)
            .property("auto.offset.reset", "LATEST")
            .build()) {
      assertThat(c.state()).isEqualTo(TandemConsumer.State.NEW);
    }
    try (TandemConsumer<String, String, MemoryTransaction> c =
        valid(new MemoryOffsetStore())
            .resetPolicy(ResetPolicy.FAIL)
            .property("auto.offset.reset", "none")
            .build()) {
      assertThat(c.state()).isEqualTo(TandemConsumer.State.NEW);
    }
  }

  @Test
  void anOffsetResetContradictingTheResetPolicyIsRefusedNamingThePolicyToUse() {
    assertThatThrownBy(
            () -> valid(new MemoryOffsetStore()).property("auto.offset.reset", "latest").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("auto.offset.reset=latest contradicts resetPolicy EARLIEST")
        .hasMessageContaining("Call resetPolicy(ResetPolicy.LATEST) and remove the property");
    assertThatThrownBy(
            () ->
                valid(new MemoryOffsetStore())
                    .resetPolicy(ResetPolicy.LATEST)
                    .property("auto.offset.reset", "none")
                    .build())
        .hasMessageContaining("auto.offset.reset=none contradicts resetPolicy LATEST")
        .hasMessageContaining("resetPolicy(ResetPolicy.FAIL)");
  }

  @Test
  void everyRefusedPropertyIsNamedInOneMessage() {
    assertThatThrownBy(
            () ->
                valid(new MemoryOffsetStore())
                    .property("enable.auto.commit", "true")
                    .property("isolation.level", "read_uncommitted")
                    .property("auto.offset.reset", "latest")
                    .property("group.id", "other")
                    .property("key.deserializer", StringDeserializer.class.getName())
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("5 Kafka properties are refused:")
        .hasMessageContaining("enable.auto.commit=true")
        .hasMessageContaining("isolation.level=read_uncommitted")
        .hasMessageContaining("auto.offset.reset=latest")
        .hasMessageContaining("group.id=other")
        .hasMessageContaining("key.deserializer must not be set");
  }

  @Test
  void shareGroupsAreRefusedWithTheReason() {
    // Kafka 4.x share groups are configured by the share.* consumer properties
    // (KafkaShareConsumer); group.protocol has no "share" value for a KafkaConsumer.
    assertThatThrownBy(
            () ->
                valid(new MemoryOffsetStore())
                    .property("share.acknowledgement.mode", "explicit")
                    .property("share.acquire.mode", "record_limit")
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("2 Kafka properties are refused:")
        .hasMessageContaining("share.acknowledgement.mode configures a share group")
        .hasMessageContaining("share.acquire.mode configures a share group")
        .hasMessageContaining("no position per partition");
    assertThatThrownBy(
            () -> valid(new MemoryOffsetStore()).property("group.protocol", "SHARE").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("group.protocol=SHARE: share groups are refused")
        .hasMessageContaining("Use group.protocol=classic or consumer");
    for (String protocol : List.of("classic", "consumer")) {
      try (TandemConsumer<String, String, MemoryTransaction> c =
          valid(new MemoryOffsetStore()).property("group.protocol", protocol).build()) {
        assertThat(c.group()).isEqualTo("g");
      }
    }
  }

  @Test
  void adoptTopicIdsRefusesAnEmptyName() {
    assertThatThrownBy(() -> valid(new MemoryOffsetStore()).adoptTopicIds("t", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("adoptTopicIds");
  }

  @Test
  void aKafkaGroupIdOtherThanTheGroupIsRefusedAndAnEqualOneAccepted() {
    assertThatThrownBy(() -> valid(new MemoryOffsetStore()).property("group.id", "g2").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("1 Kafka property is refused:")
        .hasMessageContaining("group.id=g2 differs from group(\"g\")")
        .hasMessageContaining("meet only as conflicts");
    try (TandemConsumer<String, String, MemoryTransaction> c =
        valid(new MemoryOffsetStore()).property("group.id", "g").build()) {
      assertThat(c.group()).isEqualTo("g");
    }
  }

  @Test
  void javaUtilPropertiesAreAcceptedWithTheirDefaults() {
    Properties defaults = new Properties();
    defaults.setProperty("isolation.level", "read_uncommitted");
    Properties props = new Properties(defaults);
    props.setProperty("bootstrap.servers", "127.0.0.1:1");
    props.put("max.poll.records", 10);
    assertThatThrownBy(
            () ->
                TandemConsumer.builder(
                        new MemoryOffsetStore(), new StringDeserializer(), new StringDeserializer())
                    .properties(props)
                    .group("g")
                    .topics("t")
                    .processor((batch, tx) -> {})
                    .build())
        .as("a default of the Properties counts like an entry")
        .hasMessageContaining("isolation.level=read_uncommitted");
    props.setProperty("isolation.level", "read_committed");
    try (TandemConsumer<String, String, MemoryTransaction> c =
        TandemConsumer.builder(
                new MemoryOffsetStore(), new StringDeserializer(), new StringDeserializer())
            .properties(props)
            .group("g")
            .topics("t")
            .processor((batch, tx) -> {})
            .build()) {
      assertThat(c.state()).isEqualTo(TandemConsumer.State.NEW);
    }
    Properties bad = new Properties();
    bad.put(42, "x");
    assertThatThrownBy(() -> valid(new MemoryOffsetStore()).properties(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("property keys must be Strings, got 42 (java.lang.Integer)");
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
