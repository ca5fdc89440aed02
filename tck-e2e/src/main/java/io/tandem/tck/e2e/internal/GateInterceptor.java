package io.tandem.tck.e2e.internal;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Holds one poll's records inside {@code KafkaConsumer.poll} until the test says "go": the worker
 * has fetched a batch (and advanced its in-memory positions) but not yet handed it to the runtime,
 * so nothing of it is committed. While held, the test freezes the JVM and moves the partitions to
 * another member; on release the runtime tries to commit what it had buffered, as a zombie would.
 *
 * <p>Configured through {@code interceptor.classes}; the worker sets {@link #gateAtPoll} before the
 * consumer starts. Internal: may change in any release.
 */
public final class GateInterceptor implements ConsumerInterceptor<Object, Object> {

  /** Hold the n-th non-empty poll of this JVM; 0 holds none. */
  static volatile int gateAtPoll;

  /** The runtime's count of successful commits, reported with the gate (set by the worker). */
  static volatile LongSupplier commits = () -> -1;

  static final CountDownLatch RELEASE = new CountDownLatch(1);
  private static final AtomicInteger nonEmptyPolls = new AtomicInteger();

  /** Public no-argument constructor for Kafka's configuration. */
  public GateInterceptor() {}

  @Override
  public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
    if (records.isEmpty() || gateAtPoll <= 0) {
      return records;
    }
    if (nonEmptyPolls.incrementAndGet() != gateAtPoll) {
      return records;
    }
    Map<String, Long> firstOffsets = new TreeMap<>();
    for (ConsumerRecord<Object, Object> r : records) {
      firstOffsets.merge(r.topic() + "-" + r.partition(), r.offset(), Math::min);
    }
    // Counters cannot change while the poll is held: the commit count is exact.
    StringBuilder line =
        new StringBuilder("gate commits=" + commits.getAsLong() + " count=" + records.count());
    firstOffsets.forEach((p, o) -> line.append(' ').append(p).append('=').append(o));
    Worker.event(line.toString());
    try {
      RELEASE.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Worker.event("released");
    return records;
  }

  @Override
  public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}

  @Override
  public void close() {}

  @Override
  public void configure(Map<String, ?> configs) {}
}
