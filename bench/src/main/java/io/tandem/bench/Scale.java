package io.tandem.bench;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.testing.ForkedJvm;
import io.tandem.testing.PostgresServer;
import io.tandem.testing.RedisServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scale run ({@code bench/run.sh -Dbench.mode=scale}): one topic of many partitions, many
 * groups consuming all of it, each group with one member in each of several consumer JVMs, all
 * sharing one store. Mid-run one JVM is SIGKILLed (and later restarted): every group rebalances at
 * once. Measures throughput, commit latency, takeover time, store size and the workers' heap,
 * checks exactly-once per group and partition, and writes {@code SCALE.md}. Never run by the test
 * suite.
 */
final class Scale {

  private static final Logger log = LoggerFactory.getLogger(Scale.class);

  private Scale() {}

  /** The run's sizes and settings, from {@code bench.scale.*} system properties. */
  record Settings(
      int partitions,
      int jvms,
      int groups,
      long records,
      int poll,
      int sessionMs,
      int pool,
      String heap,
      double killAt,
      int restartSeconds,
      int heapSeconds,
      Duration timeout,
      Duration stall) {

    static Settings fromProperties() {
      Settings s =
          new Settings(
              Integer.getInteger("bench.scale.partitions", 1000),
              Integer.getInteger("bench.scale.jvms", 8),
              Integer.getInteger("bench.scale.groups", 50),
              Long.getLong("bench.scale.records", 50_000),
              Integer.getInteger("bench.scale.poll", 500),
              Integer.getInteger("bench.scale.session.ms", 10_000),
              Integer.getInteger("bench.scale.pool", 8),
              System.getProperty("bench.scale.heap", "256m"),
              Double.parseDouble(System.getProperty("bench.scale.kill.at", "0.4")),
              Integer.getInteger("bench.scale.restart.seconds", 30),
              Integer.getInteger("bench.scale.heap.seconds", 10),
              Duration.ofMinutes(Long.getLong("bench.scale.timeout.minutes", 30)),
              Duration.ofSeconds(Long.getLong("bench.scale.stall.seconds", 120)));
      if (s.partitions < 1 || s.jvms < 1 || s.groups < 1 || s.records < s.partitions) {
        throw new IllegalArgumentException(
            "bench.scale.partitions, .jvms and .groups must be positive and bench.scale.records at"
                + " least the partitions, got "
                + s);
      }
      if (s.killAt < 0 || s.killAt >= 1 || (s.killAt > 0 && s.jvms < 2)) {
        throw new IllegalArgumentException(
            "bench.scale.kill.at is a fraction in [0, 1) (0: no kill) and a kill needs 2 JVMs, got "
                + s.killAt
                + " with "
                + s.jvms
                + " JVMs");
      }
      return s;
    }
  }

  /** Exactly-once, checked per group and partition against the topic's end offsets. */
  record Check(
      int groupsExact, long missing, long duplicated, int partitionsWrong, int positionsWrong) {
    boolean passed() {
      return partitionsWrong == 0 && positionsWrong == 0 && missing == 0 && duplicated == 0;
    }
  }

  /** One store's run. */
  record Result(
      String store,
      String server,
      Settings settings,
      String killed,
      double killProgress,
      long wallMillis,
      Map<String, String> sizeStart,
      Map<String, String> sizeEnd,
      ScaleAnalysis analysis,
      Check check,
      String loadAtStart,
      String loadAtEnd,
      String incomplete) {}

  /**
   * Compares each group's counters with the topic: count = end offset and offset sum = 0 + ... +
   * (end - 1) per partition (the topic's offsets start at 0, no transaction markers).
   */
  static Check verify(
      Map<Integer, Long> ends,
      Map<String, Map<Integer, long[]>> counters,
      Map<String, Map<Integer, Long>> positions) {
    int exact = 0;
    long missing = 0;
    long duplicated = 0;
    int wrong = 0;
    int wrongPositions = 0;
    for (Map.Entry<String, Map<Integer, long[]>> g : counters.entrySet()) {
      boolean ok = true;
      for (Map.Entry<Integer, Long> e : ends.entrySet()) {
        long end = e.getValue();
        long[] v = g.getValue().getOrDefault(e.getKey(), new long[2]);
        if (v[0] < end) {
          missing += end - v[0];
        } else if (v[0] > end) {
          duplicated += v[0] - end;
        }
        if (v[0] != end || v[1] != end * (end - 1) / 2) {
          wrong++;
          ok = false;
        }
        Long pos = positions.getOrDefault(g.getKey(), Map.of()).get(e.getKey());
        if (pos == null || pos != end) {
          wrongPositions++;
          ok = false;
        }
      }
      if (ok) {
        exact++;
      }
    }
    return new Check(exact, missing, duplicated, wrong, wrongPositions);
  }

