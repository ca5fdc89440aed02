package io.tandem.kafka;

import static io.tandem.kafka.MockRun.GROUP;
import static io.tandem.kafka.MockRun.P0;
import static io.tandem.kafka.MockRun.P1;
import static io.tandem.kafka.MockRun.TP0;
import static io.tandem.kafka.MockRun.TP1;
import static io.tandem.kafka.MockRun.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.kafka.ConsumerListener.CommitEvent;
import io.tandem.kafka.ConsumerListener.ConflictEvent;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.tck.memory.MemoryTransaction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pipelined runtime ({@link TandemConsumer.Builder#pipelined(boolean)}) over Kafka's
 * MockConsumer and the in-memory store: each test holds a commit on the commit thread until the
 * poll thread has fetched the next batch (which only a pipelined runtime can do: without it the
 * hook would wait forever), then makes the commit conflict, fail, or meet a revocation.
 */
@Timeout(30)
class PipelinedEngineTest {

  private static OffsetRange range(Partition p, long from, long until) {
    return new OffsetRange(p, from, until);
  }

  /** Every record the processor was given, as "partition@offset", in order (rolled back too). */
  private final List<String> processed = new CopyOnWriteArrayList<>();

  private BatchProcessor<String, String, MemoryTransaction> recording() {
    BatchProcessor<String, String, MemoryTransaction> put = MockRun.putEach();
    return (batch, tx) -> {
      batch.records().forEach(r -> processed.add(r.partition() + "@" + r.offset()));
      put.process(batch, tx);
    };
  }

  /** Waits (on the commit thread) until the poll thread has fetched {@code n} records in all. */
  private static void awaitFetched(MockRun run, long n) {
    await().atMost(WAIT).until(() -> run.kafka.recordsPolled() >= n);
  }

  @Test
  void theNextBatchIsFetchedWhileACommitRunsAndProcessedAfterIt() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "b");
      run.store.beforeNextCommit(
          real -> {
            run.kafka.append(TP0, "c");
            awaitFetched(run, 3);
          });
      run.start(run.builder().assign(List.of(P0)).pipelined(true).processor(recording()));

      run.awaitStored(Map.of(P0, 3L));
      assertThat(processed).containsExactly("0@0", "0@1", "0@2");
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactly(List.of(range(P0, 0, 2)), List.of(range(P0, 2, 3)));
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L);
      assertThat(run.consumer().stats().records()).isEqualTo(3);
    }
  }

  /** Values as strings; records every value it decoded, and refuses "undecodable". */
  private static final class Recording extends StringDeserializer {
    final List<String> decoded = new CopyOnWriteArrayList<>();

    @Override
    public String deserialize(String topic, byte[] data) {
      String v = super.deserialize(topic, data);
      if ("undecodable".equals(v)) {
        throw new IllegalArgumentException("cannot decode " + v);
      }
      decoded.add(v);
      return v;
    }
  }

  @Test
  void theNextBatchIsDecodedWhileACommitRuns() throws Exception {
    Recording values = new Recording();
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "b");
      // The commit of "a", "b" is held until "c" was decoded: only decoding ahead gets there.
      run.store.beforeNextCommit(
          real -> {
            run.kafka.append(TP0, "c");
            await().atMost(WAIT).until(() -> values.decoded.contains("c"));
          });
      run.start(run.builder(values).assign(List.of(P0)).pipelined(true).processor(recording()));

      run.awaitStored(Map.of(P0, 3L));
      assertThat(processed).containsExactly("0@0", "0@1", "0@2");
      // Decoded ahead once, and not again when processed.
      assertThat(values.decoded).containsExactly("a", "b", "c");
      assertThat(run.memory.results())
          .containsOnly(Map.entry("t-0@0", "a"), Map.entry("t-0@1", "b"), Map.entry("t-0@2", "c"));
    }
  }

  @Test
  void anUndecodableRecordDecodedAheadTakesThePoisonPathInItsPlace() throws Exception {
    Recording values = new Recording();
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a");
      run.store.beforeNextCommit(
          real -> {
            run.kafka.append(TP0, "b", "undecodable", "c");
            await().atMost(WAIT).until(() -> values.decoded.contains("b"));
          });
      List<DeadLetter<String, String>> letters = new CopyOnWriteArrayList<>();
      run.start(
          run.builder(values)
              .assign(List.of(P0))
              .pipelined(true)
              .deadLetters((letter, tx) -> letters.add(letter))
              .processor(recording()));

      run.awaitStored(Map.of(P0, 4L));
      assertThat(letters).extracting(DeadLetter::offset).containsExactly(2L);
      assertThat(letters)
          .extracting(DeadLetter::stage)
          .containsExactly(DeadLetter.Stage.DESERIALIZATION);
      assertThat(processed).containsExactly("0@0", "0@1", "0@3");
      assertThat(run.memory.results()).containsOnlyKeys("t-0@0", "t-0@1", "t-0@3");
    }
  }

  @Test
  void aConflictDropsThePrefetchedRecordsOfItsPartitionUnprocessedAndReSeeks() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "b", "c");
      // While [0, 3) commits, the poll thread fetches "d" and "e"; then another writer commits
      // [0, 2), so this commit conflicts.
      run.store.beforeNextCommit(
          real -> {
            run.kafka.append(TP0, "d", "e");
            awaitFetched(run, 5);
            real.commit(GROUP, List.of(range(P0, 0, 2)), ResultWriter.none());
          });
      run.start(run.builder().assign(List.of(P0)).pipelined(true).processor(recording()));

      run.awaitStored(Map.of(P0, 5L));
      assertThat(run.events.conflicts)
          .containsExactly(
              new ConflictEvent(GROUP, List.of(range(P0, 0, 3)), List.of(Conflict.of(P0, 0, 2))));
      // The rolled-back batch, then everything from the stored position 2: the prefetched "d" and
      // "e" (3 and 4) were never given to the processor before the re-seek.
      assertThat(processed).containsExactly("0@0", "0@1", "0@2", "0@2", "0@3", "0@4");
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L, 2L);
      assertThat(run.events.loaded).containsExactly(Map.of(P0, 0L), Map.of(P0, 2L));
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactly(List.of(range(P0, 2, 5)));
      assertThat(run.memory.results())
          .containsOnly(Map.entry("t-0@2", "c"), Map.entry("t-0@3", "d"), Map.entry("t-0@4", "e"));
      assertThat(run.consumer().stats().conflicts()).isEqualTo(1);
    }
  }

  @Test
  void aConflictOnOnePartitionKeepsThePrefetchedRecordsOfTheOther() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0).partition(TP1, 0);
      run.kafka.append(TP0, "a");
      // A store not atomic across partitions: one commit per partition; only P0's commit is held.
      run.store.beforeNextCommit(
          real -> {
            synchronized (run.kafka) { // both in one poll: never one without the other
              run.kafka.append(TP1, "x");
              run.kafka.append(TP0, "b");
            }
            awaitFetched(run, 3);
            real.commit(GROUP, List.of(range(P0, 0, 1)), ResultWriter.none());
          });
      run.start(
          run.builder()
              .assign(List.of(P0, P1))
              .commitScope(CommitScope.PER_PARTITION)
              .pipelined(true)
              .processor(recording()));

      run.awaitStored(Map.of(P0, 2L, P1, 1L));
      // P1's prefetched record is processed once, from the prefetched batch; P0's "b" is read
      // again after the re-seek to 1.
      assertThat(processed).containsExactly("0@0", "1@0", "0@1");
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L, 1L);
      assertThat(run.kafka.seeks(TP1)).containsExactly(0L);
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactly(List.of(range(P1, 0, 1)), List.of(range(P0, 1, 2)));
    }
  }

  @Test
  void aRevocationWaitsForTheCommitInFlight() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0).partition(TP1, 0);
      run.kafka.schedulePollTask(() -> run.kafka.rebalance(List.of(TP0, TP1)));
      AtomicReference<Map<Partition, Long>> storedAtRevocation = new AtomicReference<>();
      run.events.onRevoked = p -> storedAtRevocation.set(run.stored());
      CountDownLatch revoking = new CountDownLatch(1);
      run.start(run.builder().topics(MockRun.TOPIC).pipelined(true).processor(recording()));
      await().atMost(WAIT).until(() -> run.events.loaded.size() == 1);

      // While [0, 2) of P0 commits, Kafka revokes P0 in the poll thread's next poll.
      run.store.beforeNextCommit(
          real -> {
            run.kafka.schedulePollTask(
                () -> {
                  revoking.countDown();
                  run.kafka.rebalance(List.of(TP1));
                });
            try {
              assertThat(revoking.await(10, TimeUnit.SECONDS)).isTrue();
              Thread.sleep(100); // the revocation callback is now waiting for this commit
            } catch (InterruptedException e) {
              throw new IllegalStateException(e);
            }
          });
      run.kafka.append(TP0, "a", "b");
      await().atMost(WAIT).until(() -> run.events.revoked.size() == 1);
      run.kafka.append(TP1, "x");
      run.awaitStored(Map.of(P0, 2L, P1, 1L));

      // The commit landed before onPartitionsRevoked returned (the listener is told at its end).
      assertThat(storedAtRevocation.get()).containsEntry(P0, 2L);
      assertThat(run.events.revoked).containsExactly(Set.of(P0));
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges)
          .containsExactly(List.of(range(P0, 0, 2)), List.of(range(P1, 0, 1)));
      assertThat(processed).containsExactly("0@0", "0@1", "1@0");
    }
  }

  @Test
  void anOutageDropsThePrefetchedBatchSeeksBackAndRetriesTheCommit() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0).partition(TP1, 0);
      run.kafka.append(TP0, "a", "b");
      run.kafka.append(TP1, "x");
      // While [0, 2) and [0, 1) commit, "c" and "y" are fetched; then the store is unavailable.
      run.store.beforeNextCommit(
          real -> {
            synchronized (run.kafka) { // both in one poll: never one without the other
              run.kafka.append(TP0, "c");
              run.kafka.append(TP1, "y");
            }
            awaitFetched(run, 5);
            run.store.failBefore(1);
          });
      run.start(run.builder().assign(List.of(P0, P1)).pipelined(true).processor(recording()));

      run.awaitStored(Map.of(P0, 3L, P1, 2L));
      assertThat(run.events.retries).hasSize(1);
      // Both partitions went back to where the failed commit ends, "c" and "y" were read again.
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L, 2L);
      assertThat(run.kafka.seeks(TP1)).containsExactly(0L, 1L);
      List<String> sorted = new ArrayList<>(processed);
      sorted.sort(null);
      assertThat(sorted).containsExactly("0@0", "0@1", "0@2", "1@0", "1@1");
      assertThat(run.events.commits)
          .extracting(CommitEvent::ranges, CommitEvent::attempts)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(List.of(range(P0, 0, 2), range(P1, 0, 1)), 2),
              org.assertj.core.groups.Tuple.tuple(List.of(range(P0, 2, 3), range(P1, 1, 2)), 1));
      assertThat(run.memory.results())
          .containsOnlyKeys("t-0@0", "t-0@1", "t-0@2", "t-1@0", "t-1@1");
    }
  }

  @Test
  void aPoisonRecordInTheCommitInFlightIsIsolatedAndThePrefetchedBatchReadAgain() throws Exception {
    try (MockRun run = new MockRun()) {
      run.kafka.partition(TP0, 0);
      run.kafka.append(TP0, "a", "poison", "b");
      run.store.beforeNextCommit(
          real -> {
            run.kafka.append(TP0, "c");
            awaitFetched(run, 4);
          });
      List<DeadLetter<String, String>> letters = new CopyOnWriteArrayList<>();
      BatchProcessor<String, String, MemoryTransaction> recording = recording();
      run.start(
          run.builder()
              .assign(List.of(P0))
              .pipelined(true)
              .deadLetters((letter, tx) -> letters.add(letter))
              .processor(
                  (batch, tx) -> {
                    recording.process(batch, tx);
                    if (batch.records().stream().anyMatch(r -> r.value().equals("poison"))) {
                      throw new IllegalArgumentException("cannot process poison");
                    }
                  }));

      run.awaitStored(Map.of(P0, 4L));
      assertThat(letters).extracting(DeadLetter::offset).containsExactly(1L);
      // The failed batch, its replay one record at a time, then "c" once, read again.
      assertThat(processed).containsExactly("0@0", "0@1", "0@2", "0@0", "0@1", "0@2", "0@3");
      assertThat(run.kafka.seeks(TP0)).containsExactly(0L, 3L);
      assertThat(run.memory.results()).containsOnlyKeys("t-0@0", "t-0@2", "t-0@3");
    }
  }

  @Test
  void pipelinedProcessorsRunOnTheCommitThreadAndSerialOnesOnTheRunThread() throws Exception {
    for (boolean pipelined : new boolean[] {true, false}) {
      List<String> threads = new CopyOnWriteArrayList<>();
      try (MockRun run = new MockRun()) {
        run.kafka.partition(TP0, 0);
        run.kafka.append(TP0, "a");
        run.start(
            run.builder()
                .assign(List.of(P0))
                .pipelined(pipelined)
                .processor((batch, tx) -> threads.add(Thread.currentThread().getName())));
        run.awaitStored(Map.of(P0, 1L));
      }
      assertThat(threads).containsExactly(pipelined ? "tandem-commit-" + GROUP : "tandem-mock-run");
    }
  }
}
