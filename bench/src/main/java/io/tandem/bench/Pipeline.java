package io.tandem.bench;

import io.tandem.kafka.Batch;
import io.tandem.kafka.TandemConsumer;
import io.tandem.spi.Guarantee;
import io.tandem.spi.Partition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * End-to-end runs over one topic: the Tandem consumer, the at-least-once baseline, a hand-written
 * transactional consumer (PostgreSQL) and the same upserts without Kafka. Partitions are assigned
 * explicitly (consumer c of C gets every partition p with p % C == c), so no rebalance is timed;
 * the subscribed variants ({@code tandem-subscribed}, {@code hand-written-subscribed}) subscribe to
 * the topic with Kafka's group management instead, as users run a consumer, so their time includes
 * joining the group.
 */
final class Pipeline {

  private static final Logger log = LoggerFactory.getLogger(Pipeline.class);
  private static final Duration RUN_TIMEOUT = Duration.ofMinutes(10);
  private static int seq;

  private final Kafka kafka;
  private final String topic;
  private final int partitions;
  private final Map<Integer, Long> ends;
  private final long records;
  private final int keys;

  Pipeline(Kafka kafka, String topic, int partitions, Map<Integer, Long> ends, int keys) {
    this.kafka = kafka;
    this.topic = topic;
    this.partitions = partitions;
    this.ends = Map.copyOf(ends);
    this.records = ends.values().stream().mapToLong(Long::longValue).sum();
    this.keys = keys;
  }

  private static synchronized String unique(String prefix) {
    return prefix + Long.toString(System.currentTimeMillis() % 100_000_000L, 36) + "_" + (++seq);
  }

