package io.tandem.connect;

import io.tandem.connect.internal.AdminLogOffsets;
import io.tandem.connect.internal.LogOffsets;
import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreUnavailableException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SinkTask} whose offsets live in the sink's own store: each commit writes a batch's
 * results and moves its partitions' positions in one {@link OffsetStore#commit}, so the sink is
 * exactly-once where the store is transactional. A connector extends it with two methods: {@link
 * #openStore(Map)} and {@link #results(List)}.
 *
 * <p>How it drives Connect:
 *
 * <ul>
 *   <li>{@link #open(Collection)} reads the positions from the store and always seeks every
 *       partition there ({@code context.offset}). A partition with no stored position starts by
 *       {@link UnknownPartitionPolicy}: the log start, the connector group's Kafka offset, or a
 *       failure.
 *   <li>{@link #put(Collection)} buffers records per partition and commits (results plus the ranges
 *       {@code [stored position, last offset + 1)}) once enough are buffered. Offsets are the
 *       record's <em>original</em> topic, partition and offset, so topic-renaming transforms do not
 *       move them. Gaps (compaction, transaction markers, filtered or tolerated records) are
 *       normal; a gap that retention made (the log start is past the stored position) fails the
 *       task, unless {@value TandemSinkConfig#RETENTION_LOSS} is {@code continue}.
 *   <li>A conflict means another task moved the partition: its buffer is dropped, the position
 *       re-read and the partition re-sought; nothing is written on.
 *   <li>{@link #preCommit(Map)} commits what is buffered and returns the positions the store holds,
 *       never more, so Connect's own offsets and every lag monitor show the truth.
 *   <li>{@link #close(Collection)} drops the buffers of revoked partitions and their pending seeks;
 *       nothing is written for them afterwards.
 * </ul>
 *
 * <p>Seeks are handed to Connect only on the task thread and only when Connect applies them before
 * its next poll (in {@code open} and {@code put}); records polled before a seek took effect are
 * discarded.
 *
 * @param <T> the store's unit-of-work handle
 * @since 0.1
 */
public abstract class TandemSinkTask<T> extends SinkTask {

  private static final Logger log = LoggerFactory.getLogger(TandemSinkTask.class);

  /** Where a partition's consumer stands with respect to the seeks this task asked for. */
  private enum SeekState {
    /** The consumer delivers from the task's position on. */
    CLEAN,
    /** A seek is decided but not yet handed to Connect. */
    PENDING,
    /** Handed to Connect in this put: records polled before it are still arriving. */
    HANDED
  }

  /** A partition this task owns. */
  private static final class Owned {
    final TopicPartition tp;
    final Partition partition;

    /** The stored position as this task last knew it: the next range's {@code from}. */
    long position;

    final List<SinkRecord> buffer = new ArrayList<>();

    /** One past the last buffered offset; equals position when the buffer is empty. */
    long bufferedUntil;

    SeekState seek = SeekState.CLEAN;

    Owned(TopicPartition tp, long position) {
      this.tp = tp;
      this.partition = new Partition(tp.topic(), tp.partition());
      this.position = position;
      this.bufferedUntil = position;
    }

    void drop(long newPosition) {
      buffer.clear();
      position = newPosition;
      bufferedUntil = newPosition;
    }
  }

  private final Map<TopicPartition, Owned> owned = new LinkedHashMap<>();
  private TandemSinkConfig config;
  private OffsetStore<T> store;
  private LogOffsets logOffsets;
  private String group;
  private Clock clock = Clock.systemUTC();
  private long oldestBufferedAt = -1;
  private int buffered;
  private boolean stopped;
  private boolean failed;
  private long commits;
  private long conflicts;

  /** For subclasses. */
  protected TandemSinkTask() {}

  /**
   * Opens the task's store from the connector's configuration; called once, in {@link #start(Map)}.
   * The task closes it in {@link #stop()}.
   *
   * @param props the task's configuration (the connector's)
   * @return the open store
   */
  protected abstract OffsetStore<T> openStore(Map<String, String> props);

  /**
   * The writer for one commit's records. It runs inside the store's commit and may run again for
   * the same records after a conflict on other partitions, so it must not keep state across calls.
   *
   * @param records the records of the commit, each partition's in offset order
   * @return the writer
   */
  protected abstract ResultWriter<T> results(List<SinkRecord> records);

  /**
   * Called at the end of {@link #start(Map)}, once the store is open: a subclass reads its own
   * options here.
   *
   * @param props the task's configuration
   */
  protected void configure(Map<String, String> props) {}

  @Override
  public String version() {
    return Versions.version();
  }

  @Override
  public final void start(Map<String, String> props) {
    TandemSinkConfig c = new TandemSinkConfig(props);
    LogOffsets offsets = new AdminLogOffsets(c.adminProperties(), Duration.ofSeconds(30));
    OffsetStore<T> s;
    try {
      s = openStore(props);
    } catch (RuntimeException e) {
      offsets.close();
      throw e;
    }
    init(c, s, offsets);
    configure(props);
  }

  /** Starts the task on a given store and Kafka view: for tests of this class. */
  final void init(TandemSinkConfig c, OffsetStore<T> s, LogOffsets offsets) {
    this.config = c;
    this.store = Objects.requireNonNull(s, "openStore returned null");
    this.logOffsets = offsets;
    this.group = c.group();
    Capabilities caps = s.capabilities();
    log.info(
        "Tandem sink task starts: group '{}', store {} ({}, {})",
        group,
        caps.description(),
        caps.guarantee(),
        caps.atomicAcrossPartitions() ? "atomic across partitions" : "one partition per commit");
  }

  /** Replaces the clock that times the buffer: for tests. */
  final void clock(Clock c) {
    this.clock = c;
  }

  /**
   * The store this task commits to.
   *
   * @return the store
   */
  protected final OffsetStore<T> store() {
    return store;
  }

  /**
   * The group this task's positions are kept under.
   *
   * @return the group
   */
  protected final String group() {
    return group;
  }

  @Override
  public void open(Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    Map<TopicPartition, Long> positions = readOrInitialize(partitions);
    for (TopicPartition tp : partitions) {
      long p = positions.get(tp);
      owned.put(tp, new Owned(tp, p));
    }
    // Always seek: Connect positioned the consumer from Kafka's offsets, which may be behind,
    // ahead of or reset away from the store's. Connect applies these right after open returns.
    context.offset(positions);
    log.info(
        "Tandem sink group '{}' opened {} at stored positions {}", group, partitions, positions);
  }

  private Map<TopicPartition, Long> readOrInitialize(Collection<TopicPartition> partitions) {
    Map<Partition, TopicPartition> byPartition = new LinkedHashMap<>();
    for (TopicPartition tp : partitions) {
      byPartition.put(new Partition(tp.topic(), tp.partition()), tp);
    }
    Map<Partition, Long> stored =
        retrying("reading positions", () -> store.positions(group, byPartition.keySet()));
    Map<TopicPartition, Long> out = new HashMap<>();
    List<TopicPartition> unknown = new ArrayList<>();
    byPartition.forEach(
        (p, tp) -> {
          Long pos = stored.get(p);
          if (pos == null) {
            unknown.add(tp);
          } else {
            out.put(tp, pos);
          }
        });
    if (!unknown.isEmpty()) {
      out.putAll(initialize(unknown));
    }
    return out;
  }

  private Map<TopicPartition, Long> initialize(List<TopicPartition> unknown) {
    UnknownPartitionPolicy policy = config.unknownPartitionPolicy();
    if (policy == UnknownPartitionPolicy.FAIL) {
      throw new ConnectException(
          "No stored position in group '"
              + group
              + "' for "
              + unknown
              + " and "
              + TandemSinkConfig.UNKNOWN_PARTITION
              + "=fail. Set the positions first (PATCH /connectors/<name>/offsets) or choose"
              + " earliest or kafka.");
    }
    Map<TopicPartition, Long> starts = new HashMap<>(logOffsets.earliest(unknown));
    if (policy == UnknownPartitionPolicy.KAFKA) {
      String consumerGroup = config.connectorConsumerGroup();
      if (consumerGroup != null) {
        logOffsets
            .committed(consumerGroup, unknown)
            .forEach((tp, committed) -> starts.merge(tp, committed, Math::max));
      }
    }
    Map<Partition, Long> request = new LinkedHashMap<>();
    for (TopicPartition tp : unknown) {
      Long start = starts.get(tp);
      if (start == null) {
        throw new ConnectException("Kafka gave no log start offset for " + tp);
      }
      request.put(new Partition(tp.topic(), tp.partition()), start);
    }
    // Existing positions win: another task may have initialized the same partition meanwhile.
    Map<Partition, Long> standing =
        retrying("initializing positions", () -> store.initialize(group, request));
    Map<TopicPartition, Long> out = new HashMap<>();
    for (TopicPartition tp : unknown) {
      out.put(tp, standing.get(new Partition(tp.topic(), tp.partition())));
    }
    log.info(
        "Tandem sink group '{}' had no position for {}; initialized by policy {}: {}",
        group,
        unknown,
        policy.value(),
        out);
    return out;
  }

  @Override
  public void put(Collection<SinkRecord> records) {
    checkRunning();
    try {
      putRecords(records);
    } catch (RuntimeException e) {
      fail();
      throw e;
    }
  }

  /**
   * After an exception nothing more is written: Connect still calls {@link #preCommit} and {@link
   * #close} on a failed task, and a buffer left by the failure must not reach the store.
   */
  private void fail() {
    failed = true;
    for (Owned o : owned.values()) {
      o.drop(o.position);
    }
    buffered = 0;
    oldestBufferedAt = -1;
  }

  private void putRecords(Collection<SinkRecord> records) {
    // Seeks handed in the previous put were applied by Connect before the poll that delivered
    // these records; seeks still pending are handed now and apply before the next poll.
    for (Owned o : owned.values()) {
      if (o.seek == SeekState.HANDED) {
        o.seek = SeekState.CLEAN;
      }
    }
    for (Owned o : owned.values()) {
      if (o.seek == SeekState.PENDING) {
        context.offset(o.tp, o.position);
        o.seek = SeekState.HANDED;
      }
    }
    // First decide what to accept and check the gaps, then buffer: a task that fails here must
    // leave nothing behind that a later preCommit (Connect calls it while closing a failed task)
    // could commit.
    Map<Owned, Long> until = new HashMap<>();
    Map<Owned, Long> gaps = new LinkedHashMap<>();
    List<SinkRecord> accepted = new ArrayList<>(records.size());
    List<Owned> targets = new ArrayList<>(records.size());
    for (SinkRecord r : records) {
      TopicPartition tp = new TopicPartition(r.originalTopic(), r.originalKafkaPartition());
      Owned o = owned.get(tp);
      if (o == null || o.seek != SeekState.CLEAN) {
        // Not ours any more, or polled before our seek took effect: the seek redelivers it.
        continue;
      }
      long offset = r.originalKafkaOffset();
      long next = until.getOrDefault(o, o.bufferedUntil);
      if (offset < next) {
        continue; // already buffered or committed
      }
      if (offset > next && !gaps.containsKey(o)) {
        gaps.put(o, next);
      }
      until.put(o, offset + 1);
      accepted.add(r);
      targets.add(o);
    }
    if (!gaps.isEmpty()) {
      checkRetention(gaps);
    }
    for (int i = 0; i < accepted.size(); i++) {
      Owned o = targets.get(i);
      SinkRecord r = accepted.get(i);
      if (buffered == 0) {
        oldestBufferedAt = clock.millis();
      }
      o.buffer.add(r);
      o.bufferedUntil = r.originalKafkaOffset() + 1;
      buffered++;
    }
    if (buffered > 0 && commitDue()) {
      commitBuffered();
      handPendingSeeks();
    }
  }

  /**
   * A gap is normal, unless the log now starts past where it began: retention deleted records this
   * sink never wrote. Connect's consumer then silently reset to the log start.
   */
  private void checkRetention(Map<Owned, Long> gaps) {
    Map<TopicPartition, Long> earliest =
        logOffsets.earliest(gaps.keySet().stream().map(o -> o.tp).collect(Collectors.toList()));
    for (Map.Entry<Owned, Long> g : gaps.entrySet()) {
      Owned o = g.getKey();
      long gapStart = g.getValue();
      Long logStart = earliest.get(o.tp);
      if (logStart != null && logStart > gapStart) {
        String message =
            "Retention deleted records of "
                + o.tp
                + " this sink never wrote: its position is "
                + gapStart
                + " but the log starts at "
                + logStart
                + " (group '"
                + group
                + "'). Offsets "
                + gapStart
                + ".."
                + (logStart - 1)
                + " are lost.";
        if (config.failOnRetentionLoss()) {
          throw new ConnectException(
              message
                  + " Failing the task ("
                  + TandemSinkConfig.RETENTION_LOSS
                  + "=fail). To go on from the log start, move the position past the loss"
                  + " (PATCH /connectors/<name>/offsets) or set "
                  + TandemSinkConfig.RETENTION_LOSS
                  + "=continue.");
        }
        log.error(
            "{} Going on from the log start ({}=continue).",
            message,
            TandemSinkConfig.RETENTION_LOSS);
      }
    }
  }

  private boolean commitDue() {
    if (buffered >= config.commitMaxRecords()) {
      return true;
    }
    long interval = config.commitInterval().toMillis();
    return interval == 0 || clock.millis() - oldestBufferedAt >= interval;
  }

  @Override
  public Map<TopicPartition, OffsetAndMetadata> preCommit(
      Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    if (stopped) {
      return Map.of();
    }
    if (buffered > 0 && !failed) {
      try {
        commitBuffered();
      } catch (RuntimeException e) {
        fail();
        throw e;
      }
    }
    Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
    for (Owned o : owned.values()) {
      // A partition with a seek not yet applied may report a position ahead of what Connect
      // consumed; it is reported once the seek took effect.
      if (o.seek == SeekState.CLEAN) {
        out.put(o.tp, new OffsetAndMetadata(o.position));
      }
    }
    return out;
  }

  @Override
  public void flush(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    // preCommit does the work; Connect calls flush only through SinkTask's default preCommit.
  }

  @Override
  public void close(Collection<TopicPartition> partitions) {
    int dropped = 0;
    for (TopicPartition tp : partitions) {
      Owned o = owned.remove(tp);
      if (o != null) {
        dropped += o.buffer.size();
        buffered -= o.buffer.size();
      }
    }
    if (buffered == 0) {
      oldestBufferedAt = -1;
    }
    log.info(
        "Tandem sink group '{}' closed {} ({} buffered records dropped, never written)",
        group,
        partitions,
        dropped);
  }

  @Override
  public final void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    owned.clear();
    buffered = 0;
    try {
      stopTask();
    } finally {
      try {
        if (store != null) {
          store.close();
        }
      } finally {
        if (logOffsets != null) {
          logOffsets.close();
        }
      }
    }
    log.info("Tandem sink group '{}' stopped: {} commits, {} conflicts", group, commits, conflicts);
  }

  /** Called by {@link #stop()} before the store closes: release what {@link #configure} made. */
  protected void stopTask() {}

  private void checkRunning() {
    if (stopped || failed) {
      throw new IllegalStateException(
          "this Tandem sink task is " + (stopped ? "stopped" : "failed") + "; restart it");
    }
  }

  private void handPendingSeeks() {
    for (Owned o : owned.values()) {
      if (o.seek == SeekState.PENDING) {
        context.offset(o.tp, o.position);
        o.seek = SeekState.HANDED;
      }
    }
  }

  /**
   * Commits every buffered record: one store commit (or one per partition where the store is not
   * atomic across partitions). Conflicting partitions are dropped and re-sought; the others are
   * committed again without them.
   */
  private void commitBuffered() {
    Capabilities caps = store.capabilities();
    List<Owned> pending =
        owned.values().stream().filter(o -> !o.buffer.isEmpty()).collect(Collectors.toList());
    int chunk = caps.atomicAcrossPartitions() ? caps.maxRangesPerCommit() : 1;
    for (int i = 0; i < pending.size(); i += chunk) {
      commitAll(new ArrayList<>(pending.subList(i, Math.min(pending.size(), i + chunk))));
    }
    buffered = 0;
    for (Owned o : owned.values()) {
      buffered += o.buffer.size();
    }
    oldestBufferedAt = buffered == 0 ? -1 : oldestBufferedAt;
  }

  private void commitAll(List<Owned> batch) {
    long deadline = System.nanoTime() + config.storeRetryTimeout().toNanos();
    long backoff = 100;
    while (!batch.isEmpty()) {
      List<OffsetRange> ranges = new ArrayList<>(batch.size());
      List<SinkRecord> records = new ArrayList<>();
      for (Owned o : batch) {
        ranges.add(new OffsetRange(o.partition, o.position, o.bufferedUntil));
        records.addAll(o.buffer);
      }
      try {
        store.commit(group, ranges, results(records));
        for (Owned o : batch) {
          o.drop(o.bufferedUntil);
        }
        commits++;
        log.debug("Tandem sink group '{}' committed {}", group, ranges);
        return;
      } catch (OffsetConflictException e) {
        conflicts++;
        List<Owned> lost = resolveConflict(batch, e);
        batch.removeAll(lost);
      } catch (StoreUnavailableException e) {
        if (System.nanoTime() > deadline) {
          throw new ConnectException(
              "Tandem store unavailable for "
                  + config.storeRetryTimeout().toMillis()
                  + " ms while committing group '"
                  + group
                  + "' "
                  + ranges
                  + "; nothing of it is acknowledged. The task fails; on restart it resumes from"
                  + " the stored positions.",
              e);
        }
        log.warn(
            "Tandem store unavailable committing group '{}' {}; retrying in {} ms: {}",
            group,
            ranges,
            backoff,
            e.getMessage());
        sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
        // The outcome of the failed commit may be unknown: the positions tell.
        batch.removeAll(settleUnknownOutcome(batch));
      } catch (ResultWriteException e) {
        throw new ConnectException(
            "Writing the results of group '"
                + group
                + "' "
                + ranges
                + " failed; nothing was committed: "
                + e.getCause(),
            e);
      }
    }
  }

  /** Drops and re-seeks the partitions another task moved; returns them. */
  private List<Owned> resolveConflict(List<Owned> batch, OffsetConflictException e) {
    Map<Partition, Owned> byPartition = new HashMap<>();
    batch.forEach(o -> byPartition.put(o.partition, o));
    List<Owned> lost = new ArrayList<>();
    for (OffsetConflictException.Conflict c : e.conflicts()) {
      Owned o = byPartition.get(c.partition());
      if (o != null) {
        lost.add(o);
      }
    }
    if (lost.isEmpty()) {
      // A conflict naming none of our ranges breaks the store's contract: never write on.
      throw new ConnectException("Tandem store reported a conflict on no range of this commit", e);
    }
    Map<Partition, Long> now =
        retrying(
            "re-reading positions after a conflict",
            () -> store.positions(group, lost.stream().map(o -> o.partition).toList()));
    Map<TopicPartition, Long> missing = new HashMap<>();
    for (Owned o : lost) {
      Long p = now.get(o.partition);
      int dropped = o.buffer.size();
      if (p == null) {
        missing.put(o.tp, o.position);
        continue;
      }
      log.warn(
          "Tandem sink group '{}': {} moved to {} by another task or an operator (this task"
              + " expected {}); dropped {} buffered records and re-seeking",
          group,
          o.tp,
          p,
          o.position,
          dropped);
      o.drop(p);
      o.seek = SeekState.PENDING;
    }
    if (!missing.isEmpty()) {
      // The positions were deleted (an offsets reset): start them again by the policy.
      Map<TopicPartition, Long> init = initialize(new ArrayList<>(missing.keySet()));
      for (Owned o : lost) {
        Long p = init.get(o.tp);
        if (p != null) {
          log.warn(
              "Tandem sink group '{}': the position of {} was deleted; dropped {} buffered records,"
                  + " restarting at {}",
              group,
              o.tp,
              o.buffer.size(),
              p);
          o.drop(p);
          o.seek = SeekState.PENDING;
        }
      }
    }
    return lost;
  }

  /**
   * After an outage the commit may have gone through: a partition whose position now equals its
   * range's end was committed (its buffer is done); one at the range's start was not (retry); any
   * other position is a conflict.
   */
  private List<Owned> settleUnknownOutcome(List<Owned> batch) {
    Map<Partition, Long> now;
    try {
      now = store.positions(group, batch.stream().map(o -> o.partition).toList());
    } catch (StoreUnavailableException e) {
      return List.of(); // still down: the next attempt decides
    }
    List<Owned> settled = new ArrayList<>();
    for (Owned o : batch) {
      Long p = now.get(o.partition);
      if (p != null && p == o.bufferedUntil && p != o.position) {
        log.info("Tandem sink group '{}': the commit of {} up to {} went through", group, o.tp, p);
        o.drop(p);
        settled.add(o);
      } else if (p == null || p != o.position) {
        conflicts++;
        o.drop(p == null ? o.position : p);
        o.seek = SeekState.PENDING;
        settled.add(o);
        log.warn(
            "Tandem sink group '{}': {} stands at {} after an outage; dropped buffered records",
            group,
            o.tp,
            p);
      }
    }
    return settled;
  }

  private <R> R retrying(String what, java.util.function.Supplier<R> call) {
    long deadline = System.nanoTime() + config.storeRetryTimeout().toNanos();
    long backoff = 100;
    while (true) {
      try {
        return call.get();
      } catch (StoreUnavailableException e) {
        if (System.nanoTime() > deadline) {
          throw new ConnectException(
              "Tandem store unavailable for "
                  + config.storeRetryTimeout().toMillis()
                  + " ms while "
                  + what
                  + " of group '"
                  + group
                  + "'",
              e);
        }
        log.warn("Tandem store unavailable while {}; retrying in {} ms", what, backoff);
        sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

  private static void sleep(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConnectException("interrupted while waiting for the store", e);
    }
  }

  /** Positions as this task knows them, for tests and logs. */
  final Map<TopicPartition, Long> knownPositions() {
    Map<TopicPartition, Long> out =
        new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
    owned.values().forEach(o -> out.put(o.tp, o.position));
    return out;
  }

  /** Commits made so far. */
  final long commits() {
    return commits;
  }

  /** Conflicts met so far. */
  final long conflicts() {
    return conflicts;
  }
}
