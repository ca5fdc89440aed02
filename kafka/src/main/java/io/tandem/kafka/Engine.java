package io.tandem.kafka;

import io.tandem.kafka.ConsumerListener.CommitEvent;
import io.tandem.kafka.ConsumerListener.CommitEvent.Kind;
import io.tandem.kafka.ConsumerListener.ConflictEvent;
import io.tandem.kafka.ConsumerListener.RetryEvent;
import io.tandem.kafka.TandemConsumer.Settings;
import io.tandem.kafka.TandemConsumer.State;
import io.tandem.kafka.internal.Metrics;
import io.tandem.kafka.internal.Ranges;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.spi.support.ReadBack;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The poll-commit loop behind {@link TandemConsumer}. Everything but {@link #requestStop()}, {@link
 * #close()}, {@link #stats()} and {@link #state()} runs on the thread that called {@link #run()},
 * which owns the Kafka consumer.
 *
 * <p>Invariant between batches: for every loaded partition {@code tp}, {@code positions[tp]} is the
 * position stored for the group (as far as this instance knows) and the Kafka consumer's position
 * is at or after it with only records already committed or holes in between. A partition whose
 * stored position is not known (just assigned, after a conflict or an abandoned retry) is in {@code
 * pending}, paused, until its position is read from the store and seeked.
 *
 * <p>Pipelined ({@link Settings#pipelined()}): the processing and store commit of a poll's last
 * unit run on the commit thread ({@link #inflight}) while this thread polls the next batch; the
 * next step applies the commit's outcome first ({@link #settle}), then drops the prefetched records
 * of every partition whose epoch moved meanwhile (conflict, revocation, re-seek). Every other
 * commit, and every call of user code, also runs on the commit thread, waited for, so user code
 * always runs on one thread. Rebalance callbacks wait for the commit in flight ({@link
 * #settleInCallback()}).
 */
final class Engine<K, V, T> implements ConsumerRebalanceListener {

  private static final Logger log = LoggerFactory.getLogger(TandemConsumer.class);

  /** The longest poll while a commit is in flight. */
  private static final Duration INFLIGHT_POLL = Duration.ofMillis(10);

  private final Settings<K, V, T> s;
  private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
  private final Deserializer<K> keys;
  private final Deserializer<V> values;
  private final Metrics metrics;
  private final Clock clock;
  private final OffsetMirror mirror;
  private final TopicIdGuard topicIds;

  // Run thread only.
  private final Map<TopicPartition, Long> positions = new HashMap<>();
  private final Map<TopicPartition, Integer> epochs = new HashMap<>();
  private final Set<TopicPartition> pending = new LinkedHashSet<>();
  private RuntimeException callbackFailure;
  private int loadAttempts;
  private long nextLoadNanos;
  // Written by whichever thread ran the store call; read after it was waited for.
  private volatile long lastCommitNanos;
  // Pipelined only: the commit thread, and the one commit running on it that this thread has not
  // waited for yet.
  private final ExecutorService committer;
  private volatile Thread commitThread;
  private Inflight<K, V> inflight;
  // Pipelined only, run thread: the records of a poll decoded while the commit before them was
  // still running, by identity of their raw record; taken by decode(). Null outside a step.
  private IdentityHashMap<ConsumerRecord<byte[], byte[]>, ConsumerRecord<K, V>> predecoded;

  // Any thread.
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile boolean stopRequested;
  private volatile Thread runner;
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong conflicts = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong deadLetters = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private volatile long lag = -1;
  // Read by the per-partition gauges from any thread; written by the run thread.
  private final Map<TopicPartition, Long> partitionLags = new ConcurrentHashMap<>();
  private final Map<TopicPartition, Long> lastCommitMillis = new ConcurrentHashMap<>();
  private volatile int assigned;

  /**
   * @param consumer reads bytes: a record that cannot be deserialized is then one record the
   *     runtime holds (with its raw bytes for a dead letter), not an exception that stalls the
   *     partition; the engine owns and closes it
   */
  Engine(
      Settings<K, V, T> settings,
      org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
      Deserializer<K> keys,
      Deserializer<V> values,
      Metrics metrics) {
    this.s = settings;
    this.keys = keys;
    this.values = values;
    this.metrics = metrics;
    this.clock = settings.clock();
    this.mirror = settings.mirrorOffsets() ? new OffsetMirror(settings.group()) : null;
    this.topicIds =
        settings.topicIds() == null
            ? null
            : new TopicIdGuard(
                settings.store(), settings.group(), settings.topicIds(), settings.adoptTopicIds());
    this.consumer = consumer;
    this.committer =
        settings.pipelined()
            ? Executors.newSingleThreadExecutor(
                r -> {
                  Thread t = new Thread(r, "tandem-commit-" + settings.group());
                  t.setDaemon(true);
                  commitThread = t;
                  return t;
                })
            : null;
    metrics.lag(() -> lag);
  }

  Settings<K, V, T> settings() {
    return s;
  }

  State state() {
    return state.get();
  }

  ConsumerStats stats() {
    return new ConsumerStats(
        state.get(),
        records.get(),
        batches.get(),
        conflicts.get(),
        retries.get(),
        deadLetters.get(),
        skipped.get(),
        assigned,
        lag);
  }

  // ---------------------------------------------------------------- lifecycle

  void run() {
    if (!state.compareAndSet(State.NEW, State.RUNNING)) {
      State now = state.get();
      if (stopRequested && now != State.RUNNING && runner == null) {
        return; // closed before it ran: nothing to do
      }
      throw new IllegalStateException("run() may be called once; the consumer is " + now);
    }
    runner = Thread.currentThread();
    boolean failed = false;
    log.info(
        "Tandem consumer starting: group={} scope={} reset={} outOfRange={} deadLetters={}",
        s.group(),
        s.scope(),
        s.resetPolicy(),
        s.outOfRange(),
        s.deadLetters() != null);
    try {
      start();
      while (!stopRequested) {
        try {
          step();
        } finally {
          // Records decoded ahead and then dropped (their partition's epoch moved) are not kept.
          predecoded = null;
        }
      }
    } catch (Abandoned e) {
      log.info("Tandem consumer group={}: stop requested, in-flight batch abandoned", s.group());
    } catch (RuntimeException | Error e) {
      failed = true;
      state.set(State.FAILED);
      log.error("Tandem consumer group={} failed: {}", s.group(), e.toString(), e);
      throw e;
    } finally {
      drain();
      release();
      if (!failed) {
        state.set(State.STOPPED);
      }
      finished.countDown();
      log.info("Tandem consumer stopped: group={} {}", s.group(), stats());
    }
  }

  void requestStop() {
    stopRequested = true;
    state.compareAndSet(State.RUNNING, State.STOPPING);
    consumer.wakeup();
  }

  void close() {
    requestStop();
    if (state.compareAndSet(State.NEW, State.STOPPED)) {
      release();
      finished.countDown();
      return;
    }
    if (runner == Thread.currentThread() || commitThread == Thread.currentThread()) {
      return; // called from inside run() or a processor: the loop stops after this batch
    }
    try {
      if (!finished.await(s.closeTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn(
            "Tandem consumer group={}: run() did not return within {}; it stops after its"
                + " current store call",
            s.group(),
            s.closeTimeout());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void release() {
    // An interrupted thread makes Kafka's close() give up at once without leaving the group:
    // clear the flag for the close and restore it after.
    boolean interrupted = Thread.interrupted();
    try {
      consumer.close(CloseOptions.timeout(s.closeTimeout()));
    } catch (RuntimeException e) {
      log.warn("closing the Kafka consumer of group={} failed", s.group(), e);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    if (committer != null) {
      committer.shutdownNow();
    }
    closeQuietly(keys);
    closeQuietly(values);
    if (topicIds != null) {
      topicIds.close();
    }
    metrics.close();
  }

  private void closeQuietly(Deserializer<?> d) {
    try {
      d.close();
    } catch (RuntimeException e) {
      log.warn("closing deserializer {} failed", d.getClass().getName(), e);
    }
  }

  private void start() {
    if (s.assignment() != null) {
      List<TopicPartition> tps =
          s.assignment().stream().map(Engine::tp).collect(Collectors.toList());
      consumer.assign(tps);
      onPartitionsAssigned(tps);
      throwCallbackFailure();
    } else if (s.pattern() != null) {
      consumer.subscribe(s.pattern(), this);
    } else {
      consumer.subscribe(s.topics(), this);
    }
  }

  // ---------------------------------------------------------------- the loop

  private void step() {
    Duration timeout = s.pollTimeout();
    if (!pending.isEmpty()) {
      long wait = nextLoadNanos - System.nanoTime();
      if (wait <= 0) {
        tryLoadPending();
        wait = nextLoadNanos - System.nanoTime();
      }
      if (!pending.isEmpty() && wait > 0 && wait < timeout.toNanos()) {
        timeout = Duration.ofNanos(wait);
      }
    }
    if (inflight != null && timeout.compareTo(INFLIGHT_POLL) > 0) {
      // Nothing tells a poll that the commit ended: poll briefly so that an idle consumer records
      // it (stats, listeners, the mirror) soon after, not a whole poll timeout later.
      timeout = INFLIGHT_POLL;
    }
    ConsumerRecords<byte[], byte[]> polled;
    try {
      polled = consumer.poll(timeout);
    } catch (WakeupException e) {
      return; // the loop checks stopRequested
    } catch (InterruptException e) {
      // Kafka's unchecked form of an interrupt of this thread: a request to stop, not a failure.
      log.info("group={}: run() thread interrupted during poll; stopping", s.group());
      stopRequested = true;
      Thread.currentThread().interrupt();
      return;
    } catch (OffsetOutOfRangeException e) {
      throwCallbackFailure();
      settle(ConsumerRecords.empty(), Map.of());
      outOfRange(e);
      return;
    } catch (NoOffsetForPartitionException e) {
      settle(ConsumerRecords.empty(), Map.of());
      // Cannot happen while every fetching partition was seeked; if it does, ask the store.
      log.warn(
          "group={}: Kafka has no position for {}; re-reading them from the store",
          s.group(),
          e.partitions());
      markPending(e.partitions());
      return;
    }
    throwCallbackFailure();
    // The epochs the polled records were fetched under: a partition whose epoch moves before they
    // are processed (the commit in flight conflicted or failed, the partition was revoked or
    // re-seeked) has them dropped, and its consumer position was reset by whatever moved it.
    Map<TopicPartition, Integer> fetchedAt = new HashMap<>();
    for (TopicPartition tp : polled.partitions()) {
      fetchedAt.put(tp, epochs.getOrDefault(tp, 0));
    }
    if (inflight != null && !polled.isEmpty() && !inflight.future.isDone()) {
      // Decoding is independent of the commit's outcome: do it while the commit runs. Records of
      // a partition the outcome then drops were decoded for nothing, which is harmless.
      predecode(polled);
    }
    // An empty poll waits for nothing: the commit in flight is applied when it has ended or when
    // records arrive, before they are processed.
    boolean keep =
        polled.isEmpty() && inflight != null && !inflight.future.isDone()
            || settle(polled, fetchedAt);
    updateLag();
    if (polled.isEmpty() || !keep) {
      return;
    }
    List<Slice> slices = new ArrayList<>();
    for (TopicPartition tp : polled.partitions()) {
      List<ConsumerRecord<byte[], byte[]>> recs = polled.records(tp);
      if (epochs.getOrDefault(tp, 0) != fetchedAt.get(tp)) {
        log.info(
            "group={}: dropping {} prefetched records of {} from offset {}: the commit before them"
                + " conflicted, failed or the partition was revoked; it is read again from its"
                + " stored position",
            s.group(),
            recs.size(),
            tp,
            recs.get(0).offset());
        continue;
      }
      Long from = positions.get(tp);
      if (from == null) {
        log.warn(
            "group={}: {} records of {} arrived without a loaded position; ignored, re-seeking",
            s.group(),
            recs.size(),
            tp);
        markPending(List.of(tp));
        continue;
      }
      // The end of the batch is the position right after what this poll returned, as the poll
      // saw it: ConsumerRecords.nextOffsets() (kafka-clients 3.9+/4.x, KIP-1094) holds it per
      // partition, including transaction markers and aborted records skipped after the last
      // record. position() is the fallback for a consumer that does not fill it; it is the same
      // value as long as nothing seeks between the poll and here.
      OffsetAndMetadata next = polled.nextOffsets().get(tp);
      long until;
      if (next != null) {
        until = next.offset();
      } else {
        try {
          until = consumer.position(tp);
        } catch (WakeupException e) {
          throw new Abandoned();
        }
      }
      OffsetRange range =
          Ranges.covering(
              partition(tp), from, recs.get(0).offset(), recs.get(recs.size() - 1).offset(), until);
      slices.add(new Slice(tp, range, recs, epochs.getOrDefault(tp, 0)));
    }
    List<List<Slice>> units =
        s.scope() == CommitScope.PER_POLL
            ? Ranges.chunks(slices, s.maxRangesPerCommit())
            : slices.stream().map(List::of).collect(Collectors.toList());
    for (int i = 0; i < units.size(); i++) {
      if (stopRequested) {
        throw new Abandoned();
      }
      if (committer != null && i == units.size() - 1) {
        submit(units.get(i));
      } else {
        commitUnit(units.get(i));
      }
    }
  }

  private void updateLag() {
    Set<TopicPartition> now = consumer.assignment();
    assigned = now.size();
    long sum = 0;
    boolean known = false;
    for (TopicPartition tp : now) {
      OptionalLong l = consumer.currentLag(tp);
      if (partitionLags.containsKey(tp)) {
        partitionLags.put(tp, l.isPresent() ? l.getAsLong() : -1L);
      }
      if (l.isPresent()) {
        sum += l.getAsLong();
        known = true;
      }
    }
    lag = known ? sum : -1;
  }

  // ---------------------------------------------------------------- batches

  private void commitUnit(List<Slice> polledUnit) {
    List<Slice> unit = owned(polledUnit);
    if (unit.isEmpty()) {
      return;
    }
    Decoded<K, V> decoded = decode(unit);
    Throwable failure = decoded.error;
    if (failure == null) {
      try {
        commitWithRetry(unit, decoded.batch, Kind.RECORDS, null, 1, false);
        return;
      } catch (ProcessingFailure f) {
        failure = f.getCause();
      }
    }
    isolate(unit, decoded, failure);
  }

  /**
   * The slices of a unit still ours as they were when polled. A retry backoff of an earlier unit of
   * this poll polls the consumer, and so does a pipelined poll, so partitions of this unit may have
   * been revoked (or revoked and re-assigned, re-seeked from the store) since: never commit a range
   * of a partition that is not ours as it was when polled.
   */
  private List<Slice> owned(List<Slice> polledUnit) {
    List<Slice> unit = new ArrayList<>(polledUnit.size());
    for (Slice sl : polledUnit) {
      Long at = positions.get(sl.tp);
      if (at != null && at == sl.range.from() && epochs.getOrDefault(sl.tp, 0) == sl.epoch) {
        unit.add(sl);
      } else {
        log.info(
            "group={}: {} was revoked or re-seeked since the poll; dropping its range {}",
            s.group(),
            sl.tp,
            sl.range);
      }
    }
    return unit;
  }

  /**
   * A unit failed with something not retriable: stop with its one record or dead-letter it, or
   * replay the unit one record per commit to find the poison record.
   */
  private void isolate(List<Slice> unit, Decoded<K, V> decoded, Throwable failure) {
    int count = unit.stream().mapToInt(sl -> sl.records.size()).sum();
    if (count == 1) {
      poison(unit.get(0), decoded);
      return;
    }
    // Which record failed is not known from a batch: replay one record per commit, so the records
    // before the poison one commit, and the poison one is named exactly (and dead-lettered).
    log.warn(
        "group={}: batch {} failed ({}); replaying it record by record to isolate the poison"
            + " record",
        s.group(),
        ranges(unit),
        failure.toString());
    commitOneByOne(unit);
  }

  /** Replays a failed batch one record per commit. */
  private void commitOneByOne(List<Slice> unit) {
    for (Slice slice : unit) {
      long[] offsets = slice.records.stream().mapToLong(ConsumerRecord::offset).toArray();
      List<OffsetRange> singles = Ranges.perRecord(slice.range, offsets);
      for (int i = 0; i < singles.size(); i++) {
        if (stopRequested) {
          throw new Abandoned();
        }
        OffsetRange r = singles.get(i);
        Long at = positions.get(slice.tp);
        if (at == null || at != r.from() || epochs.getOrDefault(slice.tp, 0) != slice.epoch) {
          break; // conflict or revocation moved this partition: the rest is re-polled or not ours
        }
        Slice single = new Slice(slice.tp, r, List.of(slice.records.get(i)), slice.epoch);
        Decoded<K, V> d = decode(List.of(single));
        if (d.error == null) {
          try {
            commitWithRetry(List.of(single), d.batch, Kind.RECORDS, null, 1, false);
            continue;
          } catch (ProcessingFailure f) {
            d = new Decoded<>(d.batch, single.records.get(0), f.getCause());
          }
        }
        poison(single, d);
      }
    }
  }

  /** One record failed on its own: stop with it, or dead-letter it. */
  private void poison(Slice single, Decoded<K, V> d) {
    ConsumerRecord<byte[], byte[]> raw = single.records.get(0);
    boolean decodedOk = d.batch != null;
    DeadLetter.Stage stage =
        decodedOk ? DeadLetter.Stage.PROCESSING : DeadLetter.Stage.DESERIALIZATION;
    if (s.deadLetters() == null) {
      throw new PoisonRecordException(s.group(), partition(raw), raw.offset(), stage, d.error);
    }
    deadLetter(single, decodedOk ? d.batch.records().get(0) : null, stage, d.error);
  }

  private void deadLetter(
      Slice single, ConsumerRecord<K, V> decoded, DeadLetter.Stage stage, Throwable error) {
    ConsumerRecord<byte[], byte[]> raw = single.records.get(0);
    Throwable cause = error;
    log.warn(
        "group={}: dead-lettering {}@{} ({} failed: {})",
        s.group(),
        single.tp,
        raw.offset(),
        stage,
        cause.toString());
    DeadLetter<K, V> letter =
        new DeadLetter<>(
            partition(single.tp),
            raw.offset(),
            raw.timestamp(),
            raw.key(),
            raw.value(),
            raw.headers(),
            decoded,
            stage,
            cause);
    DeadLetterWriter<K, V, T> writer = s.deadLetters();
    try {
      commitWithRetry(
          List.of(single), null, Kind.DEAD_LETTER, h -> writer.write(letter, h), 1, false);
    } catch (ProcessingFailure f) {
      throw new TandemConsumerException(
          "the dead-letter writer failed for "
              + single.tp
              + "@"
              + raw.offset()
              + " in group '"
              + s.group()
              + "'; nothing was committed for it. Fix the dead-letter writer.",
          f.getCause());
    }
  }

  /**
   * Commits a unit, retrying store outages. On return every slice is either committed ({@code
   * positions[tp] == until}) or was dropped: conflicting (now pending, re-seeked from the store) or
   * revoked.
   *
   * @param batch the decoded records for {@link Kind#RECORDS}, else null
   * @param writer the writer for other kinds, else null
   * @param first 1, or the attempt to start with when earlier ones failed with an outage and their
   *     backoff is over (the stored positions are then read back first)
   * @param sunk whether the sink already wrote the batch's keyed results
   * @throws ProcessingFailure if the processor, sink or writer threw something not retriable
   */
  private void commitWithRetry(
      List<Slice> unit,
      Batch<K, V> batch,
      Kind kind,
      ResultWriter<T> writer,
      int first,
      boolean sunk) {
    List<Slice> remaining = unit;
    Batch<K, V> current = batch;
    int attempt = first - 1;
    while (true) {
      attempt++;
      try {
        if (attempt > 1) {
          List<Slice> still = reconcile(remaining, kind, attempt - 1);
          if (still.isEmpty()) {
            return;
          }
          if (still.size() != remaining.size() && current != null) {
            current = narrow(current, still);
          }
          remaining = still;
        }
        ResultWriter<T> results;
        if (kind != Kind.RECORDS) {
          results = writer;
        } else if (s.sink() != null) {
          if (!sunk) {
            sink(current);
            sunk = true; // keyed results are durable: after an outage only the offsets are retried
          }
          results = ResultWriter.none();
        } else {
          Batch<K, V> b = current;
          results = h -> s.processor().process(b, h);
        }
        storeCommit(remaining, results);
        mirror(remaining);
        accept(remaining, kind, attempt);
        return;
      } catch (OffsetConflictException e) {
        conflicted(remaining, e);
        return;
      } catch (StoreUnavailableException e) {
        retryAfter(attempt, e, remaining);
      } catch (ResultWriteException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        if (cause instanceof StoreUnavailableException unavailable) {
          retryAfter(attempt, unavailable, remaining);
        } else {
          throw failure(cause);
        }
      }
    }
  }

  private void conflicted(List<Slice> remaining, OffsetConflictException e) {
    conflicts.incrementAndGet();
    metrics.conflict();
    log.warn(
        "group={}: offset conflict on {} ({}); another writer moved the stored positions."
            + " Dropping the batch and re-seeking from the store",
        s.group(),
        ranges(remaining),
        e.conflicts());
    List<OffsetRange> tried = ranges(remaining);
    tell(l -> l.conflicted(new ConflictEvent(s.group(), tried, e.conflicts())));
    markPending(remaining.stream().map(sl -> sl.tp).collect(Collectors.toList()));
    tryLoadPending();
  }

  private void retryAfter(int attempt, StoreUnavailableException e, List<Slice> remaining) {
    if (!s.retry().allowsAnother(attempt)) {
      log.error(
          "group={}: store still unavailable after {} attempts on {}; giving up",
          s.group(),
          attempt,
          ranges(remaining));
      throw e;
    }
    retries.incrementAndGet();
    metrics.retry();
    Duration delay = s.retry().delay(attempt, ThreadLocalRandom.current().nextDouble());
    log.warn(
        "group={}: store unavailable on {} (attempt {}): {}. Retrying in {} ms after re-reading"
            + " the stored positions",
        s.group(),
        ranges(remaining),
        attempt,
        e.getMessage(),
        delay.toMillis());
    Set<Partition> concerned = partitionsOf(remaining);
    tell(
        l ->
            l.retrying(
                new RetryEvent(
                    s.group(), RetryEvent.Operation.COMMIT, concerned, attempt, delay, e)));
    backoff(delay);
  }

  /**
   * After an outage, finds out what the failed commit did: a range whose stored position is its
   * {@code until} was committed (its outcome had been unknown), one at {@code from} is retried,
   * anything else is a conflict. Slices of partitions no longer ours are dropped.
   */
  private List<Slice> reconcile(List<Slice> slices, Kind kind, int attempts) {
    List<Slice> owned = new ArrayList<>();
    for (Slice sl : slices) {
      if (positions.containsKey(sl.tp)) {
        owned.add(sl);
      } else {
        log.info(
            "group={}: {} was revoked during the retry; abandoning its range {}",
            s.group(),
            sl.tp,
            sl.range);
      }
    }
    if (owned.isEmpty()) {
      return owned;
    }
    Map<Partition, Long> stored =
        s.store().positions(s.group(), owned.stream().map(sl -> sl.range.partition()).toList());
    List<Slice> retry = new ArrayList<>();
    List<Slice> landed = new ArrayList<>();
    List<TopicPartition> moved = new ArrayList<>();
    List<Slice> movedSlices = new ArrayList<>();
    List<Conflict> found = new ArrayList<>();
    for (Slice sl : owned) {
      Long at = stored.get(sl.range.partition());
      ReadBack.Verdict verdict = ReadBack.ofRange(sl.range, at);
      if (verdict == ReadBack.Verdict.APPLIED) {
        landed.add(sl);
      } else if (verdict == ReadBack.Verdict.NOT_APPLIED) {
        retry.add(sl);
      } else {
        movedSlices.add(sl);
        found.add(
            at == null
                ? Conflict.missing(sl.range.partition(), sl.range.from())
                : Conflict.of(sl.range.partition(), sl.range.from(), at));
        log.warn(
            "group={}: after the outage {} is stored at {}, expected {} or {}; re-seeking",
            s.group(),
            sl.tp,
            at == null ? "no position" : at,
            sl.range.from(),
            sl.range.until());
        moved.add(sl.tp);
      }
    }
    if (!landed.isEmpty()) {
      log.info(
          "group={}: the commit of {} had landed before the outage was reported; not redoing it",
          s.group(),
          ranges(landed));
      mirror(landed);
      accept(landed, kind, attempts);
    }
    if (!moved.isEmpty()) {
      conflicts.incrementAndGet();
      metrics.conflict();
      List<OffsetRange> tried = ranges(movedSlices);
      tell(l -> l.conflicted(new ConflictEvent(s.group(), tried, found)));
      markPending(moved);
      tryLoadPending();
    }
    return retry;
  }

  private void storeCommit(List<Slice> unit, ResultWriter<T> results) {
    onCommitThread(
        () -> {
          storeCommitHere(unit, results);
          return null;
        });
  }

  private void storeCommitHere(List<Slice> unit, ResultWriter<T> results) {
    // Latency comes from the injected clock, so tests can step it; the system clock's instants
    // have microsecond resolution on Linux.
    Instant t0 = clock.instant();
    String outcome = "failed";
    try {
      s.store().commit(s.group(), ranges(unit), results);
      outcome = "committed";
    } catch (OffsetConflictException e) {
      outcome = "conflict";
      throw e;
    } catch (StoreUnavailableException e) {
      outcome = "unavailable";
      throw e;
    } finally {
      lastCommitNanos = Duration.between(t0, clock.instant()).toNanos();
      metrics.commit(lastCommitNanos, outcome);
    }
  }

  /** Monitoring only ({@link OffsetMirror}): the store already holds these positions. */
  private void mirror(List<Slice> unit) {
    if (mirror != null) {
      mirror.mirror(consumer, ranges(unit));
    }
  }

  /**
   * Takes a committed unit as done.
   *
   * @param attempts the store calls the commit took; the last one ({@link #lastCommitNanos})
   *     applied it
   */
  private void accept(List<Slice> unit, Kind kind, int attempts) {
    long count = 0;
    long now = clock.millis();
    for (Slice sl : unit) {
      positions.put(sl.tp, sl.range.until());
      lastCommitMillis.computeIfPresent(sl.tp, (tp, before) -> now);
      if (kind == Kind.SKIPPED_POSITIONS || epochs.getOrDefault(sl.tp, 0) != sl.epoch) {
        // The consumer was re-seeked (or never read past the skipped range) since the batch was
        // polled: move it to where the store now stands.
        consumer.seek(sl.tp, sl.range.until());
        epochs.merge(sl.tp, 1, Integer::sum);
      }
      count += sl.records.size();
    }
    batches.incrementAndGet();
    metrics.batch();
    switch (kind) {
      case RECORDS -> {
        records.addAndGet(count);
        metrics.records(count);
      }
      case DEAD_LETTER -> {
        deadLetters.incrementAndGet();
        metrics.deadLetter();
      }
      case SKIPPED_POSITIONS -> {
        long n = unit.stream().mapToLong(sl -> sl.range.size()).sum();
        skipped.addAndGet(n);
        metrics.skipped(n);
      }
    }
    if (log.isDebugEnabled()) {
      log.debug("group={}: committed {} {} ({})", s.group(), count, kind, ranges(unit));
    }
    if (!s.listeners().isEmpty()) {
      CommitEvent event =
          new CommitEvent(
              s.group(),
              ranges(unit),
              kind,
              (int) count,
              Duration.ofNanos(lastCommitNanos),
              attempts);
      tell(l -> l.committed(event));
    }
  }

  /**
   * What a processor, sink or writer threw becomes a processing failure (poison handling), except
   * an interrupt: the thread is being stopped, so the batch is abandoned, never dead-lettered.
   */
  private RuntimeException failure(Throwable cause) {
    if (cause instanceof InterruptedException || cause instanceof InterruptException) {
      log.info("group={}: processing interrupted; abandoning the batch and stopping", s.group());
      stopRequested = true;
      Thread.currentThread().interrupt();
      return new Abandoned();
    }
    return new ProcessingFailure(cause);
  }

  private void sink(Batch<K, V> batch) {
    Throwable error =
        onCommitThread(
            () -> {
              try {
                s.sink().write(batch);
                return null;
              } catch (StoreUnavailableException e) {
                throw e;
              } catch (Exception e) {
                return e;
              }
            });
    if (error != null) {
      throw failure(error);
    }
  }

  /**
   * Waits out a backoff while staying in the group: every partition is paused and the consumer
   * polled, so rebalances are served and {@code wakeup()} ends the wait.
   */
  private void backoff(Duration delay) {
    Set<TopicPartition> paused = new HashSet<>(consumer.assignment());
    paused.removeAll(consumer.paused());
    consumer.pause(paused);
    try {
      long deadline = System.nanoTime() + delay.toNanos();
      long left;
      while ((left = deadline - System.nanoTime()) > 0) {
        ConsumerRecords<byte[], byte[]> stray = consumer.poll(Duration.ofNanos(left));
        throwCallbackFailure();
        // Partitions assigned during the wait are loaded and unpaused: un-read what they returned,
        // the main loop reads it again after this batch.
        for (TopicPartition tp : stray.partitions()) {
          Long at = positions.get(tp);
          if (at != null) {
            consumer.seek(tp, at);
            epochs.merge(tp, 1, Integer::sum);
          } else {
            markPending(List.of(tp));
          }
        }
        if (stopRequested) {
          throw new Abandoned();
        }
      }
    } catch (WakeupException e) {
      throw new Abandoned();
    } finally {
      Set<TopicPartition> resume = new HashSet<>(paused);
      resume.retainAll(consumer.assignment());
      resume.removeAll(pending);
      consumer.resume(resume);
    }
  }

  // ---------------------------------------------------------------- pipelining

  /**
   * Pipelined: starts the processing and commit of a poll's last unit on the commit thread and
   * returns; the next step applies its outcome ({@link #settle}). A unit that does not decode is
   * handled at once, as without pipelining.
   */
  private void submit(List<Slice> polledUnit) {
    List<Slice> unit = owned(polledUnit);
    if (unit.isEmpty()) {
      return;
    }
    Decoded<K, V> decoded = decode(unit);
    if (decoded.error != null) {
      isolate(unit, decoded, decoded.error);
      return;
    }
    Batch<K, V> batch = decoded.batch;
    inflight = new Inflight<>(unit, batch, committer.submit(() -> attempt(unit, batch)));
  }

  /** On the commit thread: the sink, or the processor inside the store's commit. */
  private Attempt attempt(List<Slice> unit, Batch<K, V> batch) {
    boolean sunk = false;
    try {
      ResultWriter<T> results;
      if (s.sink() != null) {
        s.sink().write(batch);
        sunk = true;
        results = ResultWriter.none();
      } else {
        results = h -> s.processor().process(batch, h);
      }
      storeCommitHere(unit, results);
      return new Attempt(null, sunk);
    } catch (Throwable t) {
      return new Attempt(t, sunk);
    }
  }

  /**
   * Waits for the commit in flight, if any, and applies its outcome: committed, or conflicting
   * partitions re-read from the store (their epochs move, so {@code step} drops their prefetched
   * records). Any other failure drops the whole prefetched batch (each of its partitions is seeked
   * back to where it stood before that poll) and then goes the way it goes without pipelining:
   * retried after a backoff, or the unit replayed record by record.
   *
   * @param prefetched what the poll after the submit returned
   * @param fetchedAt the epochs of its partitions right after that poll
   * @return false if the prefetched batch was dropped and its partitions seeked back
   */
  private boolean settle(
      ConsumerRecords<byte[], byte[]> prefetched, Map<TopicPartition, Integer> fetchedAt) {
    Inflight<K, V> f = inflight;
    if (f == null) {
      return true;
    }
    inflight = null;
    Attempt a = await(f.future);
    Throwable t = a.error;
    if (t == null) {
      mirror(f.unit);
      accept(f.unit, Kind.RECORDS, 1);
      return true;
    }
    if (t instanceof Error e) {
      throw e;
    }
    if (t instanceof OffsetConflictException e) {
      conflicted(f.unit, e);
      return true;
    }
    rewind(prefetched, fetchedAt, f.unit);
    StoreUnavailableException unavailable = null;
    Throwable cause;
    if (t instanceof StoreUnavailableException e) {
      unavailable = e;
      cause = e;
    } else if (t instanceof ResultWriteException e) {
      cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof StoreUnavailableException u) {
        unavailable = u;
      }
    } else if (s.sink() != null && !a.sunk) {
      cause = t; // the sink threw it
    } else if (t instanceof RuntimeException e) {
      throw e; // the store itself failed (a bug, a refused batch)
    } else {
      throw new IllegalStateException(t);
    }
    if (unavailable != null) {
      try {
        retryAfter(1, unavailable, f.unit);
        commitWithRetry(f.unit, f.batch, Kind.RECORDS, null, 2, a.sunk);
        return false;
      } catch (ProcessingFailure p) {
        cause = p.getCause();
      }
    } else {
      RuntimeException r = failure(cause);
      if (r instanceof Abandoned) {
        throw r;
      }
    }
    // The backoff polled: keep only what is still ours as polled.
    List<Slice> unit = owned(f.unit);
    if (!unit.isEmpty()) {
      isolate(unit, new Decoded<>(narrow(f.batch, unit), null, cause), cause);
    }
    return false;
  }

  /**
   * Seeks every partition of a dropped prefetched batch back to where it stood before that poll:
   * the end of its range in flight, else its stored position. Epochs stay: the consumer is then
   * exactly where it is after a poll without pipelining.
   */
  private void rewind(
      ConsumerRecords<byte[], byte[]> prefetched,
      Map<TopicPartition, Integer> fetchedAt,
      List<Slice> unit) {
    if (prefetched.isEmpty()) {
      return;
    }
    Map<TopicPartition, Slice> flying = new HashMap<>();
    for (Slice sl : unit) {
      flying.put(sl.tp, sl);
    }
    int dropped = 0;
    for (TopicPartition tp : prefetched.partitions()) {
      Long at = positions.get(tp);
      if (at == null || epochs.getOrDefault(tp, 0) != fetchedAt.get(tp)) {
        continue; // not ours any more, or already re-seeked
      }
      Slice sl = flying.get(tp);
      boolean inFlight = sl != null && sl.epoch == fetchedAt.get(tp) && sl.range.from() == at;
      consumer.seek(tp, inFlight ? sl.range.until() : at);
      dropped += prefetched.records(tp).size();
    }
    log.info(
        "group={}: the commit of {} did not succeed; dropping the {} records fetched meanwhile",
        s.group(),
        ranges(unit),
        dropped);
  }

  /**
   * In a rebalance callback: waits for the commit in flight so that it never lands after a
   * revocation returns, and applies a success or a conflict at once. A commit that failed otherwise
   * is left for {@link #settle} after the poll: its retry or replay polls the consumer, which a
   * callback must not.
   */
  private void settleInCallback() {
    Inflight<K, V> f = inflight;
    if (f == null) {
      return;
    }
    Attempt a = await(f.future);
    if (a.error == null) {
      inflight = null;
      mirror(f.unit);
      accept(f.unit, Kind.RECORDS, 1);
    } else if (a.error instanceof OffsetConflictException e) {
      inflight = null;
      try {
        conflicted(f.unit, e);
      } catch (RuntimeException x) {
        callbackFailure = x; // rethrown after the poll, as from onPartitionsAssigned
      }
    }
  }

  /** When the run ends: waits for the commit in flight and records it if it committed. */
  private void drain() {
    Inflight<K, V> f = inflight;
    inflight = null;
    if (f == null) {
      return;
    }
    try {
      Attempt a = await(f.future);
      if (a.error == null) {
        mirror(f.unit);
        accept(f.unit, Kind.RECORDS, 1);
      } else {
        log.info(
            "group={}: the last commit in flight ({}) did not complete: {}; its records are read"
                + " again from the stored positions",
            s.group(),
            ranges(f.unit),
            a.error.toString());
      }
    } catch (RuntimeException e) {
      log.warn("group={}: recording the last commit in flight failed", s.group(), e);
    }
  }

  /**
   * Runs a store call or user code on the commit thread when pipelined (here otherwise), and waits
   * for it: user code then always runs on one thread. What the task throws is thrown here.
   */
  private <R> R onCommitThread(java.util.concurrent.Callable<R> task) {
    if (committer == null || Thread.currentThread() == commitThread) {
      try {
        return task.call();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return await(committer.submit(task));
  }

  /**
   * Waits for a task on the commit thread. An interrupt of this thread is passed on to the commit
   * thread (so a processor sees it, as it would running here), and the wait goes on until the task
   * ends: a commit is never left running behind this thread's back. The interrupt is restored.
   */
  private <R> R await(Future<R> future) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return future.get();
        } catch (InterruptedException e) {
          interrupted = true;
          Thread worker = commitThread;
          if (worker != null && !future.isDone()) {
            worker.interrupt();
          }
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof RuntimeException r) {
            throw r;
          }
          if (cause instanceof Error err) {
            throw err;
          }
          throw new IllegalStateException(cause);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---------------------------------------------------------------- positions

  @Override
  public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    settleInCallback();
    forget(partitions);
    log.info("group={}: partitions revoked {}", s.group(), partitions);
    SortedSet<Partition> gone = partitions(partitions);
    tell(l -> l.partitionsRevoked(s.group(), gone));
  }

  @Override
  public void onPartitionsLost(Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    settleInCallback();
    forget(partitions);
    log.warn(
        "group={}: partitions lost {} (session expired?); their uncommitted work is dropped",
        s.group(),
        partitions);
    SortedSet<Partition> gone = partitions(partitions);
    tell(l -> l.partitionsLost(s.group(), gone));
  }

  @Override
  public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
    assigned = consumer.assignment().size();
    if (partitions.isEmpty()) {
      return;
    }
    log.info("group={}: partitions assigned {}", s.group(), partitions);
    long now = clock.millis();
    for (TopicPartition tp : partitions) {
      partitionLags.put(tp, -1L);
      lastCommitMillis.put(tp, now);
      metrics.partitionAssigned(
          tp.topic(),
          tp.partition(),
          () -> partitionLags.getOrDefault(tp, -1L),
          () -> {
            Long at = lastCommitMillis.get(tp);
            return at == null ? -1 : Math.max(0, clock.millis() - at);
          });
    }
    SortedSet<Partition> added = partitions(partitions);
    tell(l -> l.partitionsAssigned(s.group(), added));
    try {
      markPending(partitions);
      loadAttempts = 0;
      nextLoadNanos = System.nanoTime();
      tryLoadPending();
    } catch (RuntimeException e) {
      // Thrown out of a callback it would surface wrapped from poll(); keep it and rethrow as is.
      callbackFailure = e;
    }
  }

  private void forget(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      positions.remove(tp);
      pending.remove(tp);
      if (partitionLags.remove(tp) != null) {
        metrics.partitionRemoved(tp.topic(), tp.partition());
      }
      lastCommitMillis.remove(tp);
      epochs.merge(tp, 1, Integer::sum);
    }
    assigned = consumer.assignment().size();
  }

  private void throwCallbackFailure() {
    RuntimeException e = callbackFailure;
    if (e != null) {
      callbackFailure = null;
      if (e instanceof WakeupException) {
        throw new Abandoned();
      }
      throw e;
    }
  }

  /** Forgets what we knew of these partitions and pauses them until the store is read. */
  private void markPending(Collection<TopicPartition> partitions) {
    Set<TopicPartition> mine = new LinkedHashSet<>(partitions);
    mine.retainAll(consumer.assignment());
    for (TopicPartition tp : mine) {
      positions.remove(tp);
      pending.add(tp);
      epochs.merge(tp, 1, Integer::sum);
    }
    consumer.pause(mine);
  }

  /**
   * Reads the pending partitions' positions from the store, initializing missing ones from the
   * reset policy, seeks and resumes them. A store outage leaves them paused and schedules another
   * try.
   */
  private void tryLoadPending() {
    if (pending.isEmpty()) {
      return;
    }
    try {
      load(new ArrayList<>(pending));
      loadAttempts = 0;
    } catch (StoreUnavailableException e) {
      loadAttempts++;
      if (!s.retry().allowsAnother(loadAttempts)) {
        log.error(
            "group={}: cannot read positions of {} after {} attempts; giving up",
            s.group(),
            pending,
            loadAttempts);
        throw e;
      }
      retries.incrementAndGet();
      metrics.retry();
      Duration delay = s.retry().delay(loadAttempts, ThreadLocalRandom.current().nextDouble());
      nextLoadNanos = System.nanoTime() + delay.toNanos();
      SortedSet<Partition> waiting = partitions(pending);
      int attempt = loadAttempts;
      tell(
          l ->
              l.retrying(
                  new RetryEvent(
                      s.group(), RetryEvent.Operation.READ_POSITIONS, waiting, attempt, delay, e)));
      log.warn(
          "group={}: store unavailable while reading positions of {} (attempt {}): {}. Those"
              + " partitions stay paused; retrying in {} ms",
          s.group(),
          pending,
          loadAttempts,
          e.getMessage(),
          delay.toMillis());
    }
  }

  private void load(List<TopicPartition> tps) {
    Map<TopicPartition, Partition> byTp = new HashMap<>();
    for (TopicPartition tp : tps) {
      byTp.put(tp, partition(tp));
    }
    Map<Partition, Long> stored =
        new TreeMap<>(s.store().positions(s.group(), List.copyOf(byTp.values())));
    if (topicIds != null) {
      // Before anything is initialized or seeked: positions of a re-created topic are refused.
      topicIds.check(tps.stream().map(TopicPartition::topic).collect(Collectors.toSet()));
    }
    List<TopicPartition> missing = new ArrayList<>();
    for (TopicPartition tp : tps) {
      if (!stored.containsKey(byTp.get(tp))) {
        missing.add(tp);
      }
    }
    if (!missing.isEmpty()) {
      Map<TopicPartition, Long> starts =
          switch (s.resetPolicy()) {
            case EARLIEST -> consumer.beginningOffsets(missing);
            case LATEST -> consumer.endOffsets(missing);
            case FAIL ->
                throw new MissingPositionException(
                    s.group(), missing.stream().map(Engine::partition).collect(Collectors.toSet()));
          };
      Map<Partition, Long> init = new TreeMap<>();
      starts.forEach((tp, pos) -> init.put(partition(tp), pos));
      Map<Partition, Long> now = s.store().initialize(s.group(), init);
      log.info(
          "group={}: no stored position for {}; initialized from {} to {} (existing positions"
              + " win)",
          s.group(),
          init.keySet(),
          s.resetPolicy(),
          now);
      stored.putAll(now);
    }
    for (TopicPartition tp : tps) {
      Long at = stored.get(byTp.get(tp));
      if (at == null) {
        throw new IllegalStateException(
            "the store returned no position for "
                + tp
                + " right after initialize(): it breaks the OffsetStore contract");
      }
      consumer.seek(tp, at);
      positions.put(tp, at);
      epochs.merge(tp, 1, Integer::sum);
      pending.remove(tp);
    }
    consumer.resume(tps);
    log.info("group={}: positions from the store {}", s.group(), stored);
    Map<Partition, Long> loaded = new TreeMap<>();
    for (TopicPartition tp : tps) {
      loaded.put(byTp.get(tp), positions.get(tp));
    }
    if (mirror != null) {
      // Partitions only initialized (nothing committed yet) show in lag tools too, and a mirror
      // left ahead or behind by an earlier run is corrected at once.
      mirror.mirror(consumer, loaded);
    }
    Map<Partition, Long> event = Collections.unmodifiableMap(loaded);
    tell(l -> l.positionsLoaded(s.group(), event));
  }

  private void outOfRange(OffsetOutOfRangeException e) {
    for (Map.Entry<TopicPartition, Long> entry : e.offsetOutOfRangePartitions().entrySet()) {
      TopicPartition tp = entry.getKey();
      long requested = entry.getValue();
      Long at = positions.get(tp);
      if (at == null) {
        continue; // no longer ours
      }
      long start = consumer.beginningOffsets(List.of(tp)).getOrDefault(tp, -1L);
      long end = consumer.endOffsets(List.of(tp)).getOrDefault(tp, -1L);
      boolean lostToRetention = start >= 0 && requested < start && at <= requested;
      if (s.outOfRange() == OutOfRangePolicy.FAIL || !lostToRetention) {
        throw new PositionOutOfRangeException(s.group(), partition(tp), requested, start, end, e);
      }
      log.error(
          "group={}: SKIPPING positions [{}, {}) of {}: {} offsets were deleted (retention or"
              + " deleteRecords) before they were processed and are lost. Moving the stored"
              + " position to the log start {}",
          s.group(),
          at,
          start,
          tp,
          start - at,
          start);
      Slice skip = new Slice(tp, new OffsetRange(partition(tp), at, start), List.of(), -1);
      try {
        commitWithRetry(List.of(skip), null, Kind.SKIPPED_POSITIONS, ResultWriter.none(), 1, false);
      } catch (ProcessingFailure f) {
        throw new IllegalStateException("an empty writer failed", f.getCause());
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Decodes a poll's records ahead into {@link #predecoded}, stopping at the first record that
   * cannot be decoded: {@link #decode} meets it again in its place and the usual poison path runs.
   */
  private void predecode(ConsumerRecords<byte[], byte[]> polled) {
    predecoded = new IdentityHashMap<>(polled.count() * 2);
    for (ConsumerRecord<byte[], byte[]> raw : polled) {
      ConsumerRecord<K, V> rec;
      try {
        rec = decoded(raw);
      } catch (RuntimeException e) {
        return;
      }
      predecoded.put(raw, rec);
    }
  }

  private ConsumerRecord<K, V> decoded(ConsumerRecord<byte[], byte[]> raw) {
    K key = keys.deserialize(raw.topic(), raw.headers(), raw.key());
    V value = values.deserialize(raw.topic(), raw.headers(), raw.value());
    return new ConsumerRecord<>(
        raw.topic(),
        raw.partition(),
        raw.offset(),
        raw.timestamp(),
        raw.timestampType(),
        raw.serializedKeySize(),
        raw.serializedValueSize(),
        key,
        value,
        raw.headers(),
        raw.leaderEpoch(),
        raw.deliveryCount());
  }

  private Decoded<K, V> decode(List<Slice> unit) {
    List<ConsumerRecord<K, V>> out = new ArrayList<>();
    List<OffsetRange> ranges = new ArrayList<>(unit.size());
    for (Slice sl : unit) {
      ranges.add(sl.range);
      for (ConsumerRecord<byte[], byte[]> raw : sl.records) {
        // Taken, not read: a unit decoded again (replayed record by record) decodes afresh.
        ConsumerRecord<K, V> ready = predecoded == null ? null : predecoded.remove(raw);
        if (ready != null) {
          out.add(ready);
          continue;
        }
        ConsumerRecord<K, V> rec;
        try {
          rec = decoded(raw);
        } catch (RuntimeException e) {
          return new Decoded<>(null, raw, e);
        }
        out.add(rec);
      }
    }
    return new Decoded<>(Batch.of(ranges, out), null, null);
  }

  private Batch<K, V> narrow(Batch<K, V> batch, List<Slice> still) {
    Set<Partition> keep = new HashSet<>();
    for (Slice sl : still) {
      keep.add(sl.range.partition());
    }
    List<ConsumerRecord<K, V>> recs =
        batch.records().stream()
            .filter(r -> keep.contains(Partition.of(r.topic(), r.partition())))
            .toList();
    return Batch.of(ranges(still), recs);
  }

  /** Calls every listener; what a listener throws is logged, never breaks processing. */
  private void tell(Consumer<ConsumerListener> event) {
    for (ConsumerListener l : s.listeners()) {
      try {
        event.accept(l);
      } catch (RuntimeException e) {
        log.warn(
            "group={}: listener {} threw; ignored, processing goes on",
            s.group(),
            l.getClass().getName(),
            e);
      }
    }
  }

  private static SortedSet<Partition> partitions(Collection<TopicPartition> tps) {
    SortedSet<Partition> out = new TreeSet<>();
    for (TopicPartition tp : tps) {
      out.add(partition(tp));
    }
    return Collections.unmodifiableSortedSet(out);
  }

  private static Set<Partition> partitionsOf(List<Slice> unit) {
    Set<Partition> out = new TreeSet<>();
    for (Slice sl : unit) {
      out.add(sl.range.partition());
    }
    return out;
  }

  private static List<OffsetRange> ranges(List<Slice> unit) {
    List<OffsetRange> out = new ArrayList<>(unit.size());
    for (Slice sl : unit) {
      out.add(sl.range);
    }
    return out;
  }

  private static Partition partition(TopicPartition tp) {
    return Partition.of(tp.topic(), tp.partition());
  }

  private static Partition partition(ConsumerRecord<?, ?> r) {
    return Partition.of(r.topic(), r.partition());
  }

  private static TopicPartition tp(Partition p) {
    return new TopicPartition(p.topic(), p.partition());
  }

  /** The records of one partition from one poll and the range they cover. */
  private record Slice(
      TopicPartition tp,
      OffsetRange range,
      List<ConsumerRecord<byte[], byte[]>> records,
      int epoch) {}

  /** A commit started on the commit thread and not yet waited for. */
  private record Inflight<K, V>(List<Slice> unit, Batch<K, V> batch, Future<Attempt> future) {}

  /**
   * How a commit on the commit thread ended: {@code error} null if it committed; {@code sunk}
   * whether the sink had written the keyed results.
   */
  private record Attempt(Throwable error, boolean sunk) {}

  /** A decoded unit, or the first record that failed to decode. */
  private record Decoded<K, V>(
      Batch<K, V> batch, ConsumerRecord<byte[], byte[]> failed, Throwable error) {}

  /** The processor, sink or writer threw something not retriable; the cause is what it threw. */
  private static final class ProcessingFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ProcessingFailure(Throwable cause) {
      super(cause.toString(), cause, false, false);
    }
  }

  /** A stop was requested mid-batch: nothing of the batch was committed after it. */
  private static final class Abandoned extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Abandoned() {
      super("stop requested", null, false, false);
    }
  }
}