  private List<Integer> share(int consumer, int consumers) {
    List<Integer> mine = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      if (p % consumers == consumer) {
        mine.add(p);
      }
    }
    return mine;
  }

  private long target(List<Integer> share) {
    return share.stream().mapToLong(ends::get).sum();
  }

  /** The batch's results: one row per record, keyed by the record key, the last one per key. */
  static List<Row> rows(Iterable<ConsumerRecord<String, String>> records) {
    // In key order: records of different partitions share keys, so consumers writing the same
    // keys in different orders deadlock on PostgreSQL (a hand-written consumer at 4 members did).
    // Every variant writes through here, so each takes row locks in one order.
    Map<String, Row> byKey = new java.util.TreeMap<>();
    for (ConsumerRecord<String, String> r : records) {
      byKey.put(r.key(), new Row(r.key(), r.value()));
    }
    return new ArrayList<>(byKey.values());
  }

  private Map<String, Object> consumerProperties(String group, int poll) {
    Map<String, Object> p = kafka.clientProperties();
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, poll);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return p;
  }

  /** Waits until {@code progress} reaches the records, sampling memory at 25, 50 and 100%. */
  private PipelineResult await(
      String store,
      String variant,
      int consumers,
      int poll,
      long t0,
      LongSupplier progress,
      LongSupplier commits,
      Latencies latencies,
      Memory memory,
      AtomicReference<Throwable> failure)
      throws InterruptedException {
    List<Long> heapAt = new ArrayList<>();
    List<Long> rssAt = new ArrayList<>();
    double[] milestones = {0.25, 0.5, 1.0};
    int next = 0;
    long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
    long done;
    long gcBeforeEnd = 0;
    long end = 0;
    CpuTicks cpuStart = CpuTicks.now();
    CpuTicks cpuEnd = null;
    while (true) {
      done = progress.getAsLong();
      if (done >= records) {
        end = System.nanoTime();
        cpuEnd = CpuTicks.now();
      }
      while (next < milestones.length && done >= (long) (records * milestones[next])) {
        long g0 = System.nanoTime();
        Memory.Snapshot s = memory.sampleAfterFullGc();
        if (end == 0) {
          gcBeforeEnd += System.nanoTime() - g0;
        }
        heapAt.add(s.heapAfterGc());
        rssAt.add(s.rssKb());
        next++;
      }
      if (done >= records) {
        break;
      }
      if (failure.get() != null) {
        throw new IllegalStateException(
            store + " " + variant + " failed after " + done + " records", failure.get());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            store + " " + variant + " timed out after " + done + " of " + records + " records");
      }
      Thread.sleep(5);
    }
    // The milestone GCs before the end paused the run: they are not the pipeline's time.
    double seconds = (end - t0 - gcBeforeEnd) / 1e9;
    long n = commits.getAsLong();
    PipelineResult r =
        new PipelineResult(
            store,
            variant,
            consumers,
            poll,
            done,
            seconds,
            latencies.percentileMillis(50),
            latencies.percentileMillis(99),
            n == 0 ? 0 : (double) done / n,
            memory.peakHeapAfterGc(),
            memory.peakRssKb(),
            heapAt,
            rssAt,
            CpuTicks.busyBetween(cpuStart, cpuEnd));
    log.info(
        "{} {} consumers={} poll={}: {} records in {} s = {} rec/s, commit p50 {} ms p99 {} ms,"
            + " machine CPU {}% busy",
        store,
        variant,
        consumers,
        poll,
        done,
        String.format("%.2f", seconds),
        String.format("%.0f", r.recordsPerSecond()),
        String.format("%.2f", r.p50Ms()),
        String.format("%.2f", r.p99Ms()),
        String.format("%.0f", 100 * r.machineBusy()));
    return r;
  }

  /** What a run's thread does; anything it throws fails the run. */
  private interface Body {
    void run() throws Exception;
  }

  /**
   * Starts a named thread running {@code body}; the first failure of any goes to {@code failure}.
   */
  private static void start(
      List<Thread> threads, String name, AtomicReference<Throwable> failure, Body body) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (Throwable e) {
                failure.compareAndSet(null, e);
              }
            },
            name);
    threads.add(t);
    t.start();
  }

  /** The Tandem consumer: each poll's results and ranges in one store commit. */
  <T> PipelineResult tandem(Backend<T> backend, int consumers, int poll) throws Exception {
    return tandem(backend, consumers, poll, false);
  }

  /**
   * The Tandem consumer, assigned its partitions or, with {@code subscribed}, subscribing to the
   * topic (variant {@code tandem-subscribed}).
   */
  <T> PipelineResult tandem(Backend<T> backend, int consumers, int poll, boolean subscribed)
      throws Exception {
    return tandem(backend, consumers, poll, subscribed, null);
  }

  /**
   * As {@link #tandem(Backend, int, int, boolean)}, with the consumer's {@code pipelined} option
   * set ({@code null}: the builder's default); a set option names the variant {@code ...-pipelined}
   * or {@code ...-serial}.
   */
  <T> PipelineResult tandem(
      Backend<T> backend, int consumers, int poll, boolean subscribed, Boolean pipelined)
      throws Exception {
    String group = unique("tg");
    String ns = unique("t");
    backend.prepare(ns, keys, partitions);
    CountingStore<T> store = new CountingStore<>(backend.store());
    long retriesBefore = backend.storeRetries();
    boolean keyed = store.capabilities().guarantee() == Guarantee.IDEMPOTENT;
    List<TandemConsumer<String, String, T>> running = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try (Memory memory = new Memory()) {
      long t0 = System.nanoTime();
      for (int c = 0; c < consumers; c++) {
        List<Partition> assigned = new ArrayList<>();
        share(c, consumers).forEach(p -> assigned.add(new Partition(topic, p)));
        TandemConsumer.Builder<String, String, T> b =
            TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
                .bootstrapServers(kafka.bootstrap)
                .group(group)
                .property(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, poll)
                .processor(
                    (Batch<String, String> batch, T handle) ->
                        backend.writer(ns, rows(batch.records())).write(handle));
        if (pipelined != null) {
          b.pipelined(pipelined);
        }
        if (subscribed) {
          b.topics(List.of(topic));
        } else {
          b.assign(assigned);
        }
        if (keyed) {
          b.keyedResults();
        }
        TandemConsumer<String, String, T> consumer = b.build();
        running.add(consumer);
        start(threads, "tandem-" + c, failure, consumer::run);
      }
      PipelineResult r =
          await(
              backend.name(),
              (subscribed ? "tandem-subscribed" : "tandem")
                  + (pipelined == null ? "" : pipelined ? "-pipelined" : "-serial"),
              consumers,
              poll,
              t0,
              store.committed::get,
              store.commits::get,
              store.latencies,
              memory,
              failure);
      long n = Math.max(1, store.commits.get());
      long retries = backend.storeRetries();
      double conflicts = (store.conflicts.get() + store.failures.get()) / (double) n;
      log.info(
          "{} tandem consumers={}: {} commits, {} conflicts, {} other failures, store retries {}",
          backend.name(),
          consumers,
          store.commits.get(),
          store.conflicts.get(),
          store.failures.get(),
          retries < 0 ? "not counted" : String.valueOf(retries - retriesBefore));
      return r.withContention(
          conflicts, retries < 0 ? Double.NaN : (retries - retriesBefore) / (double) n);
    } finally {
      running.forEach(TandemConsumer::close);
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(60));
      }
    }
  }

  /** One plain consumer loop: poll, {@code work}, commit offsets to Kafka, until its share. */
  private interface Work {
    void run(ConsumerRecords<String, String> polled, KafkaConsumer<String, String> consumer)
        throws Exception;

    /** Subscribed runs: partitions the group gave this consumer (seek them here). */
    default void assigned(
        KafkaConsumer<String, String> consumer, Collection<TopicPartition> partitions) {}
  }

  private PipelineResult plainConsumers(
      String store,
      String variant,
      int consumers,
      int poll,
      boolean commitToKafka,
      java.util.function.IntFunction<Work> work,
      Latencies latencies)
      throws Exception {
    return plainConsumers(store, variant, consumers, poll, commitToKafka, false, work, latencies);
  }

  /**
   * Plain consumers; {@code subscribed}: each subscribes to the topic (its work's {@link
   * Work#assigned} seeks what the group gives it) and runs until all consumers together have
   * processed every record.
   */
  private PipelineResult plainConsumers(
      String store,
      String variant,
      int consumers,
      int poll,
      boolean commitToKafka,
      boolean subscribed,
      java.util.function.IntFunction<Work> work,
      Latencies latencies)
      throws Exception {
    String group = unique("pg");
    AtomicLong processed = new AtomicLong();
    AtomicLong commits = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    List<Boolean> stop = new CopyOnWriteArrayList<>();
    try (Memory memory = new Memory()) {
      long t0 = System.nanoTime();
      for (int c = 0; c < consumers; c++) {
        List<Integer> mine = share(c, consumers);
        long target = target(mine);
        Work w = work.apply(c);
        start(
            threads,
            variant + "-" + c,
            failure,
            () -> {
              try (KafkaConsumer<String, String> consumer =
                  new KafkaConsumer<>(
                      consumerProperties(group, poll),
                      new StringDeserializer(),
                      new StringDeserializer())) {
                if (subscribed) {
                  consumer.subscribe(
                      List.of(topic),
                      new ConsumerRebalanceListener() {
                        @Override
                        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                          // Every poll is committed before the next: nothing is pending.
                        }

                        @Override
                        public void onPartitionsAssigned(Collection<TopicPartition> given) {
                          w.assigned(consumer, given);
                        }
                      });
                } else {
                  List<TopicPartition> tps = new ArrayList<>();
                  mine.forEach(p -> tps.add(new TopicPartition(topic, p)));
                  consumer.assign(tps);
                }
                long own = 0;
                while ((subscribed ? processed.get() < records : own < target) && stop.isEmpty()) {
                  ConsumerRecords<String, String> polled = consumer.poll(Duration.ofMillis(500));
                  if (polled.isEmpty()) {
                    continue;
                  }
                  long s = System.nanoTime();
                  w.run(polled, consumer);
                  if (commitToKafka) {
                    Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
                    for (TopicPartition tp : polled.partitions()) {
                      offsets.put(tp, new OffsetAndMetadata(consumer.position(tp)));
                    }
                    consumer.commitSync(offsets);
                  }
                  latencies.add(System.nanoTime() - s);
                  commits.incrementAndGet();
                  own += polled.count();
                  processed.addAndGet(polled.count());
                }
              }
            });
      }
      return await(
          store,
          variant,
          consumers,
          poll,
          t0,
          processed::get,
          commits::get,
          latencies,
          memory,
          failure);
    } finally {
      stop.add(Boolean.TRUE);
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(60));
      }
    }
  }

  /** At-least-once: a plain consumer writes the results, then commits its offsets to Kafka. */
  <T> PipelineResult atLeastOnce(Backend<T> backend, int consumers, int poll) throws Exception {
    String ns = unique("a");
    backend.prepare(ns, keys, partitions);
    return plainConsumers(
        backend.name(),
        "at-least-once",
        consumers,
        poll,
        true,
        c -> (polled, consumer) -> backend.write(ns, rows(polled), Map.of()),
        new Latencies());
  }

  /**
   * PostgreSQL by hand, no Tandem: one transaction per poll with the batched upserts and a
   * conditional {@code UPDATE ... WHERE pos = from} per partition (count 1 required), then commit.
   * Offsets are never committed to Kafka; each consumer seeks to its stored positions.
   */
  PipelineResult handWritten(PostgresBackend backend, int consumers, int poll) throws Exception {
    return handWritten(backend, consumers, poll, false);
  }

  /**
   * The hand-written consumer; with {@code subscribed} it subscribes to the topic and, on each
   * assignment, reads the stored positions of the partitions it was given and seeks to them (what a
   * hand-written transactional consumer must do under group management).
   */
  PipelineResult handWritten(PostgresBackend backend, int consumers, int poll, boolean subscribed)
      throws Exception {
    String ns = unique("h");
    String group = unique("hg");
    backend.prepare(ns, keys, partitions);
    try (Connection c = backend.connect();
        java.sql.Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS bench_hand_offsets (grp text, topic text, part int, pos"
              + " bigint NOT NULL, PRIMARY KEY (grp, topic, part))");
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO bench_hand_offsets (grp, topic, part, pos) VALUES (?, ?, ?, 0) ON"
                  + " CONFLICT DO NOTHING")) {
        for (int p = 0; p < partitions; p++) {
          ps.setString(1, group);
          ps.setString(2, topic);
          ps.setInt(3, p);
          ps.addBatch();
        }
        ps.executeBatch();
      }
      c.commit();
    }
    return plainConsumers(
        backend.name(),
        subscribed ? "hand-written-subscribed" : "hand-written",
        consumers,
        poll,
        false,
        subscribed,
        c -> new HandWritten(backend, ns, group),
        new Latencies());
  }

  /** The hand-written transactional consumer's work. */
  private static final class HandWritten implements Work {
    private final PostgresBackend backend;
    private final String ns;
    private final String group;
    private final Map<TopicPartition, Long> from = new LinkedHashMap<>();

    HandWritten(PostgresBackend backend, String ns, String group) {
      this.backend = backend;
      this.ns = ns;
      this.group = group;
    }

    @Override
    public void assigned(
        KafkaConsumer<String, String> consumer, Collection<TopicPartition> partitions) {
      try {
        Connection conn = backend.ownConnection();
        try (PreparedStatement ps =
            conn.prepareStatement(
                "SELECT pos FROM bench_hand_offsets WHERE grp = ? AND topic = ? AND part = ?")) {
          for (TopicPartition tp : partitions) {
            ps.setString(1, group);
            ps.setString(2, tp.topic());
            ps.setInt(3, tp.partition());
            try (java.sql.ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                throw new IllegalStateException("no stored position for " + tp);
              }
              long pos = rs.getLong(1);
              consumer.seek(tp, pos);
              from.put(tp, pos);
            }
          }
        }
        conn.commit();
      } catch (SQLException e) {
        throw new IllegalStateException("reading positions", e);
      }
    }

    @Override
    public void run(ConsumerRecords<String, String> polled, KafkaConsumer<String, String> consumer)
        throws Exception {
      if (from.isEmpty()) {
        for (TopicPartition tp : consumer.assignment()) {
          from.put(tp, 0L);
        }
      }
      Connection conn = backend.ownConnection();
      try {
        backend.upsertRows(conn, ns, rows(polled));
        List<TopicPartition> tps = new ArrayList<>(polled.partitions());
        try (PreparedStatement ps =
            conn.prepareStatement(
                "UPDATE bench_hand_offsets SET pos = ? WHERE grp = ? AND topic = ? AND part"
                    + " = ? AND pos = ?")) {
          for (TopicPartition tp : tps) {
            ps.setLong(1, consumer.position(tp));
            ps.setString(2, group);
            ps.setString(3, tp.topic());
            ps.setInt(4, tp.partition());
            ps.setLong(5, from.get(tp));
            ps.addBatch();
          }
          int[] counts = ps.executeBatch();
          for (int i = 0; i < counts.length; i++) {
            if (counts[i] != 1) {
              throw new IllegalStateException("offset conflict on " + tps.get(i));
            }
          }
        }
        conn.commit();
        for (TopicPartition tp : tps) {
          from.put(tp, consumer.position(tp));
        }
      } catch (SQLException | RuntimeException e) {
        conn.rollback();
        throw e;
      }
    }
  }

  /**
   * The same upserts with no Kafka: each of {@code consumers} threads writes the rows of its
   * partitions' records, {@code batch} records per durable write (reported under {@code poll}, the
   * point it is compared at). Batches are cut as a Kafka poll delivers them: {@code batch}
   * consecutive records of one partition, the partitions in turn. (Cutting them from the records in
   * production order instead gave each batch 1 000 adjacent keys where a poll has keys 12 apart:
   * not the writes the Kafka variants make.)
   */
  <T> PipelineResult noKafka(Backend<T> backend, int consumers, int poll, int batch)
      throws Exception {
    String ns = unique("n");
    backend.prepare(ns, keys, partitions);
    AtomicLong processed = new AtomicLong();
    AtomicLong commits = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Latencies latencies = new Latencies();
    List<Thread> threads = new ArrayList<>();
    try (Memory memory = new Memory()) {
      long t0 = System.nanoTime();
      for (int c = 0; c < consumers; c++) {
        List<Integer> mine = share(c, consumers);
        start(
            threads,
            "no-kafka-" + c,
            failure,
            () -> {
              Map<Integer, Long> next = new LinkedHashMap<>();
              mine.forEach(p -> next.put(p, 0L));
              List<ConsumerRecord<String, String>> pending = new ArrayList<>(batch);
              while (!next.isEmpty()) {
                for (Integer p : List.copyOf(next.keySet())) {
                  long from = next.get(p);
                  long until = Math.min(ends.get(p), from + batch);
                  for (long o = from; o < until; o++) {
                    // Partition p's record at offset o is record o * partitions + p.
                    long i = o * partitions + p;
                    pending.add(
                        new ConsumerRecord<>(topic, p, o, Kafka.key(i, keys), Kafka.value(i)));
                  }
                  if (!pending.isEmpty()) {
                    flush(backend, ns, pending, latencies, commits, processed);
                  }
                  if (until >= ends.get(p)) {
                    next.remove(p);
                  } else {
                    next.put(p, until);
                  }
                }
              }
            });
      }
      return await(
          backend.name(),
          "no-kafka",
          consumers,
          poll,
          t0,
          processed::get,
          commits::get,
          latencies,
          memory,
          failure);
    } finally {
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(60));
      }
    }
  }

  private static <T> void flush(
      Backend<T> backend,
      String ns,
      List<ConsumerRecord<String, String>> pending,
      Latencies latencies,
      AtomicLong commits,
      AtomicLong processed)
      throws Exception {
    long s = System.nanoTime();
    backend.write(ns, rows(pending), Map.of());
    latencies.add(System.nanoTime() - s);
    commits.incrementAndGet();
    processed.addAndGet(pending.size());
    pending.clear();
  }
}