  /**
   * Runs the scale run on every store of {@code bench.scale.stores} and writes {@code SCALE.md}.
   *
   * @param out the report's directory
   * @throws Exception if a run cannot start
   */
  static void run(Path out) throws Exception {
    Settings s = Settings.fromProperties();
    List<String> stores = Bench.list("bench.scale.stores", "postgres,redis");
    Instant start = Instant.now();
    Map<String, String> header = new LinkedHashMap<>();
    header.put("date (UTC)", start.truncatedTo(ChronoUnit.SECONDS).toString());
    header.put("machine", Bench.machine());
    header.put(
        "command",
        "`" + System.getProperty("bench.command", "bench/run.sh -Dbench.mode=scale") + "`");
    List<Result> results = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    try (Kafka kafka = Kafka.start(System.getProperty("bench.broker.heap", "768m"))) {
      header.put("Kafka", kafka.description);
      String topic = "scale-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
      Map<Integer, Long> ends = kafka.produce(topic, s.partitions, s.records, 10_000);
      for (String store : stores) {
        try {
          results.add(runOne(store, s, kafka, topic, ends, out));
        } catch (Exception e) {
          log.error("scale run on {} failed", store, e);
          failures.add(store + ": " + e);
        }
      }
    } finally {
      header.put("wall time", ChronoUnit.SECONDS.between(start, Instant.now()) + " s");
      Files.createDirectories(out);
      Files.writeString(
          out.resolve("SCALE.md"),
          ScaleReport.markdown(header, results, failures),
          StandardCharsets.UTF_8);
      log.info("wrote {}", out.resolve("SCALE.md"));
    }
  }

  private static ScaleStore open(String store, List<AutoCloseable> servers) {
    switch (store) {
      case "postgres" -> {
        PostgresServer pg = PostgresServer.shared();
        return new ScaleStore.Postgres(pg.jdbcUrl(), pg.user(), pg.password())
            .describedAs("PostgreSQL (" + pg.description() + "; fsync and synchronous_commit on)");
      }
      case "redis" -> {
        RedisServer r = RedisServer.startPrivate("always");
        servers.add(r);
        return new ScaleStore.Redis(
            r.host(), r.port(), r.description() + ", appendonly yes, appendfsync always");
      }
      default ->
          throw new IllegalArgumentException(
              "bench.scale.stores takes postgres and redis, got '" + store + "'");
    }
  }

