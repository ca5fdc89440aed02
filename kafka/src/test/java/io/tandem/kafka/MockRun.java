package io.tandem.kafka;

import static org.awaitility.Awaitility.await;

import io.tandem.kafka.ConsumerListener.CommitEvent;
import io.tandem.kafka.ConsumerListener.ConflictEvent;
import io.tandem.kafka.ConsumerListener.RetryEvent;
import io.tandem.spi.Partition;
import io.tandem.tck.fault.FaultyStore;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.tck.memory.MemoryTransaction;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One runtime over a {@link MockBroker} and an in-memory store behind a {@link FaultyStore}, run on
 * its own thread, with a listener that records every event.
 */
final class MockRun implements AutoCloseable {

  static final String GROUP = "g";
  static final String TOPIC = "t";
  static final TopicPartition TP0 = new TopicPartition(TOPIC, 0);
  static final TopicPartition TP1 = new TopicPartition(TOPIC, 1);
  static final Partition P0 = Partition.of(TOPIC, 0);
  static final Partition P1 = Partition.of(TOPIC, 1);

  /** Fixed delays 2 ms, 4 ms, 8 ms, ...: retries are quick and their delays exact. */
  static final RetryPolicy QUICK =
      RetryPolicy.exponential(Duration.ofMillis(2), Duration.ofMillis(64)).withJitter(0);

  static final Duration WAIT = Duration.ofSeconds(10);

  final MockBroker kafka;
  final MemoryOffsetStore memory;
  final FaultyStore<MemoryTransaction> store;
  final Events events = new Events();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private TandemConsumer<String, String, MemoryTransaction> consumer;
  private Thread thread;

  MockRun() {
    this(new MemoryOffsetStore());
  }

  MockRun(MemoryOffsetStore memory) {
    this(memory, new MockBroker());
  }

  MockRun(MemoryOffsetStore memory, MockBroker kafka) {
    this.kafka = kafka;
    this.memory = memory;
    this.store = new FaultyStore<>(memory);
  }

  /**
   * A builder wired to this run's broker, store and listener: group {@link #GROUP}, {@link #QUICK}
   * retries; the caller adds the source and the processor or sink.
   */
  TandemConsumer.Builder<String, String, MemoryTransaction> builder() {
    return builder(new StringDeserializer());
  }

  /** As {@link #builder()}, values read with {@code values}. */
  TandemConsumer.Builder<String, String, MemoryTransaction> builder(
      org.apache.kafka.common.serialization.Deserializer<String> values) {
    return TandemConsumer.builder(store, new StringDeserializer(), values)
        .bootstrapServers("mock:9092")
        .group(GROUP)
        .retry(QUICK)
        .pollTimeout(Duration.ofMillis(50))
        .closeTimeout(Duration.ofSeconds(10))
        .listener(events)
        .consumerFactory(props -> kafka)
        .topicIdLookup(props -> kafka::topicIds);
  }

  /** A processor that puts each record (key = topic-partition@offset, value = record value). */
  static BatchProcessor<String, String, MemoryTransaction> putEach() {
    return (batch, tx) ->
        batch
            .records()
            .forEach(
                r -> {
                  tx.put(r.topic() + "-" + r.partition() + "@" + r.offset(), r.value());
                  tx.add("applied", 1);
                });
  }

  /** Builds with {@code builder} and starts {@code run()} on a new thread. */
  MockRun start(TandemConsumer.Builder<String, String, MemoryTransaction> builder) {
    consumer = builder.build();
    thread =
        new Thread(
            () -> {
              try {
                consumer.run();
              } catch (Throwable t) {
                failure.set(t);
              }
            },
            "tandem-mock-run");
    thread.start();
    return this;
  }

  TandemConsumer<String, String, MemoryTransaction> consumer() {
    return consumer;
  }

  /** What {@code run()} threw, once it ended; null while it runs or if it returned. */
  Throwable failure() {
    return failure.get();
  }

  boolean finished() {
    return thread != null && !thread.isAlive();
  }

  Map<Partition, Long> stored() {
    return memory.positions(GROUP);
  }

  /**
   * Waits until the store holds exactly {@code expected}, then until the runtime has finished with
   * the commit that got it there: the store moves before the runtime records the commit (stats,
   * listener), and two empty polls after it mean the loop came round with nothing left.
   */
  void awaitStored(Map<Partition, Long> expected) {
    await().atMost(WAIT).until(() -> stored().equals(expected));
    long polls = kafka.emptyPolls();
    await().atMost(WAIT).until(() -> kafka.emptyPolls() >= polls + 2);
  }

  @Override
  public void close() throws InterruptedException {
    if (consumer != null) {
      consumer.close();
      thread.join(Duration.ofSeconds(10).toMillis());
    }
  }

  /** Records every listener event, in order. */
  static final class Events implements ConsumerListener {
    final List<Set<Partition>> assigned = new CopyOnWriteArrayList<>();
    final List<Set<Partition>> revoked = new CopyOnWriteArrayList<>();
    final List<Set<Partition>> lost = new CopyOnWriteArrayList<>();
    final List<Map<Partition, Long>> loaded = new CopyOnWriteArrayList<>();
    final List<CommitEvent> commits = new CopyOnWriteArrayList<>();
    final List<ConflictEvent> conflicts = new CopyOnWriteArrayList<>();
    final List<RetryEvent> retries = new CopyOnWriteArrayList<>();

    /** Runs after each revocation is recorded, on the runtime's thread. */
    volatile java.util.function.Consumer<Set<Partition>> onRevoked = p -> {};

    /** Runs after each retry event is recorded, on the runtime's thread. */
    volatile java.util.function.Consumer<RetryEvent> onRetry = e -> {};

    @Override
    public void partitionsAssigned(String group, Set<Partition> partitions) {
      assigned.add(partitions);
    }

    @Override
    public void partitionsRevoked(String group, Set<Partition> partitions) {
      revoked.add(partitions);
      onRevoked.accept(partitions);
    }

    @Override
    public void partitionsLost(String group, Set<Partition> partitions) {
      lost.add(partitions);
    }

    @Override
    public void positionsLoaded(String group, Map<Partition, Long> positions) {
      loaded.add(positions);
    }

    @Override
    public void committed(CommitEvent event) {
      commits.add(event);
    }

    @Override
    public void conflicted(ConflictEvent event) {
      conflicts.add(event);
    }

    @Override
    public void retrying(RetryEvent event) {
      retries.add(event);
      onRetry.accept(event);
    }
  }
}
