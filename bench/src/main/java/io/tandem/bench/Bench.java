package io.tandem.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.util.Statistics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the commit microbenchmarks and the end-to-end pipelines, then writes {@code REPORT.md} and
 * {@code report.svg}. Configured by system properties (see {@code bench/README.md}); run by {@code
 * bench/run.sh}, never by the test suite.
 */
public final class Bench {

  private static final Logger log = LoggerFactory.getLogger(Bench.class);
  private static final int PARTITIONS = 12;

  private Bench() {}

  static List<String> list(String property, String def) {
    String v = System.getProperty(property, def).trim();
    if (v.isEmpty()) {
      return List.of();
    }
    return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  static List<Integer> ints(String property, String def) {
    return list(property, def).stream().map(Integer::valueOf).toList();
  }

  /**
   * Runs everything selected by the system properties and writes the report.
   *
   * @param args none
   * @throws Exception if a benchmark fails
   */
  public static void main(String[] args) throws Exception {
    if ("scale".equals(System.getProperty("bench.mode"))) {
      // The scale run (issue 16): its own report, SCALE.md, beside REPORT.md.
      try {
        Scale.run(
            Path.of(
                System.getProperty(
                    "bench.out", Files.exists(Path.of("bench", "pom.xml")) ? "bench" : ".")));
      } finally {
        Backends.closeAll();
      }
      System.exit(0);
    }
    Instant start = Instant.now();
    // The MongoDB emulator last: see the mongo microbenchmarks below.
    List<String> stores = new ArrayList<>(list("bench.stores", String.join(",", Backends.ALL)));
    List<String> emulated = stores.stream().filter(Bench::mongo).toList();
    stores.removeAll(emulated);
    stores.addAll(emulated);
    for (String s : stores) {
      if (!Backends.ALL.contains(s)) {
        throw new IllegalArgumentException(
            "unknown store '" + s + "' in bench.stores; known: " + String.join(",", Backends.ALL));
      }
    }
    Path out =
        Path.of(
            System.getProperty(
                "bench.out", Files.exists(Path.of("bench", "pom.xml")) ? "bench" : "."));
    Map<String, String> header = new LinkedHashMap<>();
    header.put("date (UTC)", start.truncatedTo(ChronoUnit.SECONDS).toString());
    header.put("machine", machine());
    header.put("load average at start (1/5/15 min)", loadAverage());
    header.put(
        "JDK",
        System.getProperty("java.vm.name")
            + " "
            + System.getProperty("java.runtime.version")
            + " ("
            + System.getProperty("java.vendor")
            + "), benchmark JVM heap max "
            + Runtime.getRuntime().maxMemory() / (1024 * 1024)
            + " MB");
    header.put(
        "versions", "Tandem 0.1.0-SNAPSHOT, kafka-clients " + Kafka.version() + ", JMH 1.37");
    header.put(
        "command",
        "`"
            + System.getProperty(
                "bench.command", "bench/run.sh (java -cp ... io.tandem.bench.Bench)")
            + "`");
    List<String> notes = new ArrayList<>();
    List<MicroResult> micro = new ArrayList<>();
    List<PipelineResult> pipeline = new ArrayList<>();
    Map<String, String> servers = new LinkedHashMap<>();
    try {
      if (Boolean.parseBoolean(System.getProperty("bench.micro", "true"))) {
        List<String> others = stores.stream().filter(x -> !mongo(x)).toList();
        if (!others.isEmpty()) {
          micro.addAll(micro(others, list("bench.micro.results", "")));
        }
        notes.add(
            "Microbenchmarks: JMH 1.37, Mode.SampleTime, one thread, forks(0) (the servers start"
                + " once per JVM and are shared by every benchmark), warm-up "
                + System.getProperty("bench.micro.warmup", "1")
                + " × 1 s, measurement "
                + System.getProperty("bench.micro.iterations", "3")
                + " × "
                + System.getProperty("bench.micro.seconds", "1")
                + " s per cell. Commits/s = 1000 / mean latency (ms).");
        // The pipelines start each store again, alone.
        Backends.closeAll();
      }
      if (Boolean.parseBoolean(System.getProperty("bench.pipeline", "true"))) {
        pipeline.addAll(pipeline(stores, header, notes));
      }
      if (Boolean.parseBoolean(System.getProperty("bench.micro", "true")) && !emulated.isEmpty()) {
        // Last: the emulator, once started, keeps a core partly busy until the JVM exits, which
        // would slow every store measured after it. It needs seconds for a transaction of 1000
        // upserts: smaller cells only.
        List<String> r = list("bench.micro.results.mongo", "0,100");
        micro.addAll(micro(emulated, r));
        notes.add(
            "mongo microbenchmarks: results "
                + r
                + " only (bench.micro.results.mongo), run last: the emulator keeps part of a core"
                + " busy once started.");
      }
      for (String s : stores) {
        servers.put(s, Backends.server(s) != null ? Backends.server(s) : Backends.get(s).server());
      }
    } finally {
      header.put("load average at end (1/5/15 min)", loadAverage());
      header.put("VmHWM of the benchmark JVM at end", Memory.statusKb("VmHWM") / 1024 + " MB");
      header.put("wall time", ChronoUnit.SECONDS.between(start, Instant.now()) + " s");
      if (emulated.stream()
          .anyMatch(m -> servers.containsKey(m) && servers.get(m).startsWith("EMULATOR"))) {
        notes.add(
            "MongoDB: no real MongoDB runs on this machine; the numbers are an emulator's and say"
                + " nothing about MongoDB. Set TANDEM_MONGODB_URI to measure a real one.");
      }
      Report report = new Report(header, servers, micro, pipeline, notes);
      Files.createDirectories(out);
      Files.writeString(out.resolve("REPORT.md"), report.markdown(), StandardCharsets.UTF_8);
      Files.writeString(out.resolve("report.svg"), report.svg(), StandardCharsets.UTF_8);
      log.info("wrote {} and {}", out.resolve("REPORT.md"), out.resolve("report.svg"));
      Backends.closeAll();
    }
    System.exit(0);
  }

  private static List<MicroResult> micro(List<String> stores, List<String> results)
      throws RunnerException {
    ChainedOptionsBuilder o =
        new OptionsBuilder()
            .include(CommitBench.class.getName() + "\\.")
            .forks(0)
            .threads(1)
            .warmupIterations(Integer.getInteger("bench.micro.warmup", 1))
            .warmupTime(TimeValue.seconds(1))
            .measurementIterations(Integer.getInteger("bench.micro.iterations", 3))
            .measurementTime(TimeValue.seconds(Long.getLong("bench.micro.seconds", 1)))
            .timeout(TimeValue.minutes(2))
            .shouldFailOnError(true)
            .param("store", stores.toArray(String[]::new));
    List<String> partitions = list("bench.micro.partitions", "");
    if (!partitions.isEmpty()) {
      o.param("partitions", partitions.toArray(String[]::new));
    }
    if (!results.isEmpty()) {
      o.param("results", results.toArray(String[]::new));
    }
    Collection<RunResult> runs = new Runner(o.build()).run();
    Map<String, Statistics[]> cells = new LinkedHashMap<>();
    for (RunResult r : runs) {
      String key =
          r.getParams().getParam("store")
              + "/"
              + r.getParams().getParam("partitions")
              + "/"
              + r.getParams().getParam("results");
      Statistics[] pair = cells.computeIfAbsent(key, k -> new Statistics[2]);
      boolean tandem = r.getParams().getBenchmark().endsWith(".tandem");
      pair[tandem ? 0 : 1] = r.getPrimaryResult().getStatistics();
    }
    List<MicroResult> out = new ArrayList<>();
    for (String store : stores) {
      for (Map.Entry<String, Statistics[]> e : cells.entrySet()) {
        String[] k = e.getKey().split("/");
        if (!k[0].equals(store) || e.getValue()[0] == null || e.getValue()[1] == null) {
          continue;
        }
        Statistics t = e.getValue()[0];
        Statistics p = e.getValue()[1];
        out.add(
            new MicroResult(
                store,
                Integer.parseInt(k[1]),
                Integer.parseInt(k[2]),
                t.getMean(),
                t.getPercentile(50),
                t.getPercentile(99),
                t.getN(),
                p.getMean(),
                p.getPercentile(50),
                p.getPercentile(99),
                p.getN()));
      }
    }
    out.sort(
        java.util.Comparator.comparing((MicroResult m) -> stores.indexOf(m.store()))
            .thenComparingInt(MicroResult::partitions)
            .thenComparingInt(MicroResult::results));
    return out;
  }

  private static List<PipelineResult> pipeline(
      List<String> stores, Map<String, String> header, List<String> notes) throws Exception {
    long records = Long.getLong("bench.records", 1_000_000);
    int keys = Integer.getInteger("bench.keys", 10_000);
    List<Integer> polls = ints("bench.polls", "100,1000,10000");
    List<Integer> consumers = ints("bench.consumers", "1,2,4");
    List<String> fullSweep = list("bench.sweep.stores", "postgres");
    List<Integer> reducedPolls = ints("bench.reduced.polls", "1000");
    List<Integer> reducedConsumers = ints("bench.reduced.consumers", "1,2,4");
    int repeat = Integer.getInteger("bench.repeat", 3);
    if (repeat > 1) {
      notes.add(
          "At max.poll.records "
              + Report.REFERENCE_POLL
              + " with 1 and 2 consumers each variant ran "
              + repeat
              + " times, interleaved (tandem, at-least-once, hand-written, tandem-subscribed, ...,"
              + " no-kafka, tandem, ...); the table shows the median run by records/s"
              + " (bench.repeat); a store run without that poll size repeats its first. Other"
              + " points ran once. The subscribed variants run with 1 consumer only (their"
              + " targets). Each batch's rows are written in key order (records of different"
              + " partitions share keys: without it concurrent hand-written consumers deadlocked"
              + " on PostgreSQL).");
    }
    List<PipelineResult> results = new ArrayList<>();
    try (Kafka kafka = Kafka.start(System.getProperty("bench.broker.heap", "768m"))) {
      header.put("Kafka", kafka.description);
      notes.add(
          "Pipeline: "
              + PARTITIONS
              + " partitions, keys k0..k"
              + (keys - 1)
              + " (record i has key k<i mod "
              + keys
              + ">), 16-character values; each batch's results are one upsert per distinct key."
              + " Partitions assigned explicitly (consumer c of C gets p mod C = c): no rebalance"
              + " is timed, except in the `-subscribed` variants (PostgreSQL, poll 1000), which"
              + " subscribe() with Kafka's group management, group join included. Time runs from the consumers' start (connect, first fetch included)"
              + " to the last record committed.");
      notes.add(
          "Process layout: the Kafka broker runs in its own JVM; each store's servers run only"
              + " while that store is measured; PostgreSQL and Redis are native"
              + " processes; Cassandra is a forked JVM; ZooKeeper (and mongo-java-server, when"
              + " it is the MongoDB emulator used) run inside the benchmark JVM, so their heap"
              + " and RSS are in that JVM's numbers. All on the same 2-core machine: clients and"
              + " servers compete for the same CPUs.");
      if (!fullSweep.containsAll(stores)) {
        notes.add(
            "Sweep: full ("
                + polls
                + " max.poll.records × "
                + consumers
                + " consumers) on "
                + fullSweep
                + "; reduced ("
                + reducedPolls
                + " × "
                + reducedConsumers
                + ") on the other stores, for time.");
      }
      // One topic for every run: the largest record count any store uses; a store with fewer
      // records (and the warm-up) reads the first records of each partition. A second topic
      // created right after the first took the embedded broker up to 2 minutes to produce to.
      long largest = records;
      for (String store : stores) {
        largest =
            Math.max(
                largest, Long.getLong("bench.records." + store, defaultRecords(store, records)));
      }
      String topic =
          "bench-" + largest + "-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
      Map<Integer, Long> ends = kafka.produce(topic, PARTITIONS, largest, keys);
      int warmup = Integer.getInteger("bench.warmup.records", 20_000);
      boolean subscribed = Boolean.parseBoolean(System.getProperty("bench.subscribed", "true"));
      // Variants to run (bench.variants, default all).
      List<String> chosen = list("bench.variants", "");
      java.util.function.Predicate<String> wanted = v -> chosen.isEmpty() || chosen.contains(v);
      for (String store : stores) {
        Backend<?> backend = Backends.get(store);
        long n = Long.getLong("bench.records." + store, defaultRecords(store, records));
        Pipeline p = new Pipeline(kafka, topic, PARTITIONS, firstRecords(ends, n), keys);
        if (warmup > 0) {
          // JIT, connections and prepared statements: a short run of each variant, not reported.
          Pipeline w =
              new Pipeline(kafka, topic, PARTITIONS, firstRecords(ends, Math.min(warmup, n)), keys);
          int wp = mongo(store) ? 100 : 1000;
          w.tandem(backend, 1, wp);
          w.atLeastOnce(backend, 1, wp);
        }
        boolean full = fullSweep.contains(store);
        List<Integer> storePolls =
            ints(
                "bench.polls." + store,
                (full ? polls : reducedPolls)
                    .stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse(""));
        if (mongo(store) && System.getProperty("bench.polls." + store) == null) {
          // The emulator takes seconds for a transaction of 1000 upserts into a growing collection.
          storePolls = List.of(100);
          notes.add(
              store
                  + ": max.poll.records 100 only (bench.polls."
                  + store
                  + "): the emulator is slow with large transactions.");
        }
        for (int poll : storePolls) {
          for (int c : full ? consumers : reducedConsumers) {
            // At the reference point every variant runs `repeat` times, interleaved, and the
            // median run (by records/s) is reported: a single short run on a shared machine is
            // mostly noise.
            // A store run without the reference poll (the MongoDB emulator) repeats its first.
            boolean reference =
                storePolls.contains(Report.REFERENCE_POLL)
                    ? poll == Report.REFERENCE_POLL
                    : poll == storePolls.get(0);
            // Targets are ratios at 1 and 2 consumers: 4 consumers run once (contention counts).
            int times = reference && c <= 2 ? repeat : 1;
            Map<String, List<PipelineResult>> runs = new LinkedHashMap<>();
            Runs guard = new Runs(store, c, poll, notes);
            for (int i = 0; i < times; i++) {
              // The no-Kafka variant commits batches of the size Tandem's polls had.
              double meanBatch = poll;
              if (wanted.test("tandem")) {
                PipelineResult t = guard.run("tandem", () -> p.tandem(backend, c, poll));
                if (t != null) {
                  runs.computeIfAbsent("tandem", k -> new ArrayList<>()).add(t);
                  meanBatch = t.meanBatch();
                }
              }
              if (wanted.test("at-least-once")) {
                guard.add(runs, "at-least-once", () -> p.atLeastOnce(backend, c, poll));
              }
              if (backend instanceof PostgresBackend pg) {
                if (wanted.test("hand-written")) {
                  guard.add(runs, "hand-written", () -> p.handWritten(pg, c, poll));
                }
                // Subscribed variants: their targets are at one consumer.
                if (reference && subscribed && c == 1) {
                  // As users run a consumer: subscribe(), group join included in the time.
                  for (Boolean pipelined : new Boolean[] {null, true, false}) {
                    String v =
                        "tandem-subscribed"
                            + (pipelined == null ? "" : pipelined ? "-pipelined" : "-serial");
                    if (wanted.test(v)) {
                      PipelineResult t =
                          guard.run(v, () -> p.tandem(backend, c, poll, true, pipelined));
                      if (t == null) {
                        continue;
                      }
                      runs.computeIfAbsent(v, k -> new ArrayList<>()).add(t);
                      if (!wanted.test("tandem")) {
                        meanBatch = t.meanBatch();
                      }
                    }
                  }
                  if (wanted.test("hand-written-subscribed")) {
                    guard.add(
                        runs, "hand-written-subscribed", () -> p.handWritten(pg, c, poll, true));
                  }
                }
                if (wanted.test("no-kafka")) {
                  int batch = (int) Math.max(1, Math.round(meanBatch));
                  guard.add(runs, "no-kafka", () -> p.noKafka(backend, c, poll, batch));
                }
              }
            }
            runs.values().forEach(list -> results.add(median(list)));
          }
        }
        if (n != records) {
          notes.add(store + ": " + n + " records per run (bench.records." + store + ").");
        }
        Backends.close(store);
      }
    }
    return results;
  }

  /** A pipeline run to do. */
  private interface RunBody {
    PipelineResult run() throws Exception;
  }

  /**
   * Runs a variant; a run that fails (a timeout, a server error) is logged and noted in the report
   * and the benchmark goes on without it, so one failure does not discard an hour of results.
   */
  private record Runs(String store, int consumers, int poll, List<String> notes) {
    PipelineResult run(String variant, RunBody body) {
      try {
        return body.run();
      } catch (Exception e) {
        log.warn("{} {} consumers={} poll={} failed", store, variant, consumers, poll, e);
        notes.add(
            store
                + " "
                + variant
                + " ("
                + consumers
                + " consumer(s), poll "
                + poll
                + "): a run failed and is left out: "
                + e);
        return null;
      }
    }

    void add(Map<String, List<PipelineResult>> runs, String variant, RunBody body) {
      PipelineResult r = run(variant, body);
      if (r != null) {
        runs.computeIfAbsent(variant, k -> new ArrayList<>()).add(r);
      }
    }
  }

  static PipelineResult median(List<PipelineResult> runs) {
    List<PipelineResult> sorted = new ArrayList<>(runs);
    sorted.sort(java.util.Comparator.comparingDouble(PipelineResult::recordsPerSecond));
    return sorted.get(sorted.size() / 2);
  }

  private static long defaultRecords(String store, long records) {
    // Cassandra writes each result as its own request, and with commitlog_sync: batch each waits
    // for an fsync: a fiftieth of the records keeps its runs about as long as the others'.
    return switch (Backends.serverKind(store)) {
      case "cassandra" -> Math.max(1, records / 50);
      // An emulator: a small run shows the pipeline works, its speed says nothing.
      case "mongo" -> Math.max(1, records / 100);
      default -> records;
    };
  }

  /** Whether a store runs on MongoDB (here an emulator: small runs, measured last). */
  static boolean mongo(String store) {
    return Backends.serverKind(store).equals("mongo");
  }

  /** The end offsets that make {@code n} records, taken evenly from the start of each partition. */
  static Map<Integer, Long> firstRecords(Map<Integer, Long> ends, long n) {
    Map<Integer, Long> out = new HashMap<>();
    long left = n;
    int partitions = ends.size();
    for (int p = 0; p < partitions; p++) {
      long share = (left + (partitions - p) - 1) / (partitions - p);
      long take = Math.min(ends.get(p), share);
      out.put(p, take);
      left -= take;
    }
    return out;
  }

  static String machine() {
    String cpu = "unknown CPU";
    long memKb = -1;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          cpu = line.substring(line.indexOf(':') + 1).trim();
          break;
        }
      }
      memKb = Memory.parseStatus(Files.readString(Path.of("/proc/meminfo")), "MemTotal");
    } catch (IOException e) {
      // not Linux: leave unknown
    }
    return Runtime.getRuntime().availableProcessors()
        + " CPUs (nproc), "
        + (memKb / 1024 / 1024)
        + " GiB memory, "
        + cpu
        + ", "
        + System.getProperty("os.name")
        + " "
        + System.getProperty("os.version");
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " / " + f[1] + " / " + f[2];
    } catch (IOException e) {
      return "unknown";
    }
  }
}
