package io.tandem.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;

/**
 * Kafka's {@link MockConsumer} with a log per partition behind it, so it behaves like a consumer of
 * a broker: each poll returns, for every assigned partition that is not paused, the log's records
 * from the consumer's position on; a seek back reads them again. It also records every seek, and
 * waits a little in an empty poll (as a broker's long poll does) instead of letting the runtime
 * spin.
 *
 * <p>MockConsumer returns a queued record only if its offset is at or after the position, and
 * forgets the queue of every unpaused partition in each poll that gets that far; so a partition is
 * fed only in a poll that will reach that point (no partition lacks a position, no wakeup pending),
 * and nothing stale stays queued ahead of a seek back.
 *
 * <p>Everything that changes the consumer's state from the test thread goes through {@link
 * #schedulePollTask(Runnable)}, so it runs on the runtime's thread inside a poll, where Kafka
 * itself calls the rebalance listener.
 */
class MockBroker extends MockConsumer<byte[], byte[]> {

  private final Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> logs = new HashMap<>();
  private final Map<TopicPartition, Long> logEnds = new HashMap<>();
  private final Map<TopicPartition, List<Long>> seeks = new HashMap<>();
  private final Map<String, Uuid> topicIds = new HashMap<>();
  private boolean wakeupPending;
  private long emptyPolls;
  private long recordsPolled;

  MockBroker() {
    // The runtime always sets auto.offset.reset=none: a partition without a position must never
    // be reset behind the store's back.
    super("none");
  }

  /** Creates a partition whose log starts (and, so far, ends) at {@code start}. */
  synchronized MockBroker partition(TopicPartition tp, long start) {
    logs.put(tp, new ArrayList<>());
    logEnds.put(tp, start);
    updateBeginningOffsets(Map.of(tp, start));
    updateEndOffsets(Map.of(tp, start));
    return this;
  }

  /** Appends records whose key and value are each given string. */
  synchronized void append(TopicPartition tp, String... values) {
    List<ConsumerRecord<byte[], byte[]>> log = logs.get(tp);
    long next = logEnds.get(tp);
    for (String v : values) {
      byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
      log.add(new ConsumerRecord<>(tp.topic(), tp.partition(), next++, bytes, bytes));
    }
    logEnds.put(tp, next);
    updateEndOffsets(Map.of(tp, next));
    notifyAll();
  }

  /** The topic ID of each topic, as a cluster gives one to every topic at creation. */
  synchronized Map<String, Uuid> topicIds(Collection<String> topics) {
    Map<String, Uuid> out = new HashMap<>();
    for (String t : topics) {
      out.put(t, topicIds.computeIfAbsent(t, k -> Uuid.randomUuid()));
    }
    return out;
  }

  /** Deletes the records before {@code start}, as retention does. */
  synchronized void truncate(TopicPartition tp, long start) {
    logs.get(tp).removeIf(r -> r.offset() < start);
    updateBeginningOffsets(Map.of(tp, start));
  }

  /** Polls so far that returned no record. */
  synchronized long emptyPolls() {
    return emptyPolls;
  }

  /** Records every poll so far returned, in total. */
  synchronized long recordsPolled() {
    return recordsPolled;
  }

  /** Every position this partition was seeked to, in order. */
  synchronized List<Long> seeks(TopicPartition tp) {
    return List.copyOf(seeks.getOrDefault(tp, List.of()));
  }

  @Override
  public synchronized void seek(TopicPartition tp, long offset) {
    seeks.computeIfAbsent(tp, k -> new ArrayList<>()).add(offset);
    super.seek(tp, offset);
  }

  @Override
  public synchronized void wakeup() {
    wakeupPending = true;
    super.wakeup();
    notifyAll();
  }

  @Override
  public synchronized ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
    feed();
    ConsumerRecords<byte[], byte[]> out;
    try {
      out = super.poll(timeout);
    } finally {
      wakeupPending = false; // MockConsumer clears its flag whenever it throws for it
    }
    if (out.isEmpty()) {
      emptyPolls++;
    }
    recordsPolled += out.count();
    if (out.isEmpty() && !wakeupPending) {
      try {
        wait(Math.max(1, Math.min(timeout.toMillis(), 5)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return out;
  }

  /**
   * A real consumer's paused partitions are among its assigned ones; MockConsumer keeps a paused
   * partition in its own set after a rebalance revoked it.
   */
  @Override
  public synchronized Set<TopicPartition> paused() {
    Set<TopicPartition> out = new HashSet<>(super.paused());
    out.retainAll(assignment());
    return out;
  }

  /** A real consumer knows no lag for a partition without a position; MockConsumer throws. */
  @Override
  public synchronized OptionalLong currentLag(TopicPartition tp) {
    try {
      return super.currentLag(tp);
    } catch (NoOffsetForPartitionException e) {
      return OptionalLong.empty();
    }
  }

  private void feed() {
    if (wakeupPending) {
      return;
    }
    Set<TopicPartition> assigned = assignment();
    for (TopicPartition tp : assigned) {
      if (!hasPosition(tp)) {
        return; // this poll throws NoOffsetForPartitionException before it reads the queue
      }
    }
    Set<TopicPartition> paused = paused();
    for (TopicPartition tp : assigned) {
      if (paused.contains(tp)) {
        continue;
      }
      long at = position(tp);
      for (ConsumerRecord<byte[], byte[]> r : logs.getOrDefault(tp, List.of())) {
        if (r.offset() >= at) {
          addRecord(r);
        }
      }
    }
  }

  private boolean hasPosition(TopicPartition tp) {
    try {
      position(tp);
      return true;
    } catch (NoOffsetForPartitionException e) {
      return false;
    }
  }
}