  private static Result runOne(
      String storeName, Settings s, Kafka kafka, String topic, Map<Integer, Long> ends, Path out)
      throws Exception {
    List<AutoCloseable> servers = new ArrayList<>();
    ScaleStore store = open(storeName, servers);
    Path dir = Path.of("target", "scale", storeName + "-" + System.currentTimeMillis());
    Files.createDirectories(dir);
    List<String> groups = new ArrayList<>();
    for (int g = 0; g < s.groups; g++) {
      groups.add("scale-" + storeName + "-g" + g);
    }
    String loadStart = Bench.loadAverage();
    store.prepare();
    Map<String, String> sizeStart = store.size();
    Map<String, Path> files = new LinkedHashMap<>();
    List<ForkedJvm> forks = new ArrayList<>();
    String killed = null;
    long killTime = 0;
    double killProgress = Double.NaN;
    long total = s.records * s.groups;
    long t0 = System.currentTimeMillis();
    try {
      for (int i = 0; i < s.jvms; i++) {
        forks.add(fork(storeName + "-jvm" + i, store, s, kafka, topic, groups, dir, files));
      }
      for (ForkedJvm f : forks) {
        if (f.await("started", Duration.ofMinutes(3)).isEmpty()) {
          throw new IllegalStateException("scale worker " + f + " did not start; see " + dir);
        }
      }
      log.info(
          "{}: {} workers started in {} ms", storeName, s.jvms, System.currentTimeMillis() - t0);
      long deadline = t0 + s.timeout.toMillis();
      ForkedJvm victim = null;
      boolean restarted = false;
      String incomplete = null;
      long lastDone = -1;
      long lastChange = System.currentTimeMillis();
      while (true) {
        Map<String, Long> progress;
        try {
          progress = store.progress(groups);
        } catch (Exception e) {
          // Reading progress is the run's own probe: a slow answer is not the workers' failure.
          if (System.currentTimeMillis() > deadline) {
            throw e;
          }
          log.warn("{}: cannot read progress ({}); trying again", storeName, e.toString());
          TimeUnit.SECONDS.sleep(2);
          continue;
        }
        long done = progress.values().stream().mapToLong(Long::longValue).sum();
        if (done != lastDone) {
          lastDone = done;
          lastChange = System.currentTimeMillis();
        }
        boolean all = progress.values().stream().allMatch(v -> v >= s.records);
        for (ForkedJvm f : forks) {
          if (f != victim && f.event("failed").isPresent()) {
            throw new IllegalStateException(f + " " + f.event("failed").get() + "; see " + dir);
          }
        }
        if (all) {
          break;
        }
        long now = System.currentTimeMillis();
        if (victim == null && s.killAt > 0 && done >= s.killAt * total) {
          victim = forks.get(0);
          killed = storeName + "-jvm0";
          killProgress = (double) done / total;
          killTime = System.currentTimeMillis();
          victim.kill();
          log.info(
              "{}: SIGKILLed {} at {} % of the records",
              storeName, victim, String.format("%.0f", 100 * killProgress));
        }
        if (victim != null
            && !restarted
            && s.restartSeconds >= 0
            && now >= killTime + TimeUnit.SECONDS.toMillis(s.restartSeconds)) {
          forks.add(
              fork(storeName + "-jvm0-restarted", store, s, kafka, topic, groups, dir, files));
          restarted = true;
          log.info("{}: restarted {}", storeName, victim.name());
        }
        if (now > deadline
            || (now - lastChange > s.stall.toMillis()
                && (restarted || victim == null || s.restartSeconds < 0))) {
          // Stop and check what the store holds: a run that loses records is reported, not hidden.
          incomplete =
              (now > deadline ? "timed out" : "no progress for " + s.stall.toSeconds() + " s")
                  + " at "
                  + done
                  + " of "
                  + total
                  + " records";
          log.error("{}: {}; stopping the workers and checking the store", storeName, incomplete);
          break;
        }
        log.info("{}: {} of {} records ({} s)", storeName, done, total, (now - t0) / 1000);
        TimeUnit.SECONDS.sleep(2);
      }
      long wall = System.currentTimeMillis() - t0;
      String loadEnd = Bench.loadAverage();
      stopAll(forks);
      Map<String, Map<Integer, Long>> positions = new LinkedHashMap<>();
      try (OffsetStore<Object> reader = store.open(2)) {
        Set<Partition> all = new HashSet<>();
        ends.keySet().forEach(p -> all.add(new Partition(topic, p)));
        for (String g : groups) {
          Map<Integer, Long> m = new LinkedHashMap<>();
          reader.positions(g, all).forEach((p, pos) -> m.put(p.partition(), pos));
          positions.put(g, m);
        }
      }
      Map<String, Map<Integer, long[]>> counters = store.counters(groups);
      Check check = verify(ends, counters, positions);
      if (!check.passed()) {
        for (String g : groups) {
          for (Map.Entry<Integer, Long> e : ends.entrySet()) {
            long[] v = counters.get(g).getOrDefault(e.getKey(), new long[2]);
            Long pos = positions.get(g).get(e.getKey());
            if (v[0] != e.getValue() || pos == null || pos.longValue() != e.getValue()) {
              log.error(
                  "{} {} partition {}: end {}, results count {} sum {}, stored position {}",
                  storeName,
                  g,
                  e.getKey(),
                  e.getValue(),
                  v[0],
                  v[1],
                  pos);
            }
          }
        }
      }
      Map<String, String> sizeEnd = store.size();
      Map<String, ScaleLog.Parsed> parsed = new LinkedHashMap<>();
      for (Map.Entry<String, Path> e : files.entrySet()) {
        parsed.put(e.getKey(), ScaleLog.parse(Files.readAllLines(e.getValue())));
      }
      ScaleAnalysis analysis = ScaleAnalysis.of(parsed, killed, killTime, s.records);
      log.info(
          "{}: {} rec/s, commit p50 {} ms p99 {} ms, exactly-once {}",
          storeName,
          String.format("%.0f", analysis.recordsPerSecond()),
          String.format("%.1f", analysis.p50Ms()),
          String.format("%.1f", analysis.p99Ms()),
          check.passed() ? "passed" : "FAILED " + check);
      return new Result(
          storeName,
          store.server(),
          s,
          killed,
          killProgress,
          wall,
          sizeStart,
          sizeEnd,
          analysis,
          check,
          loadStart,
          loadEnd,
          incomplete);
    } finally {
      forks.forEach(ForkedJvm::close);
      for (AutoCloseable c : servers) {
        c.close();
      }
    }
  }

  private static ForkedJvm fork(
      String name,
      ScaleStore store,
      Settings s,
      Kafka kafka,
      String topic,
      List<String> groups,
      Path dir,
      Map<String, Path> files) {
    Path file = dir.resolve(name + ".events").toAbsolutePath();
    files.put(name, file);
    List<String> args = new ArrayList<>(store.workerArgs());
    args.addAll(
        List.of(
            "--name=" + name,
            "--bootstrap=" + kafka.bootstrap,
            "--topic=" + topic,
            "--groups=" + String.join(",", groups),
            "--out=" + file,
            "--poll=" + s.poll,
            "--session=" + s.sessionMs,
            "--pool=" + s.pool,
            "--heapSeconds=" + s.heapSeconds));
    return ForkedJvm.builder(name, ScaleWorker.class.getName())
        .args(args)
        .jvmOptions(List.of("-Xmx" + s.heap))
        .logDir(dir)
        .maxLifetime(s.timeout.plusMinutes(5))
        .start();
  }

  private static void stopAll(List<ForkedJvm> forks) throws InterruptedException {
    for (ForkedJvm f : forks) {
      if (f.alive()) {
        f.send(io.tandem.testing.ForkChannel.STOP);
      }
    }
    for (ForkedJvm f : forks) {
      if (f.alive() && !f.stop(Duration.ofSeconds(90))) {
        log.warn("scale worker {} did not stop cleanly", f);
      }
    }
  }
}
