package io.tandem.spring;

import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.StoreUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.listener.BatchAcknowledgingConsumerAwareMessageListener;
import org.springframework.kafka.listener.BatchListenerFailedException;
import org.springframework.kafka.listener.BatchMessageListener;
import org.springframework.kafka.listener.ConsumerAwareRebalanceListener;
import org.springframework.kafka.listener.GenericMessageListener;
import org.springframework.kafka.listener.ListenerType;
import org.springframework.kafka.listener.ListenerUtils;
import org.springframework.kafka.support.Acknowledgment;
import org.springframework.transaction.UnexpectedRollbackException;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The listener the container calls: always a batch listener, so it sees each poll whole. It runs
 * the user's listener (batch or record) inside store commits. One instance serves every consumer of
 * a concurrent container; state is kept per consumer (each consumer is used by one thread).
 */
final class ExactlyOnceListener<K, V>
    implements BatchAcknowledgingConsumerAwareMessageListener<K, V> {

  private static final Logger log = LoggerFactory.getLogger(ExactlyOnceListener.class);

  private final GenericMessageListener<?> delegate;
  private final ListenerType delegateType;
  private final boolean batchDelegate;
  private final OffsetStore<Object> store;
  private final String group;
  private final ResetPolicy resetPolicy;
  private final TransactionTemplate transactions;
  private final boolean mirror;
  private final TandemListenerMetrics metrics;
  private final long maxBackoffMs;
  private final ConsumerRebalanceListener userRebalanceListener;

  /**
   * Per consumer: the stored position of each partition it owns, as far as it knows. Weak keys: a
   * container restart makes new consumers, and the closed ones' entries go with them.
   */
  private final Map<Consumer<?, ?>, Map<TopicPartition, Long>> positions =
      Collections.synchronizedMap(new WeakHashMap<>());

  /** Per consumer: consecutive store outages, for the back-off. */
  private final Map<Consumer<?, ?>, Integer> outages =
      Collections.synchronizedMap(new WeakHashMap<>());

  @SuppressWarnings("unchecked")
  ExactlyOnceListener(
      GenericMessageListener<?> delegate,
      OffsetStore<?> store,
      String group,
      ResetPolicy resetPolicy,
      TransactionTemplate transactions,
      boolean mirror,
      TandemListenerMetrics metrics,
      Duration maxBackoff,
      ConsumerRebalanceListener userRebalanceListener) {
    this.delegate = delegate;
    this.delegateType = ListenerUtils.determineListenerType(delegate);
    this.batchDelegate = delegate instanceof BatchMessageListener;
    this.store = (OffsetStore<Object>) store;
    this.group = group;
    this.resetPolicy = resetPolicy;
    this.transactions = transactions;
    this.mirror = mirror;
    this.metrics = metrics;
    this.maxBackoffMs = maxBackoff.toMillis();
    this.userRebalanceListener = userRebalanceListener;
  }

  boolean batchDelegate() {
    return batchDelegate;
  }

  // ------------------------------------------------------------------ assignment

  ConsumerAwareRebalanceListener rebalanceListener() {
    return new ConsumerAwareRebalanceListener() {
      @Override
      public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> parts) {
        // Inside poll(), before it returns records: the seeks below decide where the first record
        // of each partition comes from. Spring Kafka calls this after its own ConsumerSeekAware
        // handling (KafkaMessageListenerContainer.ListenerConsumerRebalanceListener), so the
        // store's position is the last word.
        if (!parts.isEmpty()) {
          Map<TopicPartition, Long> known = known(consumer);
          parts.forEach(known::remove);
          loadAndSeek(consumer, parts, known, true);
        }
        userAssigned(consumer, parts);
      }

      @Override
      public void onPartitionsRevokedBeforeCommit(
          Consumer<?, ?> consumer, Collection<TopicPartition> parts) {
        forget(consumer, parts);
        if (userRebalanceListener instanceof ConsumerAwareRebalanceListener aware) {
          aware.onPartitionsRevokedBeforeCommit(consumer, parts);
        } else if (userRebalanceListener != null) {
          userRebalanceListener.onPartitionsRevoked(parts);
        }
      }

      @Override
      public void onPartitionsRevokedAfterCommit(
          Consumer<?, ?> consumer, Collection<TopicPartition> parts) {
        if (userRebalanceListener instanceof ConsumerAwareRebalanceListener aware) {
          aware.onPartitionsRevokedAfterCommit(consumer, parts);
        }
      }

      @Override
      public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> parts) {
        forget(consumer, parts);
        if (userRebalanceListener instanceof ConsumerAwareRebalanceListener aware) {
          aware.onPartitionsLost(consumer, parts);
        } else if (userRebalanceListener != null) {
          userRebalanceListener.onPartitionsLost(parts);
        }
      }
    };
  }

  private void userAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> parts) {
    if (userRebalanceListener instanceof ConsumerAwareRebalanceListener aware) {
      aware.onPartitionsAssigned(consumer, parts);
    } else if (userRebalanceListener != null) {
      userRebalanceListener.onPartitionsAssigned(parts);
    }
  }

  private void forget(Consumer<?, ?> consumer, Collection<TopicPartition> parts) {
    Map<TopicPartition, Long> known = known(consumer);
    for (TopicPartition tp : parts) {
      known.remove(tp);
      metrics.released(group, partition(tp));
    }
  }

  private Map<TopicPartition, Long> known(Consumer<?, ?> consumer) {
    return positions.computeIfAbsent(consumer, c -> new HashMap<>());
  }

  /**
   * Reads the partitions' positions from the store, initializes missing ones, seeks. In a rebalance
   * callback a store outage is retried for a while (the callback runs once per assignment); on the
   * listener path it propagates to the caller, which backs off.
   */
  private void loadAndSeek(
      Consumer<?, ?> consumer,
      Collection<TopicPartition> parts,
      Map<TopicPartition, Long> known,
      boolean inCallback) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (int attempt = 1; ; attempt++) {
      try {
        Map<TopicPartition, Long> loaded = load(consumer, parts);
        loaded.forEach(
            (tp, pos) -> {
              consumer.seek(tp, pos);
              known.put(tp, pos);
            });
        log.debug("Group '{}': positions from the store {}", group, loaded);
        return;
      } catch (StoreUnavailableException e) {
        metrics.storeUnavailable(group);
        if (!inCallback || System.nanoTime() > deadline) {
          throw e;
        }
        log.warn(
            "Group '{}': cannot read positions of {} from the store (attempt {}): {}",
            group,
            parts,
            attempt,
            e.getMessage());
        sleep(Math.min(maxBackoffMs, 100L << Math.min(attempt, 10)));
      }
    }
  }

  private Map<TopicPartition, Long> load(
      Consumer<?, ?> consumer, Collection<TopicPartition> parts) {
    Map<Partition, TopicPartition> byPartition = new LinkedHashMap<>();
    parts.forEach(tp -> byPartition.put(partition(tp), tp));
    Map<Partition, Long> stored = store.positions(group, byPartition.keySet());
    List<TopicPartition> missing = new ArrayList<>();
    byPartition.forEach(
        (p, tp) -> {
          if (!stored.containsKey(p)) {
            missing.add(tp);
          }
        });
    Map<Partition, Long> standing = new HashMap<>(stored);
    if (!missing.isEmpty()) {
      Map<TopicPartition, Long> starts =
          switch (resetPolicy) {
            case EARLIEST -> consumer.beginningOffsets(missing);
            case LATEST -> consumer.endOffsets(missing);
            case NONE ->
                throw new TandemConfigurationException(
                    "Group '"
                        + group
                        + "' has no stored position for "
                        + missing
                        + " and the reset policy is NONE. Store positions with the tandem tool"
                        + " (offsets set) or choose EARLIEST or LATEST.");
          };
      Map<Partition, Long> init = new HashMap<>();
      starts.forEach((tp, pos) -> init.put(partition(tp), pos));
      standing.putAll(store.initialize(group, init));
      log.info("Group '{}': initialized positions {} ({})", group, init, resetPolicy);
    }
    Map<TopicPartition, Long> out = new LinkedHashMap<>();
    byPartition.forEach((p, tp) -> out.put(tp, standing.get(p)));
    return out;
  }

  // ------------------------------------------------------------------ records

  @Override
  public void onMessage(
      List<ConsumerRecord<K, V>> data, Acknowledgment acknowledgment, Consumer<?, ?> consumer) {
    Map<TopicPartition, Long> known = known(consumer);
    // Partitions whose first record this poll is not at the position we hold: unknown ones (the
    // assignment's load failed, or explicit assignment without rebalance callbacks) are loaded and
    // sought; ones behind the stored position (a seek we did not make) are sought back. Either way
    // their records of this poll are dropped: they come again from the right place.
    Map<TopicPartition, List<ConsumerRecord<K, V>>> byPartition = new LinkedHashMap<>();
    for (ConsumerRecord<K, V> r : data) {
      byPartition
          .computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new ArrayList<>())
          .add(r);
    }
    Set<TopicPartition> unknown = new LinkedHashSet<>();
    for (var e : byPartition.entrySet()) {
      Long pos = known.get(e.getKey());
      if (pos == null) {
        unknown.add(e.getKey());
      } else if (e.getValue().get(0).offset() < pos) {
        log.warn(
            "Group '{}': {} delivered offset {} below the stored position {}; seeking back",
            group,
            e.getKey(),
            e.getValue().get(0).offset(),
            pos);
        consumer.seek(e.getKey(), pos);
        unknown.add(e.getKey());
        known.remove(e.getKey());
      }
    }
    if (!unknown.isEmpty()) {
      try {
        loadAndSeek(consumer, unknown, known, false);
      } catch (StoreUnavailableException e) {
        backOff(consumer, e);
        return;
      }
      unknown.forEach(byPartition::remove);
    }
    if (byPartition.isEmpty()) {
      return;
    }
    List<ConsumerRecord<K, V>> accepted;
    if (unknown.isEmpty()) {
      accepted = data;
    } else {
      accepted = new ArrayList<>();
      for (ConsumerRecord<K, V> r : data) {
        if (byPartition.containsKey(new TopicPartition(r.topic(), r.partition()))) {
          accepted.add(r);
        }
      }
    }
    if (batchDelegate) {
      commitBatch(accepted, consumer, known, true);
    } else {
      commitEach(accepted, consumer, known);
    }
    outages.remove(consumer);
  }

  /** The batch in one commit. Returns normally when committed, dropped on conflict or outage. */
  private void commitBatch(
      List<ConsumerRecord<K, V>> records,
      Consumer<?, ?> consumer,
      Map<TopicPartition, Long> known,
      boolean splitOnFailure) {
    Map<TopicPartition, OffsetRange> ranges = ranges(records, known);
    try {
      commit(ranges, records.size(), () -> invokeBatch(records, consumer));
    } catch (OffsetConflictException e) {
      conflict(consumer, ranges, known, e);
      return;
    } catch (StoreUnavailableException e) {
      unavailable(consumer, ranges, known, e);
      return;
    } catch (ResultWriteException e) {
      Throwable cause = e.getCause();
      if (splitOnFailure && cause instanceof BatchListenerFailedException failed) {
        // The listener named the failing record: the error handler will treat the records before
        // it as done and seek to it. They were rolled back with the batch, so commit them now.
        int index = indexOf(records, failed);
        if (index > 0) {
          List<ConsumerRecord<K, V>> before = records.subList(0, index);
          Map<TopicPartition, Long> ahead = new HashMap<>(known);
          commitBatch(before, consumer, known, false);
          if (!known.equals(advanced(ahead, before))) {
            return; // the prefix did not commit (conflict or outage): dropped, re-sought
          }
        }
        if (index >= 0) {
          throw new BatchListenerFailedException(
              String.valueOf(failed.getMessage()), failed.getCause(), records.get(index));
        }
      }
      throw rethrow(cause);
    }
    advance(known, ranges);
    afterCommit(consumer, ranges);
  }

  private static <K, V> Map<TopicPartition, Long> advanced(
      Map<TopicPartition, Long> known, List<ConsumerRecord<K, V>> records) {
    Map<TopicPartition, Long> out = new HashMap<>(known);
    for (ConsumerRecord<K, V> r : records) {
      out.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
    }
    return out;
  }

  private static <K, V> int indexOf(
      List<ConsumerRecord<K, V>> records, BatchListenerFailedException e) {
    ConsumerRecord<?, ?> failed = e.getRecord();
    if (failed == null) {
      int i = e.getIndex();
      return i >= 0 && i < records.size() ? i : -1;
    }
    for (int i = 0; i < records.size(); i++) {
      ConsumerRecord<K, V> r = records.get(i);
      if (r.topic().equals(failed.topic())
          && r.partition() == failed.partition()
          && r.offset() == failed.offset()) {
        return i;
      }
    }
    return -1;
  }

  /** A record listener: each record in its own commit, in poll order. */
  private void commitEach(
      List<ConsumerRecord<K, V>> records,
      Consumer<?, ?> consumer,
      Map<TopicPartition, Long> known) {
    for (ConsumerRecord<K, V> r : records) {
      Map<TopicPartition, OffsetRange> ranges = ranges(List.of(r), known);
      try {
        commit(ranges, 1, () -> invokeRecord(r, consumer));
      } catch (OffsetConflictException e) {
        // Stop here: the rest of this poll is dropped and every partition in it re-sought, so
        // nothing of it is delivered out of step with the store.
        conflict(consumer, ranges(records, known), known, e);
        return;
      } catch (StoreUnavailableException e) {
        unavailable(consumer, ranges(records, known), known, e);
        return;
      } catch (ResultWriteException e) {
        // Records before this one are committed; the error handler seeks to this one.
        throw new BatchListenerFailedException(
            "Listener failed on " + r.topic() + "-" + r.partition() + "@" + r.offset(),
            e.getCause(),
            r);
      }
      advance(known, ranges);
      afterCommit(consumer, ranges);
    }
  }

  private Map<TopicPartition, OffsetRange> ranges(
      List<ConsumerRecord<K, V>> records, Map<TopicPartition, Long> known) {
    Map<TopicPartition, OffsetRange> out = new LinkedHashMap<>();
    Map<TopicPartition, Long> last = new LinkedHashMap<>();
    for (ConsumerRecord<K, V> r : records) {
      last.put(new TopicPartition(r.topic(), r.partition()), r.offset());
    }
    // From the stored position (gaps before the first record - transaction markers, compacted
    // records, records the error handler recovered - are consumed with this batch) to the last
    // record's offset + 1.
    last.forEach(
        (tp, offset) -> out.put(tp, new OffsetRange(partition(tp), known.get(tp), offset + 1)));
    return out;
  }

  private interface Invocation {
    void run() throws Exception;
  }

  private void commit(Map<TopicPartition, OffsetRange> ranges, int records, Invocation listener) {
    long started = System.nanoTime();
    if (transactions == null) {
      store.commit(group, ranges.values(), handle -> runWithHandle(handle, listener));
    } else {
      transactions.executeWithoutResult(
          status ->
              store.commit(
                  group,
                  ranges.values(),
                  handle -> {
                    runWithHandle(handle, listener);
                    if (status.isRollbackOnly()) {
                      // Code of the listener marked the Spring transaction rollback-only (a
                      // participating @Transactional method failed and the listener went on).
                      throw new UnexpectedRollbackException(
                          "The listener's transaction was marked rollback-only; nothing of the"
                              + " batch is committed");
                    }
                  }));
    }
    metrics.committed(group, System.nanoTime() - started, records);
  }

  private static void runWithHandle(Object handle, Invocation listener) throws Exception {
    Object before = StoreHandles.set(handle);
    try {
      listener.run();
    } finally {
      StoreHandles.restore(before);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void invokeBatch(List<ConsumerRecord<K, V>> records, Consumer<?, ?> consumer) {
    BatchMessageListener<K, V> batch = (BatchMessageListener<K, V>) delegate;
    if (batch.wantsPollResult()) {
      Map<TopicPartition, List<ConsumerRecord<K, V>>> map = new LinkedHashMap<>();
      for (ConsumerRecord<K, V> r : records) {
        map.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new ArrayList<>())
            .add(r);
      }
      ((GenericMessageListener) batch)
          .onMessage(new ConsumerRecords<>(map, Map.of()), null, consumer);
      return;
    }
    GenericMessageListener<List<ConsumerRecord<K, V>>> g =
        (GenericMessageListener<List<ConsumerRecord<K, V>>>) delegate;
    dispatch(g, records, consumer);
  }

  @SuppressWarnings("unchecked")
  private void invokeRecord(ConsumerRecord<K, V> record, Consumer<?, ?> consumer) {
    dispatch((GenericMessageListener<ConsumerRecord<K, V>>) delegate, record, consumer);
  }

  private <T> void dispatch(GenericMessageListener<T> g, T data, Consumer<?, ?> consumer) {
    // Kafka acknowledgments are meaningless here (the store commit is the acknowledgment): the
    // listener gets none, as with an auto-acknowledging container.
    switch (delegateType) {
      case ACKNOWLEDGING_CONSUMER_AWARE -> g.onMessage(data, null, consumer);
      case CONSUMER_AWARE -> g.onMessage(data, consumer);
      case ACKNOWLEDGING -> g.onMessage(data, (Acknowledgment) null);
      default -> g.onMessage(data);
    }
  }

  private static RuntimeException rethrow(Throwable cause) {
    if (cause instanceof RuntimeException re) {
      return re;
    }
    if (cause instanceof Error err) {
      throw err;
    }
    return new IllegalStateException("Listener failed: " + cause, cause);
  }

  // ------------------------------------------------------------------ outcomes

  private void advance(Map<TopicPartition, Long> known, Map<TopicPartition, OffsetRange> ranges) {
    ranges.forEach((tp, r) -> known.put(tp, r.until()));
  }

  private void afterCommit(Consumer<?, ?> consumer, Map<TopicPartition, OffsetRange> ranges) {
    if (mirror) {
      Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
      ranges.forEach((tp, r) -> offsets.put(tp, new OffsetAndMetadata(r.until())));
      try {
        // For lag tools only; never read back. Asynchronous, and a failure is harmless.
        consumer.commitAsync(
            offsets,
            (done, e) -> {
              if (e != null) {
                log.debug(
                    "Group '{}': mirroring positions to Kafka failed: {}", group, e.toString());
              }
            });
      } catch (RuntimeException e) {
        log.debug("Group '{}': mirroring positions to Kafka failed: {}", group, e.toString());
      }
    }
    for (var e : ranges.entrySet()) {
      try {
        OptionalLong lag = consumer.currentLag(e.getKey());
        if (lag.isPresent()) {
          long position = consumer.position(e.getKey(), Duration.ZERO);
          metrics.lag(
              group, partition(e.getKey()), lag.getAsLong() + position - e.getValue().until());
        }
      } catch (RuntimeException ex) {
        // Lag is best effort: the consumer may not know the log end yet.
      }
    }
  }

  private void conflict(
      Consumer<?, ?> consumer,
      Map<TopicPartition, OffsetRange> ranges,
      Map<TopicPartition, Long> known,
      OffsetConflictException e) {
    List<Partition> parts = new ArrayList<>();
    ranges.keySet().forEach(tp -> parts.add(partition(tp)));
    metrics.conflict(group, parts);
    log.info(
        "Group '{}': another member moved {}; batch dropped, re-seeking from the store",
        group,
        e.conflicts());
    ranges.keySet().forEach(known::remove);
    try {
      loadAndSeek(consumer, ranges.keySet(), known, false);
    } catch (StoreUnavailableException outage) {
      backOff(consumer, outage);
      // Positions unknown: seek back to where the batch started, so nothing moves ahead of the
      // store; the next poll reloads them.
      ranges.forEach((tp, r) -> consumer.seek(tp, r.from()));
    }
  }

  private void unavailable(
      Consumer<?, ?> consumer,
      Map<TopicPartition, OffsetRange> ranges,
      Map<TopicPartition, Long> known,
      StoreUnavailableException e) {
    // The commit's outcome may be unknown: forget the positions, seek back to the batch's start
    // and reload from the store on the next delivery.
    ranges.forEach(
        (tp, r) -> {
          known.remove(tp);
          consumer.seek(tp, r.from());
        });
    backOff(consumer, e);
  }

  private void backOff(Consumer<?, ?> consumer, StoreUnavailableException e) {
    metrics.storeUnavailable(group);
    int n = outages.merge(consumer, 1, Integer::sum);
    long ms = Math.min(maxBackoffMs, 100L << Math.min(n, 10));
    log.warn(
        "Group '{}': store unavailable ({}); batch dropped, retrying in {} ms",
        group,
        e.getMessage(),
        ms);
    sleep(ms);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
  }

  private static Partition partition(TopicPartition tp) {
    return Partition.of(tp.topic(), tp.partition());
  }
}
