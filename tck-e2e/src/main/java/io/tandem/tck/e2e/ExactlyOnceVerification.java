package io.tandem.tck.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.tck.e2e.internal.Fixture;
import io.tandem.tck.e2e.internal.Models;
import io.tandem.tck.e2e.internal.Settings;
import io.tandem.tck.e2e.internal.Worker;
import io.tandem.testing.ForkedJvm;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestReporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * End-to-end kit: proves that the Tandem consumer runtime over a store delivers every record's
 * result exactly once while consumer JVMs are killed hard (SIGKILL, some of them in the middle of a
 * commit), restarted, added and removed, and while a frozen consumer (SIGSTOP) wakes up after its
 * partitions moved and tries to commit what it had buffered.
 *
 * <p>A backend extends this class once and names a broker, its store and a {@link ResultModel}:
 *
 * <pre>{@code
 * class PostgresE2EIT extends ExactlyOnceVerification {
 *   protected String bootstrapServers() { return KafkaBroker.shared().bootstrapServers(); }
 *   protected String storeUri() { return PostgresServer.shared().jdbcUrl(); }
 *   protected Class<? extends ResultModel<?>> resultModel() { return JdbcResultModel.class; }
 * }
 * }</pre>
 *
 * <p>The kit never starts a server. Consumers run in forked JVMs ({@code java} from {@code
 * java.home}, the test's class path), which open the store through {@link OffsetStores#open} with
 * {@link #storeUri()} and {@link #storeProperties()}, so the store's provider, its driver and the
 * model must be on the test class path. Sizes come from system properties {@code tandem.e2e.*}
 * (records 20000, kills 10, partitions 6, keys 40, workers 2, maxWorkers 4, workMs 5,
 * timeoutSeconds 300, seed); the figures of each run (records, kills, duplicates, losses) are
 * logged and published to the JUnit report. Worker logs go to {@code target/e2e/<run>/}.
 *
 * <p>Tests: {@code [E1]} each input has exactly one result after hard kills; {@code [E2]} the
 * per-key folds equal the expected totals (TRANSACTIONAL stores only; skipped with the reason
 * otherwise); {@code [E3]} a zombie that wakes after the new owner committed gets a conflict and
 * writes nothing; {@code [E4]} a zombie that wakes before the new owner's first commit may commit,
 * and then the new owner gets the conflict. If one fails, check: the store's conditional advance (a
 * stale {@code from} must conflict), that results are written through the commit's handle, and the
 * runtime's re-seek after a conflict.
 *
 * @since 0.1
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ExactlyOnceVerification {

  private static final Logger log = LoggerFactory.getLogger(ExactlyOnceVerification.class);

  private final Settings settings = Settings.fromSystemProperties();
  private final List<Path> propertyFiles = new ArrayList<>();
  private ChaosReport chaos;

  /** For subclasses. */
  protected ExactlyOnceVerification() {}

  /**
   * The Kafka cluster to run against.
   *
   * @return bootstrap servers, {@code host:port[,...]}
   */
  protected abstract String bootstrapServers();

  /**
   * The store under test, reachable from other JVMs on this machine (an H2 database must be served
   * over TCP, not opened in-process).
   *
   * @return the URI {@link OffsetStores#open} takes
   */
  protected abstract String storeUri();

  /**
   * Options beside {@link #storeUri()}, such as a password; passed to workers in a file readable by
   * the owner only.
   *
   * @return store properties; empty by default
   */
  protected Map<String, String> storeProperties() {
    return Map.of();
  }

  /**
   * The model that writes and reads back results in this store; created by name in every worker JVM
   * through {@link java.util.ServiceLoader}.
   *
   * @return a public class with a public no-argument constructor, listed in {@code
   *     META-INF/services/io.tandem.tck.e2e.ResultModel}
   */
  protected abstract Class<? extends ResultModel<?>> resultModel();

  /**
   * Extra Kafka consumer properties for the workers. The default shortens the session timeout to 6
   * s (the broker default minimum), so a killed member's partitions move on quickly; a broker that
   * allows less may be given less.
   *
   * @return consumer properties
   */
  protected Map<String, String> consumerProperties() {
    return Map.of("session.timeout.ms", "6000", "heartbeat.interval.ms", "1000");
  }

  // ---------------------------------------------------------------- E1 / E2: hard kills

  /**
   * [E1] Every input record's result appears exactly once after consumers were killed hard (also
   * mid-commit), restarted, added and removed.
   *
   * @param reporter JUnit's reporter, for the run's figures
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName(
      "[E1] every record has exactly one result after hard kills mid-commit and rebalances")
  public void everyRecordHasExactlyOneResultAfterHardKills(TestReporter reporter) throws Exception {
    ChaosReport r = chaos();
    reporter.publishEntry("tandem.e2e", r.summary());
    assertEquals(
        0,
        r.unexpectedExits.size(),
        "workers exited on their own (not killed): " + r.unexpectedExits);
    assertTrue(
        r.kills >= settings.kills(),
        "the run made " + r.kills + " kills, wanted " + settings.kills());
    assertEquals(0, r.check.losses, "records with no result: " + r.check.lostSample);
    assertEquals(0, r.check.duplicates, "records with several results: " + r.check.duplicateSample);
    assertEquals(
        0, r.check.unexpected, "results for ids never produced: " + r.check.unexpectedSample);
    assertTrue(
        settings.kills() < 4 || r.midCommitKills > 0,
        "no kill landed inside a commit (the mid-commit path went untested): " + r.summary());
  }

  /**
   * [E2] After the same run, the per-key folds equal the sums of the input amounts. Only for
   * TRANSACTIONAL stores: an idempotent store cannot fold exactly once.
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName("[E2] per-key folds equal the expected totals after hard kills (transactional)")
  public void foldsEqualExpectedTotalsAfterHardKills(TestReporter reporter) throws Exception {
    Capabilities caps = capabilities();
    assumeTrue(
        caps.transactional(),
        "store is " + caps.guarantee() + ": folds are not exactly-once on an idempotent store");
    ChaosReport r = chaos();
    reporter.publishEntry("tandem.e2e.folds", r.check.foldSummary());
    log.info("[tandem-e2e] {} [E2] folds: {}", getClass().getSimpleName(), r.check.foldSummary());
    assertEquals(r.check.expectedTotals, r.check.observedTotals, "per-key totals");
  }

  // ---------------------------------------------------------------- E3 / E4: zombies

  /**
   * [E3] A consumer frozen past its session timeout, woken after the new owner of its partition has
   * committed, tries to commit its buffered batch: it must get a conflict and write nothing.
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName("[E3] a zombie waking after the new owner committed gets a conflict, writes nothing")
  public void zombieAfterNewOwnerCommittedGetsConflict(TestReporter reporter) throws Exception {
    zombie(false, reporter);
  }

  /**
   * [E4] A consumer frozen past its session timeout, woken while the new owner holds an uncommitted
   * batch from the same position: whichever commits first wins, the other gets a conflict; nothing
   * is lost or doubled.
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName("[E4] a zombie waking before the new owner's first commit: one wins, one conflicts")
  public void zombieBeforeNewOwnerCommitsOneWinsOneConflicts(TestReporter reporter)
      throws Exception {
    zombie(true, reporter);
  }

  @AfterAll
  void deletePropertyFiles() throws IOException {
    for (Path p : propertyFiles) {
      Files.deleteIfExists(p);
    }
  }

  // ---------------------------------------------------------------- the hard-kill run

  private synchronized ChaosReport chaos() throws Exception {
    if (chaos == null) {
      chaos = runChaos();
      log.info("[tandem-e2e] {}: {}", getClass().getSimpleName(), chaos.summary());
    }
    return chaos;
  }

  @SuppressWarnings("try") // ResultModel.close() may throw anything
  private ChaosReport runChaos() throws Exception {
    String run = newRunId();
    Random random = new Random(settings.seed());
    Path logDir = Path.of("target", "e2e", run);
    log.info(
        "[tandem-e2e] hard-kill run {}: {} (worker logs in {})",
        run,
        settings,
        logDir.toAbsolutePath());
    List<E2eRecord> input = Fixture.generate(settings.records(), settings.keys(), random);
    ChaosReport report = new ChaosReport(run, settings);
    long started = System.nanoTime();
    List<ForkedJvm> workers = new ArrayList<>();
    int[] serial = {0};
    try (Fixture fixture =
            new Fixture(bootstrapServers(), "tandem-e2e-" + run, settings.partitions());
        KafkaProducer<String, String> producer = fixture.producer();
        OffsetStore<?> store = OffsetStores.open(storeUri(), storeProperties());
        ResultModel<?> model = newModel(run)) {
      List<String> args = workerArgs(run, fixture.topic(), run);
      // Input arrives while the chaos goes on, a chunk before each fault, so that kills land
      // among busy consumers.
      int chunk = (int) Math.ceil(input.size() / (settings.kills() * 1.6));
      int produced = 0;
      for (int i = 0; i < settings.workers(); i++) {
        workers.add(startWorker(run, args, logDir, serial, report));
      }
      while (report.kills < settings.kills()) {
        if (produced < input.size()) {
          int until = Math.min(input.size(), produced + chunk);
          fixture.send(producer, input.subList(produced, until));
          produced = until;
        }
        // Faults hit a working group: every member up, someone owning partitions. On a loaded
        // machine a JVM can take many seconds to start, and killing only members that never got
        // going would test nothing.
        for (ForkedJvm w : workers) {
          awaitStarted(w);
        }
        awaitSomeoneAssigned(workers);
        // Chaos schedule: a random pause between faults (not a synchronisation wait).
        TimeUnit.MILLISECONDS.sleep(200 + random.nextInt(1200));
        collectExits(workers, report);
        double dice = random.nextDouble();
        if (dice < 0.15 && workers.size() < settings.maxWorkers()) {
          workers.add(startWorker(run, args, logDir, serial, report));
          report.added++;
        } else if (dice < 0.25 && workers.size() > 1) {
          ForkedJvm w = workers.remove(random.nextInt(workers.size()));
          report.conflicts += w.stat("conflicts");
          if (!w.stop(Duration.ofSeconds(60))) {
            report.unexpectedExits.add(w.name() + " did not stop cleanly");
          }
          w.close();
          report.removed++;
        } else if (!workers.isEmpty()) {
          boolean wantMidCommit = random.nextBoolean();
          // The victim owns partitions, so the kill interrupts real work.
          List<ForkedJvm> busy = workers.stream().filter(w -> w.stat("assigned") > 0).toList();
          ForkedJvm victim =
              !busy.isEmpty()
                  ? busy.get(random.nextInt(busy.size()))
                  : workers.get(random.nextInt(workers.size()));
          workers.remove(victim);
          boolean midCommit = false;
          if (wantMidCommit) {
            victim.send("hang");
            // Fresh input after arming, so the victim has a batch to hang in.
            if (produced < input.size()) {
              int until = Math.min(input.size(), produced + chunk / 2);
              fixture.send(producer, input.subList(produced, until));
              produced = until;
            }
            midCommit = victim.await("hang", Duration.ofSeconds(10)).isPresent();
          }
          log.info(
              "[tandem-e2e] fault {}: SIGKILL {} {}",
              report.kills + 1,
              victim,
              midCommit
                  ? "inside an open commit"
                  : wantMidCommit ? "(no batch came within 10 s to hang in)" : "at a random point");
          report.conflicts += victim.stat("conflicts");
          victim.kill();
          victim.close();
          report.kills++;
          if (midCommit) {
            report.midCommitKills++;
          }
          workers.add(startWorker(run, args, logDir, serial, report));
          report.restarts++;
        }
        if (workers.isEmpty()) {
          workers.add(startWorker(run, args, logDir, serial, report));
        }
      }
      if (produced < input.size()) {
        fixture.send(producer, input.subList(produced, input.size()));
      }
      while (workers.size() < 2) {
        workers.add(startWorker(run, args, logDir, serial, report));
      }
      awaitDrained(fixture, store, run, workers, report);
      for (ForkedJvm w : workers) {
        report.conflicts += w.stat("conflicts");
        if (!w.stop(Duration.ofSeconds(60))) {
          report.unexpectedExits.add(w.name() + " did not stop cleanly");
        }
        w.close();
      }
      workers.clear();
      report.seconds = (System.nanoTime() - started) / 1e9;
      report.check = Check.of(input, model.read());
      return report;
    } finally {
      for (ForkedJvm w : workers) {
        w.close();
      }
    }
  }

  private void awaitDrained(
      Fixture fixture,
      OffsetStore<?> store,
      String group,
      List<ForkedJvm> workers,
      ChaosReport report)
      throws Exception {
    Map<Partition, Long> ends = fixture.endOffsets();
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    while (true) {
      Map<Partition, Long> positions = store.positions(group, ends.keySet());
      if (positions.equals(ends)) {
        return;
      }
      collectExits(workers, report);
      if (System.nanoTime() > deadline) {
        fail(
            "consumers did not reach the log end within "
                + settings.timeout()
                + ": positions "
                + new TreeMap<>(positions)
                + ", log end "
                + new TreeMap<>(ends));
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
  }

  private static void awaitStarted(ForkedJvm w) throws InterruptedException {
    if (w.await("started", Duration.ofSeconds(120)).isEmpty() && w.alive()) {
      fail("worker " + w + " did not start within 120 s");
    }
  }

  private static void awaitSomeoneAssigned(List<ForkedJvm> workers) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (workers.stream().noneMatch(w -> w.stat("assigned") > 0)) {
      if (System.nanoTime() > deadline) {
        fail("no worker owned a partition for 60 s: " + workers);
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  /** A worker that exited by itself crashed: note it and replace it, the run goes on. */
  private static void collectExits(List<ForkedJvm> workers, ChaosReport report)
      throws InterruptedException {
    for (var it = workers.iterator(); it.hasNext(); ) {
      ForkedJvm w = it.next();
      if (!w.alive()) {
        report.unexpectedExits.add(w.name());
        w.close();
        it.remove();
      }
    }
  }

  private ForkedJvm startWorker(
      String run, List<String> args, Path logDir, int[] serial, ChaosReport report) {
    report.started++;
    String name = "w" + (++serial[0]);
    return worker(name, withName(args, name), logDir);
  }

  /** A consumer worker JVM with the test's class path. */
  private static ForkedJvm worker(String name, List<String> args, Path logDir) {
    return ForkedJvm.builder(name, Worker.class.getName()).args(args).logDir(logDir).start();
  }

  // ---------------------------------------------------------------- zombies

  @SuppressWarnings("try") // ResultModel.close() may throw anything
  private void zombie(boolean zombieCommitsFirst, TestReporter reporter) throws Exception {
    String run = newRunId();
    Path logDir = Path.of("target", "e2e", run);
    List<E2eRecord> input = Fixture.generate(2_000, 10, new Random(settings.seed()));
    // One partition: the zombie's batch and the new owner's first batch start at the same
    // position, so exactly one of their commits can win.
    try (Fixture fixture = new Fixture(bootstrapServers(), "tandem-e2e-" + run, 1);
        OffsetStore<?> store = OffsetStores.open(storeUri(), storeProperties());
        ResultModel<?> model = newModel(run)) {
      try (KafkaProducer<String, String> producer = fixture.producer()) {
        fixture.send(producer, input);
      }
      List<String> args = workerArgs(run, fixture.topic(), run);
      List<String> zombieArgs = new ArrayList<>(args);
      zombieArgs.add("--maxPollRecords=100");
      zombieArgs.add("--gateAtPoll=3");
      try (ForkedJvm zombie = worker("zombie", withName(zombieArgs, "zombie"), logDir)) {
        String gate =
            zombie
                .await("gate", Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("the zombie never fetched its third batch"));
        long zombieCommits = field(gate, "commits");
        long heldFrom = Long.parseLong(gate.substring(gate.lastIndexOf('=') + 1));
        zombie.pause();
        List<String> ownerArgs = new ArrayList<>(args);
        ownerArgs.add("--maxPollRecords=100");
        if (zombieCommitsFirst) {
          ownerArgs.add("--gateAtPoll=1");
        }
        try (ForkedJvm owner = worker("owner", withName(ownerArgs, "owner"), logDir)) {
          String outcome;
          if (zombieCommitsFirst) {
            // The owner got the partition (after the zombie's session expired), read the same
            // position from the store and holds its first batch, uncommitted.
            owner
                .await("gate", Duration.ofSeconds(90))
                .orElseThrow(() -> new AssertionError("the new owner never fetched a batch"));
            zombie.resume();
            zombie.send("go");
            assertTrue(
                zombie.awaitStats(
                    s ->
                        s.getOrDefault("commits", 0L) > zombieCommits
                            || s.getOrDefault("conflicts", 0L) > 0,
                    Duration.ofSeconds(60)),
                "the zombie neither committed nor saw a conflict after waking");
            boolean zombieWon = zombie.stat("commits") > zombieCommits;
            owner.send("go");
            if (zombieWon) {
              assertTrue(
                  owner.awaitStats(
                      s -> s.getOrDefault("conflicts", 0L) > 0, Duration.ofSeconds(60)),
                  "the zombie committed the owner's batch range first, but the owner saw no conflict");
            }
            outcome =
                zombieWon
                    ? "zombie committed first; new owner conflicts=" + owner.stat("conflicts")
                    : "zombie dropped its batch (conflicts=" + zombie.stat("conflicts") + ")";
          } else {
            // Wait until the new owner has committed past the zombie's batch start.
            Partition p = Partition.of(fixture.topic(), 0);
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (store.positions(run, List.of(p)).getOrDefault(p, -1L) <= heldFrom) {
              if (System.nanoTime() > deadline) {
                fail("the new owner never committed past " + heldFrom + " on " + p);
              }
              TimeUnit.MILLISECONDS.sleep(100);
            }
            zombie.resume();
            zombie.send("go");
            assertTrue(
                zombie.awaitStats(s -> s.getOrDefault("conflicts", 0L) > 0, Duration.ofSeconds(60)),
                "the zombie woke after the new owner committed, and did not observe a conflict");
            // Had the stale batch committed as well, its records would have two results: the
            // duplicate check below catches that. (The zombie's later commits, after it rejoined
            // and re-read its positions, are legitimate.)
            outcome =
                "zombie woke after the owner committed past offset "
                    + heldFrom
                    + " and observed conflicts="
                    + zombie.stat("conflicts");
          }
          awaitDrained(fixture, store, run, List.of(), new ChaosReport(run, settings));
          zombie.stop(Duration.ofSeconds(30));
          owner.stop(Duration.ofSeconds(30));
          Check check = Check.of(input, model.read());
          String summary =
              (zombieCommitsFirst ? "[E4] " : "[E3] ")
                  + outcome
                  + "; records="
                  + input.size()
                  + " duplicates="
                  + check.duplicates
                  + " losses="
                  + check.losses;
          log.info("[tandem-e2e] {}: {}", getClass().getSimpleName(), summary);
          reporter.publishEntry("tandem.e2e.zombie", summary);
          assertEquals(0, check.losses, "records with no result: " + check.lostSample);
          assertEquals(
              0, check.duplicates, "records with several results: " + check.duplicateSample);
          if (capabilities().transactional()) {
            assertEquals(check.expectedTotals, check.observedTotals, "per-key totals");
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  /** A {@code key=value} field of an event line. */
  private static long field(String event, String key) {
    for (String kv : event.split(" ")) {
      if (kv.startsWith(key + "=")) {
        return Long.parseLong(kv.substring(key.length() + 1));
      }
    }
    throw new IllegalStateException("no " + key + " in worker event '" + event + "'");
  }

  private Capabilities capabilities() {
    try (OffsetStore<?> store = OffsetStores.open(storeUri(), storeProperties())) {
      return store.capabilities();
    }
  }

  private ResultModel<?> newModel(String namespace) throws Exception {
    ResultModel<?> model = Models.create(resultModel().getName());
    model.open(storeUri(), storeProperties(), namespace);
    return model;
  }

  private static String newRunId() {
    byte[] b = new byte[4];
    ThreadLocalRandom.current().nextBytes(b);
    return "e2e" + HexFormat.of().formatHex(b);
  }

  private List<String> workerArgs(String run, String topic, String group) throws IOException {
    List<String> args = new ArrayList<>();
    args.add("--bootstrap=" + bootstrapServers());
    args.add("--topic=" + topic);
    args.add("--group=" + group);
    args.add("--store=" + storeUri());
    args.add("--model=" + resultModel().getName());
    args.add("--namespace=" + run);
    args.add("--workMs=" + settings.workMs());
    Map<String, String> props = storeProperties();
    if (!props.isEmpty()) {
      Path file = Files.createTempFile("tandem-e2e-store-", ".properties");
      try {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // Not a POSIX file system: the temp dir's own protection applies.
      }
      Properties p = new Properties();
      p.putAll(props);
      try (Writer w = Files.newBufferedWriter(file)) {
        p.store(w, "tandem e2e store properties");
      }
      propertyFiles.add(file);
      args.add("--storeProps=" + file);
    }
    consumerProperties().forEach((k, v) -> args.add("--consumer." + k + "=" + v));
    return args;
  }

  private static List<String> withName(List<String> args, String name) {
    List<String> out = new ArrayList<>(args);
    out.add("--name=" + name);
    return out;
  }

  /** The figures of one hard-kill run. */
  private static final class ChaosReport {
    final String run;
    final Settings settings;
    int kills;
    int midCommitKills;
    int restarts;
    int added;
    int removed;
    int started;
    long conflicts;
    double seconds;
    final List<String> unexpectedExits = new ArrayList<>();
    Check check;

    ChaosReport(String run, Settings settings) {
      this.run = run;
      this.settings = settings;
    }

    String summary() {
      return String.format(
          "run=%s records=%d partitions=%d kills=%d (mid-commit %d) restarts=%d members added=%d"
              + " removed=%d worker JVMs=%d conflicts observed=%d duplicates=%d losses=%d"
              + " unexpected=%d crashed-by-themselves=%d elapsed=%.1fs seed=%d",
          run,
          settings.records(),
          settings.partitions(),
          kills,
          midCommitKills,
          restarts,
          added,
          removed,
          started,
          conflicts,
          check == null ? -1 : check.duplicates,
          check == null ? -1 : check.losses,
          check == null ? -1 : check.unexpected,
          unexpectedExits.size(),
          seconds,
          settings.seed());
    }
  }

  /** Expected against observed results. */
  private static final class Check {
    long losses;
    long duplicates;
    long unexpected;
    final List<String> lostSample = new ArrayList<>();
    final List<String> duplicateSample = new ArrayList<>();
    final List<String> unexpectedSample = new ArrayList<>();
    final Map<String, Long> expectedTotals = new TreeMap<>();
    Map<String, Long> observedTotals = new TreeMap<>();

    static Check of(List<E2eRecord> input, ResultModel.Observed observed) {
      Check c = new Check();
      Map<String, Integer> seen = new HashMap<>(observed.occurrences());
      for (E2eRecord r : input) {
        c.expectedTotals.merge(r.key(), r.amount(), Long::sum);
        Integer n = seen.remove(r.id());
        if (n == null || n == 0) {
          c.losses++;
          sample(c.lostSample, r.id());
        } else if (n > 1) {
          c.duplicates += n - 1;
          sample(c.duplicateSample, r.id() + " x" + n);
        }
      }
      c.unexpected = seen.size();
      seen.keySet().stream().sorted().limit(10).forEach(c.unexpectedSample::add);
      c.observedTotals = new TreeMap<>(observed.totals());
      return c;
    }

    private static void sample(List<String> sample, String id) {
      if (sample.size() < 10) {
        sample.add(id);
      }
    }

    String foldSummary() {
      long expected = expectedTotals.values().stream().mapToLong(Long::longValue).sum();
      long observed = observedTotals.values().stream().mapToLong(Long::longValue).sum();
      return "keys="
          + expectedTotals.size()
          + " expected sum="
          + expected
          + " observed sum="
          + observed
          + (expectedTotals.equals(observedTotals) ? " (equal per key)" : " (DIFFER)");
    }
  }
}
