package io.tandem.kafka;

import static io.tandem.kafka.MockRun.GROUP;
import static io.tandem.kafka.MockRun.P0;
import static io.tandem.kafka.MockRun.P1;
import static io.tandem.kafka.MockRun.TP0;
import static io.tandem.kafka.MockRun.TP1;
import static io.tandem.kafka.MockRun.WAIT;
import static io.tandem.kafka.MockRun.putEach;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.kafka.ConsumerListener.CommitEvent;
import io.tandem.kafka.ConsumerListener.CommitEvent.Kind;
import io.tandem.kafka.ConsumerListener.ConflictEvent;
import io.tandem.kafka.ConsumerListener.RetryEvent;
import io.tandem.kafka.ConsumerListener.RetryEvent.Operation;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.tck.memory.MemoryTransaction;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The runtime's paths that a real broker reaches only by chance (rebalances mid-batch, conflicts,
 * outages with known and unknown outcome, retention), driven deterministically over Kafka's
 * MockConsumer and the in-memory store. Every test asserts exact positions, seeks and commits.
 */
@Timeout(30)
class EngineTest {

  private static OffsetRange range(Partition p, long from, long until) {
    return new OffsetRange(p, from, until);
  }

  @Test
  void aPollOverTwoPartitionsIsOneCommitOfBothRangesWithItsResults() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0).partition(TP1, 0);
      run.kafka.append(TP0, "a", "b", "c");
      run.kafka.append(TP1, "x", "y");
      run.start(run.builder().assign(List.of(P0, P1)).processor(putEach()));

      run.awaitStored(Map.of(P0, 3L, P1, 2L));
      assertThat(run.events.assigned).containsExactly(Set.of(P0, P1));
      assertThat(run.events.loaded).containsExactly(Map.of(P0, 0L, P1, 0L));
      assertThat(run.events.commits).hasSize(1);
      CommitEvent commit = run.events.commits.get(0);
      assertThat(commit.ranges()).containsExactly(range(P0, 0, 3), range(P1, 0, 2));
      assertThat(commit.kind()).isEqualTo(Kind.RECORDS);
      assertThat(commit.records()).isEqualTo(5);
      assertThat(commit.attempts()).isEqualTo(1);
      assertThat(commit.positions()).containsExactly(Map.entry(P0, 3L), Map.entry(P1, 2L));
      assertThat(run.memory.results())
          .containsOnly(
              Map.entry("t-0@0", "a"),
              Map.entry("t-0@1", "b"),
              Map.entry("t-0@2", "c"),
              Map.entry("t-1@0", "x"),
              Map.entry("t-1@1", "y"));
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L);
      assertThat(run.kafka.seeks(TP1)).containsExactly(0L);
    }
  }

  @Test
  void aStoreNotAtomicAcrossPartitionsGetsOneCommitPerPartition() throws Exception {
    try (MockRun run =
        new MockRun(MemoryOffsetStore.builder().atomicAcrossPartitions(false).build())) {
      run.kafka.partition(TP0, 0).partition(TP1, 0);
      run.kafka.append(TP0, "a", "b");
      run.kafka.append(TP1, "x");
      run.start(run.builder().assign(List.of(P0, P1)).processor(putEach()));

      run.awaitStored(Map.of(P0, 2L, P1, 1L));
      assertThat(run.consumer().commitScope()).isEqualTo(CommitScope.PER_PARTITION);
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactlyInAnyOrder(List.of(range(P0, 0, 2)), List.of(range(P1, 0, 1)));
    }
  }

  @Test
  void theCommitLatencyIsMeasuredWithTheInjectedClock() throws Exception {
    Clock stepping =
        new Clock() {
          private long calls;

          @Override
          public synchronized Instant instant() {
            return Instant.EPOCH.plusMillis(7 * calls++);
          }

          @Override
          public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }
        };
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a");
      run.start(run.builder().assign(List.of(P0)).clock(stepping).processor(putEach()));

      await().atMost(WAIT).until(() -> run.events.commits.size() == 1);
      assertThat(run.events.commits.get(0).latency()).isEqualTo(Duration.ofMillis(7));
    }
  }

  @Test
  void assignedPartitionsStartAtTheStoredPositionOrAreInitializedFromTheResetPolicy()
      throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0).partition(TP1, 2);
      run.kafka.append(TP0, "a", "b", "c", "d", "e", "f");
      run.kafka.append(TP1, "x", "y");
      run.memory.initialize(GROUP, Map.of(P0, 4L));
      run.kafka.schedulePollTask(() -> run.kafka.rebalance(List.of(TP0, TP1)));
      run.start(run.builder().topics(MockRun.TOPIC).processor(putEach()));

      run.awaitStored(Map.of(P0, 6L, P1, 4L));
      assertThat(run.events.assigned).containsExactly(Set.of(P0, P1));
      assertThat(run.events.loaded).containsExactly(Map.of(P0, 4L, P1, 2L));
      assertThat(run.kafka.seeks(TP0)).containsExactly(4L);
      assertThat(run.kafka.seeks(TP1)).containsExactly(2L);
      assertThat(run.memory.results()).containsOnlyKeys("t-0@4", "t-0@5", "t-1@2", "t-1@3");
    }
  }

  @Test
  void revokedAndLostPartitionsAreForgottenAndAReassignedOneResumesFromTheStore() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0).partition(TP1, 0);
      run.kafka.append(TP0, "a");
      run.kafka.append(TP1, "x");
      run.kafka.schedulePollTask(() -> run.kafka.rebalance(List.of(TP0, TP1)));
      run.start(run.builder().topics(MockRun.TOPIC).processor(putEach()));
      run.awaitStored(Map.of(P0, 1L, P1, 1L));

      run.kafka.schedulePollTask(() -> run.kafka.rebalance(List.of(TP1)));
      await().atMost(WAIT).until(() -> run.events.revoked.size() == 1);
      assertThat(run.events.revoked).containsExactly(Set.of(P0));
      assertThat(run.consumer().stats().assignedPartitions()).isEqualTo(1);

      run.kafka.schedulePollTask(() -> run.kafka.losePartitions(List.of(TP1)));
      await().atMost(WAIT).until(() -> run.events.lost.size() == 1);
      assertThat(run.events.lost).containsExactly(Set.of(P1));

      // Another member moved partition 0 on while it was not ours.
      run.memory.commit(GROUP, List.of(range(P0, 1, 3)), ResultWriter.none());
      run.kafka.append(TP0, "b", "c", "d");
      run.kafka.schedulePollTask(() -> run.kafka.rebalance(List.of(TP0)));
      run.awaitStored(Map.of(P0, 4L, P1, 1L));

      assertThat(run.events.assigned).containsExactly(Set.of(P0, P1), Set.of(P0));
      assertThat(run.events.loaded).containsExactly(Map.of(P0, 0L, P1, 0L), Map.of(P0, 3L));
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L, 3L);
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactly(List.of(range(P0, 0, 1), range(P1, 0, 1)), List.of(range(P0, 3, 4)));
      assertThat(run.memory.results()).containsOnlyKeys("t-0@0", "t-1@0", "t-0@3");
    }
  }

  @Test
  void aPartitionRevokedDuringTheBackoffOfAFailedCommitIsNotCommitted() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0).partition(TP1, 0);
      run.kafka.schedulePollTask(() -> run.kafka.rebalance(List.of(TP0, TP1)));
      // The first retry's backoff polls; Kafka revokes partition 0 in that poll.
      run.events.onRetry = e -> run.kafka.schedulePollTask(() -> run.kafka.rebalance(List.of(TP1)));
      run.start(run.builder().topics(MockRun.TOPIC).processor(putEach()));
      await().atMost(WAIT).until(() -> run.events.loaded.size() == 1);

      run.store.failBefore(1);
      run.kafka.append(TP0, "a", "b");
      await().atMost(WAIT).until(() -> run.events.revoked.size() == 1);
      run.kafka.append(TP1, "x");
      run.awaitStored(Map.of(P0, 0L, P1, 1L));

      assertThat(run.events.retries).hasSize(1);
      assertThat(run.events.retries.get(0).partitions()).containsExactly(P0);
      assertThat(run.events.revoked).containsExactly(Set.of(P0));
      assertThat(run.stored()).containsExactly(Map.entry(P0, 0L), Map.entry(P1, 1L));
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactly(List.of(range(P1, 0, 1)));
      assertThat(run.memory.results()).containsOnlyKeys("t-1@0");
      assertThat(run.kafka.paused()).isEmpty();
    }
  }

  @Test
  void aConflictDropsTheBatchAndReadsOnFromWhereTheStoreStands() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "b", "c");
      // Another writer commits [0, 2) just before this consumer's commit of [0, 3).
      run.store.beforeNextCommit(
          real -> real.commit(GROUP, List.of(range(P0, 0, 2)), ResultWriter.none()));
      run.start(run.builder().assign(List.of(P0)).processor(putEach()));

      run.awaitStored(Map.of(P0, 3L));
      assertThat(run.events.conflicts)
          .containsExactly(
              new ConflictEvent(GROUP, List.of(range(P0, 0, 3)), List.of(Conflict.of(P0, 0, 2))));
      assertThat(run.events.loaded).containsExactly(Map.of(P0, 0L), Map.of(P0, 2L));
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L, 2L);
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactly(List.of(range(P0, 2, 3)));
      assertThat(run.memory.results()).containsOnly(Map.entry("t-0@2", "c"));
      assertThat(run.consumer().stats().conflicts()).isEqualTo(1);
      assertThat(run.consumer().stats().records()).isEqualTo(1);
    }
  }

  @Test
  void anOutageBeforeTheCommitIsRetriedAfterTheBackoffThePolicyGives() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0).partition(TP1, 0);
      run.kafka.append(TP0, "a", "b");
      run.kafka.append(TP1, "x");
      run.store.failBefore(2);
      AtomicReference<Set<TopicPartition>> pausedInBackoff = new AtomicReference<>();
      run.events.onRetry =
          e -> run.kafka.schedulePollTask(() -> pausedInBackoff.set(run.kafka.paused()));
      run.start(run.builder().assign(List.of(P0, P1)).processor(putEach()));

      run.awaitStored(Map.of(P0, 2L, P1, 1L));
      assertThat(run.events.retries)
          .extracting(RetryEvent::operation, RetryEvent::attempt, RetryEvent::delay)
          .containsExactly(
              Tuple.tuple(Operation.COMMIT, 1, Duration.ofMillis(2)),
              Tuple.tuple(Operation.COMMIT, 2, Duration.ofMillis(4)));
      assertThat(run.events.retries.get(0).partitions()).containsExactly(P0, P1);
      assertThat(run.events.retries.get(0).cause()).isInstanceOf(StoreUnavailableException.class);
      assertThat(run.events.commits).hasSize(1);
      assertThat(run.events.commits.get(0).attempts()).isEqualTo(3);
      assertThat(run.events.commits.get(0).ranges())
          .containsExactly(range(P0, 0, 2), range(P1, 0, 1));
      assertThat(run.store.commits()).isEqualTo(1);
      assertThat(run.memory.counters()).containsExactly(Map.entry("applied", 3L));
      assertThat(run.consumer().stats().retries()).isEqualTo(2);
      assertThat(pausedInBackoff.get()).as("paused while backing off").containsOnly(TP0, TP1);
      assertThat(run.kafka.paused()).as("resumed after").isEmpty();
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L);
    }
  }

  @Test
  void aStoreStillUnavailableAfterMaxAttemptsFailsTheConsumerWithNothingMoved() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a");
      run.store.failBefore(100);
      run.start(
          run.builder()
              .assign(List.of(P0))
              .retry(MockRun.QUICK.withMaxAttempts(3))
              .processor(putEach()));

      await().atMost(WAIT).until(run::finished);
      assertThat(run.failure())
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("injected outage");
      assertThat(run.consumer().state()).isEqualTo(TandemConsumer.State.FAILED);
      assertThat(run.events.retries).extracting(RetryEvent::attempt).containsExactly(1, 2);
      assertThat(run.events.commits).isEmpty();
      assertThat(run.stored()).containsExactly(Map.entry(P0, 0L));
      assertThat(run.kafka.closed()).isTrue();
    }
  }

  @Test
  void aCommitThatLandedBeforeItsOutageWasReportedIsNotAppliedAgain() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "b", "c");
      run.store.failAfter(1);
      run.start(run.builder().assign(List.of(P0)).processor(putEach()));

      await().atMost(WAIT).until(() -> run.events.commits.size() == 1);
      run.kafka.append(TP0, "d");
      run.awaitStored(Map.of(P0, 4L));

      assertThat(run.events.retries).extracting(RetryEvent::attempt).containsExactly(1);
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges, CommitEvent::attempts)
          .containsExactly(
              Tuple.tuple(List.of(range(P0, 0, 3)), 1), Tuple.tuple(List.of(range(P0, 3, 4)), 1));
      assertThat(run.store.commits()).isEqualTo(2);
      assertThat(run.memory.counters()).containsExactly(Map.entry("applied", 4L));
      assertThat(run.events.conflicts).isEmpty();
      assertThat(run.kafka.seeks(TP0)).as("nothing re-read").containsExactly(0L);
      assertThat(run.consumer().stats().records()).isEqualTo(4);
    }
  }

  @Test
  void afterAnOutageAPositionMovedElsewhereIsAConflictAndIsReadOnFromTheStore() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "b", "c", "d", "e", "f");
      // An administrator moves the group to 4 while the store is unreachable for this consumer.
      run.store.failBefore(1).beforeNextCommit(real -> real.overwrite(GROUP, Map.of(P0, 4L)));
      run.start(run.builder().assign(List.of(P0)).processor(putEach()));

      run.awaitStored(Map.of(P0, 6L));
      assertThat(run.events.conflicts)
          .containsExactly(
              new ConflictEvent(GROUP, List.of(range(P0, 0, 6)), List.of(Conflict.of(P0, 0, 4))));
      assertThat(run.events.loaded).containsExactly(Map.of(P0, 0L), Map.of(P0, 4L));
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L, 4L);
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactly(List.of(range(P0, 4, 6)));
      assertThat(run.memory.results()).containsOnlyKeys("t-0@4", "t-0@5");
    }
  }

  @Test
  void positionsUnreadableAtAssignmentAreRetriedWithThePartitionPaused() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a");
      run.store.failReads(2);
      run.start(run.builder().assign(List.of(P0)).processor(putEach()));

      run.awaitStored(Map.of(P0, 1L));
      assertThat(run.events.retries)
          .extracting(RetryEvent::operation, RetryEvent::attempt, RetryEvent::partitions)
          .containsExactly(
              Tuple.tuple(Operation.READ_POSITIONS, 1, Set.of(P0)),
              Tuple.tuple(Operation.READ_POSITIONS, 2, Set.of(P0)));
      assertThat(run.events.loaded).containsExactly(Map.of(P0, 0L));
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L);
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactly(List.of(range(P0, 0, 1)));
    }
  }

  @Test
  void positionsLostToRetentionAreSkippedUnderTheSkipPolicy() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "b", "c", "d", "e", "f", "g");
      run.kafka.truncate(TP0, 5);
      run.memory.initialize(GROUP, Map.of(P0, 2L));
      run.start(
          run.builder().assign(List.of(P0)).outOfRange(OutOfRangePolicy.SKIP).processor(putEach()));

      run.awaitStored(Map.of(P0, 7L));
      assertThat(run.events.commits)
          .extracting(CommitEvent::kind, CommitEvent::ranges, CommitEvent::records)
          .containsExactly(
              Tuple.tuple(Kind.SKIPPED_POSITIONS, List.of(range(P0, 2, 5)), 0),
              Tuple.tuple(Kind.RECORDS, List.of(range(P0, 5, 7)), 2));
      assertThat(run.kafka.seeks(TP0)).containsExactly(2L, 5L);
      assertThat(run.consumer().stats().skippedPositions()).isEqualTo(3);
      assertThat(run.memory.results()).containsOnlyKeys("t-0@5", "t-0@6");
    }
  }

  @Test
  void positionsLostToRetentionStopTheConsumerUnderTheDefaultPolicy() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "b", "c", "d");
      run.kafka.truncate(TP0, 3);
      run.memory.initialize(GROUP, Map.of(P0, 1L));
      run.start(run.builder().assign(List.of(P0)).processor(putEach()));

      await().atMost(WAIT).until(run::finished);
      assertThat(run.failure())
          .isInstanceOf(PositionOutOfRangeException.class)
          .hasMessageContaining("t-0");
      assertThat(run.stored()).containsExactly(Map.entry(P0, 1L));
      assertThat(run.events.commits).isEmpty();
    }
  }

  @Test
  void shutdownFromInsideAProcessorCommitsThatBatchAndStopsTheRun() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "b");
      run.start(
          run.builder()
              .assign(List.of(P0))
              .processor(
                  (batch, tx) -> {
                    putEach().process(batch, tx);
                    run.consumer().shutdown();
                  }));

      await().atMost(WAIT).until(run::finished);
      assertThat(run.failure()).isNull();
      assertThat(run.consumer().state()).isEqualTo(TandemConsumer.State.STOPPED);
      assertThat(run.stored()).containsExactly(Map.entry(P0, 2L));
      assertThat(run.kafka.closed()).isTrue();
    }
  }

  @Test
  void aListenerThatThrowsIsLoggedAndNeverBreaksProcessing() throws Exception {
    ConsumerListener broken =
        new ConsumerListener() {
          @Override
          public void partitionsAssigned(String group, Set<Partition> partitions) {
            throw new IllegalStateException("listener bug");
          }

          @Override
          public void positionsLoaded(String group, Map<Partition, Long> positions) {
            throw new IllegalStateException("listener bug");
          }

          @Override
          public void committed(CommitEvent event) {
            throw new IllegalStateException("listener bug");
          }

          @Override
          public void conflicted(ConflictEvent event) {
            throw new IllegalStateException("listener bug");
          }
        };
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "b", "c");
      run.store.beforeNextCommit(
          real -> real.commit(GROUP, List.of(range(P0, 0, 1)), ResultWriter.none()));
      // The broken listener is called first; the recording one still hears every event.
      TandemConsumer.Builder<String, String, MemoryTransaction> b =
          TandemConsumer.builder(run.store, new StringDeserializer(), new StringDeserializer())
              .bootstrapServers("mock:9092")
              .group(GROUP)
              .retry(MockRun.QUICK)
              .listener(broken)
              .listener(run.events)
              .consumerFactory(props -> run.kafka)
              .topicIdLookup(props -> run.kafka::topicIds);
      run.start(b.assign(List.of(P0)).processor(putEach()));

      run.awaitStored(Map.of(P0, 3L));
      assertThat(run.failure()).isNull();
      assertThat(run.events.assigned).containsExactly(Set.of(P0));
      assertThat(run.events.conflicts).hasSize(1);
      assertThat(run.events.loaded).containsExactly(Map.of(P0, 0L), Map.of(P0, 1L));
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactly(List.of(range(P0, 1, 3)));
      assertThat(run.consumer().state()).isEqualTo(TandemConsumer.State.RUNNING);
    }
  }
}
