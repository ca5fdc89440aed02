package io.tandem.tck.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.tck.e2e.internal.FaultSettings;
import io.tandem.tck.e2e.internal.FaultTable;
import io.tandem.tck.e2e.internal.Fixture;
import io.tandem.tck.e2e.internal.Models;
import io.tandem.tck.e2e.internal.Settings;
import io.tandem.tck.e2e.internal.Worker;
import io.tandem.testing.ForkedJvm;
import io.tandem.testing.RestartableKafka;
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
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

  private static final Pattern ENDPOINT = Pattern.compile("//([^/?,@]+:[0-9]+)");
  private static final Duration SHORT_WAIT = Duration.ofSeconds(20);

  // Not final: a soak round [E11] runs each rule at a size and seed of its own.
  private volatile Settings settings = Settings.fromSystemProperties();
  private volatile FaultSettings faults = FaultSettings.fromSystemProperties();
  private volatile SoakTally soak;
  private final List<Path> propertyFiles = new ArrayList<>();
  private final Set<String> faultRunIds = ConcurrentHashMap.newKeySet();
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
      tableRow(
          "consumer SIGKILL",
          chaos.kills,
          chaos.settings.records(),
          chaos.check.losses,
          chaos.check.duplicates,
          foldsVerdict(chaos.check),
          "mid-commit kills="
              + chaos.midCommitKills
              + ", added="
              + chaos.added
              + ", removed="
              + chaos.removed
              + ", unexpected="
              + chaos.check.unexpected
              + ", crashed="
              + chaos.unexpectedExits.size()
              + ", seed="
              + chaos.settings.seed());
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
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    while (true) {
      // Read each time: a transaction the broker aborts late (a hanging producer's) adds its
      // marker to the log end after the input was sent.
      Map<Partition, Long> ends = fixture.endOffsets();
      Map<Partition, Long> positions;
      try {
        positions = store.positions(group, ends.keySet());
      } catch (StoreUnavailableException e) {
        // A fault run's store may just have come back: ask again.
        positions = Map.of();
      }
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
    long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    while (workers.stream().noneMatch(w -> w.stat("assigned") > 0)) {
      if (System.nanoTime() > deadline) {
        fail("no worker owned a partition for 180 s: " + workers);
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

  /**
   * Input records of each zombie run ([E3], [E4]), on one partition in batches of 100: the zombie
   * commits two batches and holds the third, the new owner takes over from there and drains the
   * rest. The default is {@code tandem.e2e.zombie.records} (2000); a backend whose server is slow
   * to commit may return less (at least 400), which keeps every step of the rule and shortens only
   * the drain after it.
   *
   * @return the number of records, at least 400
   */
  protected int zombieRecords() {
    return settings.zombieRecords();
  }

  @SuppressWarnings("try") // ResultModel.close() may throw anything
  private void zombie(boolean zombieCommitsFirst, TestReporter reporter) throws Exception {
    String run = newRunId();
    Path logDir = Path.of("target", "e2e", run);
    int size = zombieRecords();
    if (size < Settings.MIN_ZOMBIE_RECORDS) {
      throw new IllegalArgumentException(
          getClass().getSimpleName()
              + ".zombieRecords() must be >= "
              + Settings.MIN_ZOMBIE_RECORDS
              + ", got "
              + size);
    }
    List<E2eRecord> input = Fixture.generate(size, 10, new Random(settings.seed()));
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
          tableRow(
              zombieCommitsFirst ? "zombie before owner" : "zombie after owner",
              1,
              input.size(),
              check.losses,
              check.duplicates,
              foldsVerdict(check),
              outcome + ", seed=" + settings.seed());
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

  // ---------------------------------------------------------------- E5-E11: faults

  /**
   * The store's {@code host:port} inside {@link #storeUri()}, which the lost-reply rule [E5] routes
   * through a TCP proxy in every worker. The default takes the first {@code host:port} after {@code
   * //}; a backend whose client discovers other addresses from the server (a MongoDB replica set)
   * returns empty, and [E5] is skipped with {@link #lostReplyUnsupportedReason()}.
   *
   * @return the endpoint, or empty when a proxy cannot stand between the client and the store
   */
  protected Optional<String> storeEndpoint() {
    Matcher m = ENDPOINT.matcher(storeUri());
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /**
   * Why [E5] cannot run on this backend, when {@link #storeEndpoint()} is empty.
   *
   * @return the reason shown in the report
   */
  protected String lostReplyUnsupportedReason() {
    return "no single host:port in the store URI " + storeUri() + " to put a proxy in front of";
  }

  /**
   * Why the fault rules [E5]-[E11] do not apply to this backend at all, or null (the default) when
   * they do. Each is then reported as skipped with this reason.
   *
   * @return the reason, or null
   */
  protected String faultRulesSkippedReason() {
    return null;
  }

  private void assumeFaultRules() {
    String why = faultRulesSkippedReason();
    assumeTrue(why == null, why);
  }

  /**
   * Why the faults whose path does not depend on the store ([E7] broker bounce, [E8] rebalance
   * storm, [E9] aborted transactions, [E10] retention, [E12] compacted input) are left to other
   * backends here, or null (the default) when they run. A backend whose runs are slow may keep only
   * the store-dependent faults ([E5], [E6]) in CI; each skipped rule reports this reason.
   *
   * @return the reason, or null
   */
  protected String storeIndependentFaultsSkippedReason() {
    return null;
  }

  private void assumeStoreIndependentFaults() {
    String why = storeIndependentFaultsSkippedReason();
    assumeTrue(why == null, why);
  }

  /**
   * The namespaces of the fault runs ([E5]-[E11]) this instance made so far, for a backend's own
   * checks that look at every run's results and must tell the fault runs (other inputs) apart.
   *
   * @return run namespaces, as given to {@link ResultModel#open}
   */
  protected final Set<String> faultRuns() {
    return Set.copyOf(faultRunIds);
  }

  /**
   * A store server of the backend's own that rule [E6] kills with SIGKILL under load and restarts
   * on the same data. The default is none: [E6] is skipped with {@link
   * #storeKillUnsupportedReason()}.
   *
   * @return a started, killable server (the kit closes it), or null
   * @throws Exception if it cannot be started
   */
  protected KillableStore killableStore() throws Exception {
    return null;
  }

  /**
   * Why [E6] cannot run on this backend, when {@link #killableStore()} returns null.
   *
   * @return the reason shown in the report
   */
  protected String storeKillUnsupportedReason() {
    return "the backend's test names no killable store server (override killableStore())";
  }

  /**
   * [E5] The reply to a commit is lost on the wire (the request reached the store, the connection
   * ended before the answer came back): the runtime resolves the unknown outcome by reading the
   * positions back, and every record still has exactly one result.
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName("[E5] a reply lost mid-commit is resolved by reading back: every record once")
  public void lostReplyMidCommitIsResolvedByReadingBack(TestReporter reporter) throws Exception {
    assumeFaultRules();
    Optional<String> endpoint = storeEndpoint();
    assumeTrue(endpoint.isPresent(), this::lostReplyUnsupportedReason);
    FaultPlan plan = plan("lost reply", faults.cycles());
    plan.endpoint = endpoint.get();
    plan.cycle =
        (i, run) -> {
          ForkedJvm w = run.busyWorker();
          long before = w.stat("lostReplies");
          run.produceChunk();
          w.send("lose-reply");
          if (w.awaitStats(s -> s.getOrDefault("lostReplies", 0L) > before, SHORT_WAIT)) {
            run.count("replies lost", 1);
          } else {
            run.count("armed, no commit came", 1);
          }
        };
    FaultOutcome out = faultRun(plan, reporter);
    long lost = out.counter("replies lost");
    long resolved = out.stats.getOrDefault("resolved", 0L);
    long retried = out.stats.getOrDefault("commitRetries", 0L);
    // A store may resolve the lost reply inside its own commit (ZooKeeper's client reconnects and
    // the store reads its znodes back), so the runtime sees no failed commit at all: the client
    // cannot report success for a request whose reply never came unless it read the outcome back.
    // Either way the invariants checked by faultRun (every record once, folds exact) must hold.
    out.note(
        "replies lost="
            + lost
            + " commit retries="
            + retried
            + " resolved="
            + resolved
            + (retried == 0 ? " (resolved inside the store's own commit)" : ""));
    out.publish();
    assertTrue(lost > 0, "no reply was lost: the fault never hit a commit: " + out);
    if (retried > 0) {
      assertTrue(resolved >= 1, "no unknown commit outcome was resolved by reading back: " + out);
    }
  }

  /**
   * [E6] The store server is killed with SIGKILL while consumers commit, and started again on the
   * same data: no position read before the kill is behind after the restart, the consumers resume
   * by themselves, every record has exactly one result and folds are exact.
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName("[E6] the store killed under load and restarted: acknowledged commits survive")
  @SuppressWarnings("try") // KillableStore.close() may throw anything
  public void storeKilledUnderLoadKeepsAcknowledgedCommits(TestReporter reporter) throws Exception {
    assumeFaultRules();
    KillableStore server = killableStore();
    assumeTrue(server != null, this::storeKillUnsupportedReason);
    try (KillableStore s = server) {
      FaultPlan plan = plan("store SIGKILL", faults.cycles());
      plan.uri = s.uri();
      plan.props = s.properties();
      plan.cycle =
          (i, run) -> {
            run.produceChunk();
            run.awaitCommits();
            Map<Partition, Long> before = run.positions();
            s.kill();
            // Down for a moment while the consumers keep trying.
            TimeUnit.MILLISECONDS.sleep(500 + run.random.nextInt(1500));
            s.restart();
            Map<Partition, Long> after = run.positions();
            before.forEach(
                (p, at) -> {
                  if (after.getOrDefault(p, -1L) < at) {
                    run.failures.add(p + " was at " + at + " before the kill, " + after.get(p));
                  }
                });
            run.count("kills", 1);
          };
      FaultOutcome out = faultRun(plan, reporter);
      out.note("server: " + s.description());
      out.publish();
    }
  }

  /**
   * [E7] The Kafka broker is bounced under load, hard (SIGKILL of its JVM) and clean (SIGTERM), and
   * restarted on the same log directory: every record has exactly one result. Runs on a broker of
   * its own ({@link RestartableKafka}), which needs {@code kafka_2.13} in the local Maven
   * repository.
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName("[E7] the broker bounced under load, hard and clean: every record once")
  public void brokerBouncedUnderLoadEveryRecordOnce(TestReporter reporter) throws Exception {
    assumeFaultRules();
    assumeStoreIndependentFaults();
    try (RestartableKafka broker = RestartableKafka.start()) {
      FaultPlan plan = plan("broker bounce", Math.max(2, faults.cycles()));
      plan.bootstrap = broker.bootstrapServers();
      plan.cycle =
          (i, run) -> {
            run.produceChunk();
            run.awaitCommits();
            boolean hard = i % 2 == 0;
            if (hard) {
              broker.kill();
            } else {
              broker.stop();
            }
            TimeUnit.MILLISECONDS.sleep(500 + run.random.nextInt(1500));
            broker.restart();
            run.count(hard ? "hard" : "clean", 1);
          };
      FaultOutcome out = faultRun(plan, reporter);
      out.note("broker: " + broker.description());
      out.publish();
    }
  }

  /**
   * [E8] Members go 1, 4, 1 every few seconds, under the classic and the consumer group protocol:
   * every record has exactly one result. Cycles: {@code tandem.e2e.storm.cycles} (1; 100 for a full
   * storm).
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName("[E8] a rebalance storm 1-4-1 under both group protocols: every record once")
  public void rebalanceStormUnderBothProtocolsEveryRecordOnce(TestReporter reporter)
      throws Exception {
    assumeFaultRules();
    assumeStoreIndependentFaults();
    for (String protocol : List.of("classic", "consumer")) {
      FaultPlan plan = plan("storm " + protocol, faults.stormCycles());
      plan.initialWorkers = 1;
      plan.consumer = protocolProperties(protocol);
      plan.cycle =
          (i, run) -> {
            run.produceChunk();
            List<ForkedJvm> added = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
              added.add(run.startWorker());
            }
            run.workers.addAll(added);
            for (ForkedJvm w : added) {
              awaitStarted(w);
            }
            TimeUnit.MILLISECONDS.sleep(1000 + run.random.nextInt(2000));
            // Back to one member: any three of the four leave (cleanly), the old one too.
            while (run.workers.size() > 1) {
              run.retire(run.workers.remove(run.random.nextInt(run.workers.size())));
            }
            run.count("rebalances", 2);
          };
      faultRun(plan, reporter).publish();
    }
  }

  /**
   * [E9] Aborted producer transactions and one left hanging (aborted by the broker at its timeout)
   * sit among the input: consumers read committed data only, no aborted record gets a result, and
   * the positions still reach the log end (past the transaction markers).
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName("[E9] aborted and hanging producer transactions: no aborted record processed")
  public void abortedAndHangingTransactionsAreNeverProcessed(TestReporter reporter)
      throws Exception {
    assumeFaultRules();
    assumeStoreIndependentFaults();
    FaultPlan plan = plan("aborted+hanging txns", faults.cycles());
    List<KafkaProducer<String, String>> hanging = new ArrayList<>();
    plan.cycle =
        (i, run) -> {
          run.produceChunk();
          run.produceTransaction("a" + i, 40, true);
          if (i == 0) {
            hanging.add(run.produceTransaction("h" + i, 40, false));
          }
          run.produceChunk();
          run.count("aborted", 1);
          if (i == plan.cycles - 1) {
            // The rest of the input follows the broker's abort of the hanging transaction, so the
            // run ends with no transaction open and a final log end (abort markers included).
            run.fixture.awaitNoOpenTransaction(Duration.ofSeconds(90));
          }
        };
    try {
      FaultOutcome out = faultRun(plan, reporter);
      out.note("hanging=" + hanging.size() + " (aborted by the broker after its timeout)");
      out.publish();
    } finally {
      hanging.forEach(p -> p.close(Duration.ZERO));
    }
  }

  /**
   * [E10] Retention deletes records past a group's stored position ({@code deleteRecords}) while no
   * consumer runs: the next consumer fails loudly with a position out of range and moves no
   * position; nothing is skipped silently.
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName("[E10] retention passing a stored position fails loudly, never skips silently")
  @SuppressWarnings("try") // ResultModel.close() may throw anything
  public void retentionPastStoredPositionFailsLoudly(TestReporter reporter) throws Exception {
    assumeFaultRules();
    assumeStoreIndependentFaults();
    String run = newRunId();
    faultRunIds.add(run);
    Path logDir = Path.of("target", "e2e", run);
    List<E2eRecord> input = Fixture.generate(400, 10, new Random(settings.seed()));
    try (Fixture fixture = new Fixture(bootstrapServers(), "tandem-e2e-" + run, 1);
        KafkaProducer<String, String> producer = fixture.producer();
        OffsetStore<?> store = OffsetStores.open(storeUri(), storeProperties());
        ResultModel<?> model = newModel(run)) {
      List<String> args = workerArgs(run, fixture.topic(), run);
      fixture.send(producer, input.subList(0, 200));
      try (ForkedJvm w = worker("w1", withName(args, "w1"), logDir)) {
        awaitDrained(fixture, store, run, List.of(w), new ChaosReport(run, settings));
        assertTrue(w.stop(Duration.ofSeconds(60)), "the first consumer did not stop cleanly");
      }
      Partition p = Partition.of(fixture.topic(), 0);
      long stored = store.positions(run, List.of(p)).get(p);
      fixture.send(producer, input.subList(200, input.size()));
      long cut = fixture.endOffsets().get(p) - 50;
      fixture.deleteRecords(p, cut);
      try (ForkedJvm w = worker("w2", withName(args, "w2"), logDir)) {
        Optional<String> failed = w.await("failed", Duration.ofSeconds(120));
        assertTrue(
            failed.isPresent(),
            "the consumer did not fail after retention passed its stored position " + stored);
        assertTrue(
            failed.get().contains("PositionOutOfRange") || failed.get().contains("out of range"),
            "failed for another reason: " + failed.get());
        assertEquals(
            stored,
            store.positions(run, List.of(p)).get(p),
            "the stored position moved although records before the log start were never read");
        Check check = Check.of(input.subList(0, 200), model.read());
        tableRow(
            "retention past position",
            1,
            input.size(),
            check.losses,
            check.duplicates,
            foldsVerdict(check),
            "log start "
                + cut
                + " > stored "
                + stored
                + ": worker failed loudly ("
                + failed.get().substring(0, Math.min(80, failed.get().length()))
                + "), unexpected results="
                + check.unexpected);
        reporter.publishEntry("tandem.e2e.retention", "stored=" + stored + " logStart=" + cut);
        assertEquals(0, check.losses, "records before the cut with no result");
        assertEquals(0, check.duplicates, "records with several results");
        assertEquals(0, check.unexpected, "results for records deleted by retention");
      }
    }
  }

  /**
   * [E11] Soak: for {@code -Dtandem.soak.minutes=N} minutes, rounds of the rules above picked at
   * random, each at a random size with a seed of its own drawn from the soak's seed, and "mixed"
   * rounds in which every cycle of one run injects a fault picked at random (consumer SIGKILL, also
   * mid-commit; lost reply; store SIGKILL; broker bounce, hard or clean; rebalance burst; aborted
   * transaction). The soak's seed is printed: {@code -Dtandem.e2e.seed=S} with the same sizes
   * replays the same rounds, sizes, inputs and fault choices (a real cluster's timing differs from
   * run to run). Every round appends to the fault table; at the end the soak logs and writes its
   * totals per fault to {@code target/e2e/soak-<backend>-<seed>.md}. Off (reported as skipped)
   * unless the property is set.
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a failure
   */
  @Test
  @DisplayName("[E11] soak: the faults mixed at random for N minutes, seed printed")
  public void soakMixesFaultsAtRandom(TestReporter reporter) throws Exception {
    assumeFaultRules();
    long minutes = Long.getLong("tandem.soak.minutes", 0);
    assumeTrue(minutes > 0, "soak is off; run with -Dtandem.soak.minutes=N");
    Settings base = settings;
    FaultSettings baseFaults = faults;
    long soakSeed = base.seed();
    Random random = new Random(soakSeed);
    log.info(
        "[tandem-e2e] {} soak for {} min, seed {} (replay: -Dtandem.e2e.seed={})",
        getClass().getSimpleName(),
        minutes,
        soakSeed,
        soakSeed);
    Map<String, SoakRound> rules = soakRounds();
    List<String> names = new ArrayList<>(rules.keySet());
    SoakTally tally = new SoakTally();
    soak = tally;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
    int rounds = 0;
    try {
      while (System.nanoTime() < deadline) {
        rounds++;
        String pick = names.get(random.nextInt(names.size()));
        long roundSeed = random.nextLong();
        int records = baseFaults.records() / 2 + random.nextInt(baseFaults.records() * 3 / 2 + 1);
        int cycles = 1 + random.nextInt(2 * baseFaults.cycles());
        int storm = 1 + random.nextInt(3 * baseFaults.stormCycles());
        // Two or three kills: [E1] demands a mid-commit kill from four on, which a short round
        // may not land by chance; the mixed rounds arm mid-commit kills as well.
        int kills = 2 + random.nextInt(2);
        settings =
            new Settings(
                2 * records,
                kills,
                base.partitions(),
                base.keys(),
                base.workers(),
                base.maxWorkers(),
                base.workMs(),
                base.timeout(),
                roundSeed,
                base.zombieRecords());
        faults = new FaultSettings(Math.max(100, records), cycles, storm);
        synchronized (this) {
          chaos = null; // every hard-kill round is a new run
        }
        log.info(
            "[tandem-e2e] soak round {} (soak seed {}): {} records={} cycles={} storm={} kills={}"
                + " round seed={}",
            rounds,
            soakSeed,
            pick,
            faults.records(),
            cycles,
            storm,
            kills,
            roundSeed);
        tally.rounds.merge(pick, 1, Integer::sum);
        try {
          rules.get(pick).run(reporter);
        } catch (org.opentest4j.TestAbortedException e) {
          tally.skipped.merge(pick + ": " + e.getMessage(), 1, Integer::sum);
          log.info("[tandem-e2e] soak round {}: {} skipped ({})", rounds, pick, e.getMessage());
        } catch (Throwable t) {
          throw new AssertionError(
              "soak round "
                  + rounds
                  + " ("
                  + pick
                  + ", round seed "
                  + roundSeed
                  + ") failed; replay with -Dtandem.e2e.seed="
                  + soakSeed
                  + " and the same sizes",
              t);
        }
      }
    } finally {
      soak = null;
      settings = base;
      faults = baseFaults;
      synchronized (this) {
        chaos = null;
      }
      String table = tally.table(getClass().getSimpleName(), rounds, soakSeed, minutes);
      log.info("[tandem-e2e] soak totals:\n{}", table);
      Path file =
          Path.of("target", "e2e", "soak-" + getClass().getSimpleName() + "-" + soakSeed + ".md");
      try {
        Files.createDirectories(file.getParent());
        Files.writeString(file, table);
      } catch (IOException e) {
        log.warn("cannot write {}: {}", file, e.toString());
      }
    }
    reporter.publishEntry("tandem.e2e.soak", "rounds=" + rounds + " seed=" + soakSeed);
  }

  /** The soak's rounds by name: each rule of the kit, and the mixed run. */
  private Map<String, SoakRound> soakRounds() {
    Map<String, SoakRound> r = new java.util.LinkedHashMap<>();
    r.put(
        "consumer SIGKILL (E1, E2)",
        rep -> {
          everyRecordHasExactlyOneResultAfterHardKills(rep);
          if (capabilities().transactional()) {
            foldsEqualExpectedTotalsAfterHardKills(rep);
          }
        });
    r.put("zombie after owner (E3)", this::zombieAfterNewOwnerCommittedGetsConflict);
    r.put("zombie before owner (E4)", this::zombieBeforeNewOwnerCommitsOneWinsOneConflicts);
    r.put("lost reply (E5)", this::lostReplyMidCommitIsResolvedByReadingBack);
    r.put("store SIGKILL (E6)", this::storeKilledUnderLoadKeepsAcknowledgedCommits);
    r.put("broker bounce (E7)", this::brokerBouncedUnderLoadEveryRecordOnce);
    r.put("rebalance storm (E8)", this::rebalanceStormUnderBothProtocolsEveryRecordOnce);
    r.put("aborted+hanging txns (E9)", this::abortedAndHangingTransactionsAreNeverProcessed);
    r.put("retention past position (E10)", this::retentionPastStoredPositionFailsLoudly);
    r.put("compacted input (E12)", this::compactedInputTopicEveryReadRecordOnce);
    r.put("mixed", this::mixedFaults);
    return r;
  }

  @FunctionalInterface
  private interface SoakRound {
    void run(TestReporter reporter) throws Exception;
  }

  /**
   * One run on a broker of its own ({@link RestartableKafka}) and, when the backend has one, a
   * killable store, where every cycle injects a fault picked at random from the run's random
   * source: consumer SIGKILL (half of them armed to land inside an open commit), lost reply (when a
   * proxy can stand in front of the store), store SIGKILL (when killable), broker bounce (hard or
   * clean), rebalance burst (two members join, then the group shrinks back to two) and an aborted
   * producer transaction.
   */
  @SuppressWarnings("try") // KillableStore.close() may throw anything
  private void mixedFaults(TestReporter reporter) throws Exception {
    assumeFaultRules();
    KillableStore server = killableStore();
    try (RestartableKafka broker = RestartableKafka.start();
        KillableStore s = server) {
      FaultPlan plan = plan("mixed", Math.max(4, 2 * faults.cycles()));
      plan.bootstrap = broker.bootstrapServers();
      if (s != null) {
        plan.uri = s.uri();
        plan.props = s.properties();
      }
      Matcher m = ENDPOINT.matcher(plan.uri);
      if (storeEndpoint().isPresent() && m.find()) {
        plan.endpoint = m.group(1);
      }
      List<String> kinds =
          new ArrayList<>(
              List.of("consumer SIGKILL", "broker bounce", "rebalance burst", "aborted txn"));
      if (plan.endpoint != null) {
        kinds.add("lost reply");
      }
      if (s != null) {
        kinds.add("store SIGKILL");
      }
      plan.cycle =
          (i, run) -> {
            String kind = kinds.get(run.random.nextInt(kinds.size()));
            log.info("[tandem-e2e] mixed cycle {}: {}", i + 1, kind);
            run.produceChunk();
            switch (kind) {
              case "consumer SIGKILL" -> {
                ForkedJvm victim = run.busyWorker();
                boolean mid = false;
                if (run.random.nextBoolean()) {
                  victim.send("hang");
                  run.produceChunk();
                  mid = victim.await("hang", Duration.ofSeconds(10)).isPresent();
                }
                run.workers.remove(victim);
                run.kill(victim);
                run.workers.add(run.startWorker());
                if (mid) {
                  run.count("consumer SIGKILL mid-commit", 1);
                }
              }
              case "broker bounce" -> {
                run.awaitCommits();
                if (run.random.nextBoolean()) {
                  broker.kill();
                } else {
                  broker.stop();
                }
                TimeUnit.MILLISECONDS.sleep(500 + run.random.nextInt(1500));
                broker.restart();
              }
              case "rebalance burst" -> {
                List<ForkedJvm> added = List.of(run.startWorker(), run.startWorker());
                run.workers.addAll(added);
                for (ForkedJvm w : added) {
                  awaitStarted(w);
                }
                TimeUnit.MILLISECONDS.sleep(1000 + run.random.nextInt(2000));
                while (run.workers.size() > 2) {
                  run.retire(run.workers.remove(run.random.nextInt(run.workers.size())));
                }
              }
              case "aborted txn" -> run.produceTransaction("a" + i, 40, true);
              case "lost reply" -> {
                ForkedJvm w = run.busyWorker();
                long before = w.stat("lostReplies");
                w.send("lose-reply");
                run.produceChunk();
                if (!w.awaitStats(s2 -> s2.getOrDefault("lostReplies", 0L) > before, SHORT_WAIT)) {
                  run.count("lost reply armed, no commit came", 1);
                }
              }
              case "store SIGKILL" -> {
                run.awaitCommits();
                Map<Partition, Long> before = run.positions();
                s.kill();
                TimeUnit.MILLISECONDS.sleep(500 + run.random.nextInt(1500));
                s.restart();
                Map<Partition, Long> after = run.positions();
                before.forEach(
                    (p, at) -> {
                      if (after.getOrDefault(p, -1L) < at) {
                        run.failures.add(p + " was at " + at + " before the kill, " + after.get(p));
                      }
                    });
              }
              default -> throw new IllegalStateException(kind);
            }
            run.count(kind, 1);
          };
      FaultOutcome out = faultRun(plan, reporter);
      out.note(
          "faults drawn from "
              + kinds
              + (s == null ? "" : "; store: " + s.description())
              + "; broker: "
              + broker.description());
      out.publish();
    }
  }

  // ---------------------------------------------------------------- E12: compacted input

  /** Topic settings that let the log cleaner compact within a second of new input. */
  private static final long SEGMENT_MS = 100;

  private static final Map<String, String> COMPACTED =
      Map.of(
          "cleanup.policy", "compact",
          // A segment is rolled at the first append after segment.ms; only closed segments are
          // cleaned, so input is sent in bursts a few segment.ms apart.
          "segment.ms", String.valueOf(SEGMENT_MS),
          "min.cleanable.dirty.ratio", "0.01",
          "min.compaction.lag.ms", "0");

  private static final Duration COMPACTION_WAIT = Duration.ofSeconds(90);

  /**
   * [E12] The input topic is compacted ({@code cleanup.policy=compact}, repeated keys) and Kafka's
   * log cleaner compacts it between runs and while the consumers run. Exactly once here means:
   * every record a consumer read is applied exactly once; offsets the cleaner removed before they
   * were read are gaps the positions move past without error; every record still in the log at the
   * end has a result, so the last value per key in the results is the topic's last value per key;
   * per-key folds equal the sum over the records applied (TRANSACTIONAL stores); and a stored
   * position pointing at an offset compacted away resumes at the next existing offset, with no
   * reset (records kept from before that position would be applied twice) and no error.
   *
   * <p>The rule fails when the cleaner never ran: it requires records removed from the log, at
   * least one stored position compacted away and gaps passed by the consumers. The cleaner is on by
   * default ({@code log.cleaner.enable}); the wait for its first pass is up to {@code
   * log.cleaner.backoff.ms} (15 s by default, 0.5 s on the kit's embedded broker).
   *
   * @param reporter JUnit's reporter
   * @throws Exception on a setup failure
   */
  @Test
  @DisplayName(
      "[E12] a compacted input topic: records read are applied once, compacted gaps passed")
  @SuppressWarnings("try") // ResultModel.close() may throw anything
  public void compactedInputTopicEveryReadRecordOnce(TestReporter reporter) throws Exception {
    assumeFaultRules();
    assumeStoreIndependentFaults();
    String run = newRunId();
    faultRunIds.add(run);
    Random random = new Random(settings.seed() ^ 0x636f6d70L);
    Path logDir = Path.of("target", "e2e", run);
    int partitions = settings.partitions();
    List<E2eRecord> generated = Fixture.generate(faults.records(), settings.keys(), random);
    int third = generated.size() / 3;
    // Before the first consumer stops: the generated keys, which all recur later (their records
    // here are compacted away), and one key per partition that never recurs, so its record stays
    // in the log: a consumer that reset to the log start would apply it twice.
    List<E2eRecord> first = new ArrayList<>(generated.subList(0, third));
    for (int p = 0; p < partitions; p++) {
      int keyNumber = settings.keys() + p;
      while (keyNumber % partitions != p) {
        keyNumber++;
      }
      first.add(new E2eRecord(String.format("s%07d", p), String.format("k%03d", keyNumber), 1 + p));
    }
    List<E2eRecord> second = generated.subList(third, 2 * third);
    List<E2eRecord> rest = generated.subList(2 * third, generated.size());
    List<E2eRecord> input = new ArrayList<>(first);
    input.addAll(second);
    input.addAll(rest);
    ChaosReport report = new ChaosReport(run, settings);
    long gaps = 0;
    long started = System.nanoTime();
    log.info(
        "[tandem-e2e] {} compacted input run {}: {} records, {} keys, seed {}",
        getClass().getSimpleName(),
        run,
        input.size(),
        settings.keys() + partitions,
        settings.seed());
    try (Fixture fixture =
            new Fixture(bootstrapServers(), "tandem-e2e-" + run, partitions, COMPACTED);
        KafkaProducer<String, String> producer = fixture.producer();
        OffsetStore<?> store = OffsetStores.open(storeUri(), storeProperties());
        ResultModel<?> model = newModel(run)) {
      List<String> args = workerArgs(run, fixture.topic(), run);
      // 1. A first consumer reads the first part and stops: its positions are the log end.
      sendInSegments(fixture, producer, first, 2);
      try (ForkedJvm w = worker("w1", withName(args, "w1"), logDir)) {
        awaitDrained(fixture, store, run, List.of(w), report);
        assertTrue(w.stop(Duration.ofSeconds(60)), "the first consumer did not stop cleanly");
        gaps += w.stat("gaps");
      }
      Map<Partition, Long> stored = new TreeMap<>(store.positions(run, fixture.partitions()));
      // 2. No consumer runs: the second part in segments of their own, and a few records of the
      // rest that close the last of those segments (the cleaner never touches the active one).
      sendInSegments(fixture, producer, second, 3);
      TimeUnit.MILLISECONDS.sleep(3 * SEGMENT_MS);
      int closing = Math.min(rest.size(), partitions);
      fixture.send(producer, rest.subList(0, closing));
      Map<Partition, Long> ends = fixture.endOffsets();
      // The records at the stored positions are superseded by later ones of the same key: wait
      // until the cleaner has removed them.
      Map<Partition, java.util.NavigableMap<Long, E2eRecord>> snapshot;
      List<Partition> compactedAtStored = new ArrayList<>();
      long waitUntil = System.nanoTime() + COMPACTION_WAIT.toNanos();
      while (true) {
        snapshot = fixture.readAll(Duration.ofSeconds(60));
        compactedAtStored.clear();
        for (Partition p : fixture.partitions()) {
          long at = stored.get(p);
          if (at < ends.get(p) && !snapshot.get(p).containsKey(at)) {
            compactedAtStored.add(p);
          }
        }
        if (compactedAtStored.size() == partitions || System.nanoTime() > waitUntil) {
          break;
        }
        TimeUnit.MILLISECONDS.sleep(250);
      }
      assertTrue(
          !compactedAtStored.isEmpty(),
          "the log cleaner removed no record at a stored position within "
              + COMPACTION_WAIT
              + " (log.cleaner.enable off on the broker, or a long log.cleaner.backoff.ms?):"
              + " the rule would test nothing. Stored "
              + stored);
      // 3. A second consumer resumes from those positions; then the rest arrives in segments while
      // it runs and the cleaner compacts behind (and sometimes ahead of) it.
      List<ForkedJvm> workers = new ArrayList<>();
      Set<String> mustBeRead = new java.util.HashSet<>();
      Map<Partition, Long> resumeAt = new TreeMap<>();
      try {
        workers.add(worker("w2", withName(args, "w2"), logDir));
        awaitDrained(fixture, store, run, workers, report);
        // Records are only ever removed below the log end: one still in the log now existed while
        // the consumer passed its offset, so it must have been read. (One the cleaner removed
        // after the snapshot above, before the consumer got there, was rightly never read.)
        Map<Partition, java.util.NavigableMap<Long, E2eRecord>> resumed =
            fixture.readAll(Duration.ofSeconds(60));
        for (Partition p : fixture.partitions()) {
          var tail = resumed.get(p).tailMap(stored.get(p), true);
          tail.values().forEach(r -> mustBeRead.add(r.id()));
          if (compactedAtStored.contains(p) && !tail.isEmpty()) {
            resumeAt.put(p, tail.firstKey());
          }
        }
        List<E2eRecord> remaining = rest.subList(closing, rest.size());
        int parts = 4;
        for (int i = 0; i < parts; i++) {
          fixture.send(
              producer,
              remaining.subList(remaining.size() * i / parts, remaining.size() * (i + 1) / parts));
          TimeUnit.MILLISECONDS.sleep(3 * SEGMENT_MS + random.nextInt(500));
        }
        awaitDrained(fixture, store, run, workers, report);
        for (ForkedJvm w : workers) {
          if (!w.stop(Duration.ofSeconds(60))) {
            report.unexpectedExits.add(w.name() + " did not stop cleanly");
          }
          gaps += w.stat("gaps");
        }
      } finally {
        for (ForkedJvm w : workers) {
          w.close();
        }
      }
      Map<Partition, java.util.NavigableMap<Long, E2eRecord>> finalLog =
          fixture.readAll(Duration.ofSeconds(60));
      ResultModel.Observed observed = model.read();
      Map<String, Integer> occurrences = observed.occurrences();
      Set<String> inLog = new java.util.HashSet<>();
      Map<String, E2eRecord> lastInLog = new TreeMap<>();
      for (var part : finalLog.values()) {
        for (E2eRecord r : part.values()) {
          inLog.add(r.id());
          lastInLog.put(r.key(), r); // offset order within the key's partition
        }
      }
      Map<String, E2eRecord> lastProduced = new TreeMap<>();
      Map<String, E2eRecord> lastApplied = new TreeMap<>();
      List<E2eRecord> applied = new ArrayList<>();
      List<String> lostSample = new ArrayList<>();
      long lost = 0;
      long neverRead = 0;
      for (E2eRecord r : input) {
        lastProduced.put(r.key(), r);
        boolean hasResult = occurrences.getOrDefault(r.id(), 0) > 0;
        if (hasResult) {
          applied.add(r);
          lastApplied.put(r.key(), r);
        } else if (inLog.contains(r.id()) || mustBeRead.contains(r.id())) {
          // Still in the log at the end, or after the second consumer drained past it.
          lost++;
          if (lostSample.size() < 10) {
            lostSample.add(r.id());
          }
        } else {
          neverRead++; // compacted away before any consumer read it: a gap
        }
      }
      // Duplicates, results for ids never produced and the folds, over the records applied.
      Check check = Check.of(applied, observed);
      long compactedAway = input.size() - inLog.size();
      tableRow(
          "compacted input",
          2,
          input.size(),
          lost,
          check.duplicates,
          foldsVerdict(check),
          String.format(
              "compacted away=%d, never read (gaps)=%d, gap offsets passed by consumers=%d,"
                  + " stored positions compacted away=%d/%d (resumed at %s from %s),"
                  + " unexpected=%d, %.0fs, seed=%d",
              compactedAway,
              neverRead,
              gaps,
              compactedAtStored.size(),
              partitions,
              resumeAt,
              stored,
              check.unexpected,
              (System.nanoTime() - started) / 1e9,
              settings.seed()));
      reporter.publishEntry(
          "tandem.e2e.compacted",
          "compactedAway=" + compactedAway + " neverRead=" + neverRead + " gaps=" + gaps);
      assertEquals(
          List.of(),
          report.unexpectedExits,
          "consumers failed on the compacted topic (an offset gap must not be an error)");
      assertTrue(compactedAway > 0, "the cleaner removed no record: the rule tested nothing");
      assertTrue(
          neverRead >= compactedAtStored.size() && gaps > 0,
          "no consumer passed a compacted gap (never read="
              + neverRead
              + ", gap offsets="
              + gaps
              + ")");
      assertEquals(
          0,
          lost,
          "records still in the log at the end, or after the resumed consumer drained past them,"
              + " never applied: "
              + lostSample);
      assertEquals(0, check.duplicates, "records applied twice: " + check.duplicateSample);
      assertEquals(
          0, check.unexpected, "results for ids never produced: " + check.unexpectedSample);
      assertEquals(lastProduced, lastInLog, "the topic's last value per key (the cleaner's)");
      assertEquals(lastProduced, lastApplied, "the last value per key among the results");
      if (capabilities().transactional()) {
        assertEquals(
            check.expectedTotals, check.observedTotals, "per-key folds over the records applied");
      }
    }
  }

  /** Sends records in bursts a few segment.ms apart, so each burst starts a segment. */
  private static void sendInSegments(
      Fixture fixture, KafkaProducer<String, String> producer, List<E2eRecord> records, int bursts)
      throws Exception {
    for (int i = 0; i < bursts; i++) {
      if (i > 0) {
        TimeUnit.MILLISECONDS.sleep(3 * SEGMENT_MS);
      }
      fixture.send(
          producer,
          records.subList(records.size() * i / bursts, records.size() * (i + 1) / bursts));
    }
  }

  private static Map<String, String> protocolProperties(String protocol) {
    if (protocol.equals("consumer")) {
      // KIP-848: the broker owns session and heartbeat timing, the client may not set them.
      return Map.of("group.protocol", "consumer");
    }
    return Map.of(
        "group.protocol", "classic", "session.timeout.ms", "6000", "heartbeat.interval.ms", "1000");
  }

  private FaultPlan plan(String name, int cycles) {
    FaultPlan p = new FaultPlan();
    p.name = name;
    p.cycles = cycles;
    p.bootstrap = bootstrapServers();
    p.uri = storeUri();
    p.props = storeProperties();
    p.consumer = consumerProperties();
    return p;
  }

  /** A row of the fault table, also counted by a running soak. */
  private void tableRow(
      String fault,
      int cycles,
      long records,
      long lost,
      long duplicated,
      String folds,
      String notes) {
    FaultTable.row(
        getClass().getSimpleName(), fault, cycles, records, lost, duplicated, folds, notes);
    SoakTally t = soak;
    if (t != null) {
      t.add(fault, cycles, records, lost, duplicated, folds);
    }
  }

  /** A soak's totals per fault. */
  private static final class SoakTally {
    final Map<String, Integer> rounds = new TreeMap<>();
    final Map<String, Integer> skipped = new TreeMap<>();
    // per fault: runs, cycles, records, lost, duplicated, folds checked, folds exact
    private final Map<String, long[]> rows = new TreeMap<>();

    synchronized void add(
        String fault, int cycles, long records, long lost, long duplicated, String folds) {
      long[] r = rows.computeIfAbsent(fault, f -> new long[7]);
      r[0]++;
      r[1] += cycles;
      r[2] += records;
      r[3] += lost;
      r[4] += duplicated;
      if (folds.equals("yes") || folds.equals("NO")) {
        r[5]++;
        if (folds.equals("yes")) {
          r[6]++;
        }
      }
    }

    synchronized String table(String backend, int total, long seed, long minutes) {
      StringBuilder b = new StringBuilder();
      b.append(
          String.format(
              "soak %s: %d min, %d rounds, seed %d (replay: -Dtandem.e2e.seed=%d)%n"
                  + "rounds per pick: %s%nskipped: %s%n%n",
              backend, minutes, total, seed, seed, rounds, skipped));
      b.append("| backend | fault | runs | cycles | records | lost | duplicated | folds exact |\n");
      b.append("|---|---|---|---|---|---|---|---|\n");
      rows.forEach(
          (fault, r) ->
              b.append(
                  String.format(
                      "| %s | %s | %d | %d | %d | %d | %d | %s |%n",
                      backend,
                      fault,
                      r[0],
                      r[1],
                      r[2],
                      r[3],
                      r[4],
                      r[5] == 0 ? "n/a" : r[6] + "/" + r[5])));
      return b.toString();
    }
  }

  private String foldsVerdict(Check check) {
    if (!capabilities().transactional()) {
      return "n/a (idempotent)";
    }
    return check.expectedTotals.equals(check.observedTotals) ? "yes" : "NO";
  }

  /** What a fault run does besides the common frame: its cycle and its connections. */
  private static final class FaultPlan {
    String name;
    int cycles;
    int initialWorkers = 2;
    String bootstrap;
    String uri;
    Map<String, String> props;
    Map<String, String> consumer;
    String endpoint;
    FaultCycle cycle;
  }

  @FunctionalInterface
  private interface FaultCycle {
    void inject(int index, FaultRun run) throws Exception;
  }

  /**
   * The common frame of every fault: input in chunks, workers started, the fault injected once per
   * cycle among busy consumers, then drained to the log end and checked: every record once, folds
   * exact (TRANSACTIONAL), positions at the log end, no worker crashed by itself.
   */
  @SuppressWarnings("try") // ResultModel.close() may throw anything
  private FaultOutcome faultRun(FaultPlan plan, TestReporter reporter) throws Exception {
    String run = newRunId();
    faultRunIds.add(run);
    Random random = new Random(settings.seed() ^ plan.name.hashCode());
    Path logDir = Path.of("target", "e2e", run);
    List<E2eRecord> input = Fixture.generate(faults.records(), settings.keys(), random);
    log.info(
        "[tandem-e2e] {} fault run '{}' {}: {} cycles, {} records, seed {} (worker logs in {})",
        getClass().getSimpleName(),
        plan.name,
        run,
        plan.cycles,
        input.size(),
        settings.seed(),
        logDir.toAbsolutePath());
    long started = System.nanoTime();
    try (Fixture fixture = new Fixture(plan.bootstrap, "tandem-e2e-" + run, settings.partitions());
        KafkaProducer<String, String> producer = fixture.producer();
        OffsetStore<?> store = OffsetStores.open(plan.uri, plan.props);
        ResultModel<?> model = newModel(run, plan.uri, plan.props)) {
      List<String> args =
          workerArgs(
              run, fixture.topic(), run, plan.bootstrap, plan.uri, plan.props, plan.consumer);
      if (plan.endpoint != null) {
        args.add("--storeEndpoint=" + plan.endpoint);
      }
      FaultRun r = new FaultRun(run, plan, fixture, producer, store, input, args, logDir, random);
      try {
        for (int i = 0; i < plan.initialWorkers; i++) {
          r.workers.add(r.startWorker());
        }
        for (int i = 0; i < plan.cycles; i++) {
          for (ForkedJvm w : r.workers) {
            awaitStarted(w);
          }
          awaitSomeoneAssigned(r.workers);
          TimeUnit.MILLISECONDS.sleep(200 + random.nextInt(800));
          collectExits(r.workers, r.report);
          plan.cycle.inject(i, r);
          r.cycles++;
        }
        r.produceRest();
        while (r.workers.size() < 2) {
          r.workers.add(r.startWorker());
        }
        awaitDrained(fixture, store, run, r.workers, r.report);
        for (ForkedJvm w : new ArrayList<>(r.workers)) {
          r.retire(w);
        }
        r.workers.clear();
      } finally {
        for (ForkedJvm w : r.workers) {
          w.close();
        }
      }
      // A fresh connection to read back: the setup one may have died with a killed server.
      Check check;
      try (ResultModel<?> reader = newModel(run, plan.uri, plan.props)) {
        check = Check.of(r.expected, reader.read());
      }
      FaultOutcome out = new FaultOutcome(plan.name, r, check, reporter);
      out.note(String.format("%.0fs", (System.nanoTime() - started) / 1e9));
      assertEquals(
          0, r.report.unexpectedExits.size(), "workers crashed by themselves: " + out.summary());
      assertTrue(r.failures.isEmpty(), "acknowledged state lost: " + r.failures);
      assertEquals(0, check.losses, "records with no result: " + check.lostSample);
      assertEquals(0, check.duplicates, "records with several results: " + check.duplicateSample);
      assertEquals(
          0, check.unexpected, "results for ids never committed: " + check.unexpectedSample);
      if (capabilities().transactional()) {
        assertEquals(check.expectedTotals, check.observedTotals, "per-key totals");
      }
      return out;
    }
  }

  /** The state of one fault run, handed to its cycles. */
  private final class FaultRun {
    final String run;
    final FaultPlan plan;
    final Fixture fixture;
    final KafkaProducer<String, String> producer;
    final OffsetStore<?> store;
    final List<E2eRecord> input;
    final List<E2eRecord> expected = new ArrayList<>();
    final List<String> args;
    final Path logDir;
    final Random random;
    final ChaosReport report;
    final List<ForkedJvm> workers = new ArrayList<>();
    final List<String> failures = new ArrayList<>();
    final Map<String, Long> counters = new TreeMap<>();
    final Map<String, Long> retiredStats = new TreeMap<>();
    final int chunk;
    final int[] serial = {0};
    int produced;
    int cycles;

    FaultRun(
        String run,
        FaultPlan plan,
        Fixture fixture,
        KafkaProducer<String, String> producer,
        OffsetStore<?> store,
        List<E2eRecord> input,
        List<String> args,
        Path logDir,
        Random random) {
      this.run = run;
      this.plan = plan;
      this.fixture = fixture;
      this.producer = producer;
      this.store = store;
      this.input = input;
      this.args = args;
      this.logDir = logDir;
      this.random = random;
      this.report = new ChaosReport(run, settings);
      this.chunk = Math.max(1, input.size() / (2 * Math.max(1, plan.cycles) + 1));
    }

    ForkedJvm startWorker() {
      return ExactlyOnceVerification.this.startWorker(run, args, logDir, serial, report);
    }

    /** A clean stop; its counters are kept for the report. */
    void retire(ForkedJvm w) throws InterruptedException {
      if (!w.stop(Duration.ofSeconds(60))) {
        report.unexpectedExits.add(w.name() + " did not stop cleanly");
      }
      for (String k : STAT_KEYS) {
        retiredStats.merge(k, w.stat(k), Long::sum);
      }
      w.close();
    }

    /** A SIGKILL; its last reported counters are kept for the report. */
    void kill(ForkedJvm w) throws InterruptedException {
      for (String k : STAT_KEYS) {
        retiredStats.merge(k, w.stat(k), Long::sum);
      }
      w.kill();
      w.close();
    }

    ForkedJvm busyWorker() {
      List<ForkedJvm> busy = workers.stream().filter(w -> w.stat("assigned") > 0).toList();
      return busy.isEmpty()
          ? workers.get(random.nextInt(workers.size()))
          : busy.get(random.nextInt(busy.size()));
    }

    void produceChunk() throws Exception {
      if (produced < input.size()) {
        int until = Math.min(input.size(), produced + chunk);
        List<E2eRecord> part = input.subList(produced, until);
        fixture.send(producer, part);
        expected.addAll(part);
        produced = until;
      }
    }

    void produceRest() throws Exception {
      while (produced < input.size()) {
        produceChunk();
      }
    }

    /**
     * Sends {@code count} records in one producer transaction, then aborts it, or leaves it open
     * (returning the producer, which the caller closes after the run). Their ids start with {@code
     * prefix}: none may ever get a result.
     */
    KafkaProducer<String, String> produceTransaction(String prefix, int count, boolean abort)
        throws Exception {
      KafkaProducer<String, String> tx =
          fixture.transactionalProducer(run + "-" + prefix, Duration.ofSeconds(3));
      tx.initTransactions();
      tx.beginTransaction();
      List<E2eRecord> doomed = Fixture.generate(count, settings.keys(), random);
      for (E2eRecord r : doomed) {
        E2eRecord x = new E2eRecord(prefix + r.id(), r.key(), r.amount());
        tx.send(fixture.record(x)).get(60, TimeUnit.SECONDS);
      }
      if (abort) {
        tx.abortTransaction();
        tx.close(Duration.ofSeconds(10));
        return null;
      }
      return tx;
    }

    /** Waits until the workers committed something since the last call. */
    void awaitCommits() throws InterruptedException {
      long before = workers.stream().mapToLong(w -> w.stat("commits")).sum();
      long deadline = System.nanoTime() + SHORT_WAIT.toNanos();
      while (workers.stream().mapToLong(w -> w.stat("commits")).sum() <= before
          && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(50);
      }
    }

    /** The stored positions of the run's group, retried while the store comes back. */
    Map<Partition, Long> positions() throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (true) {
        try {
          return new TreeMap<>(store.positions(run, fixture.partitions()));
        } catch (StoreUnavailableException e) {
          if (System.nanoTime() > deadline) {
            throw e;
          }
          TimeUnit.MILLISECONDS.sleep(200);
        }
      }
    }

    void count(String key, long n) {
      counters.merge(key, n, Long::sum);
    }
  }

  private static final List<String> STAT_KEYS =
      List.of(
          "commits", "conflicts", "commitRetries", "resolved", "lostReplies", "skipped", "gaps");

  /** A fault run's figures: one row of the fault table. */
  private final class FaultOutcome {
    final String fault;
    final FaultRun run;
    final Check check;
    final TestReporter reporter;
    final Map<String, Long> stats;
    final List<String> notes = new ArrayList<>();

    FaultOutcome(String fault, FaultRun run, Check check, TestReporter reporter) {
      this.fault = fault;
      this.run = run;
      this.check = check;
      this.reporter = reporter;
      this.stats = run.retiredStats;
    }

    long counter(String key) {
      return run.counters.getOrDefault(key, 0L);
    }

    void note(String note) {
      notes.add(note);
    }

    String summary() {
      return "fault="
          + fault
          + " run="
          + run.run
          + " cycles="
          + run.cycles
          + " records="
          + run.expected.size()
          + " lost="
          + check.losses
          + " duplicated="
          + check.duplicates
          + " unexpected="
          + check.unexpected
          + " "
          + run.counters
          + " workers "
          + stats
          + " worker JVMs="
          + run.report.started
          + " crashed="
          + run.report.unexpectedExits
          + " seed="
          + settings.seed()
          + " "
          + String.join("; ", notes);
    }

    void publish() {
      log.info(
          "[tandem-e2e] {}: {}",
          ExactlyOnceVerification.this.getClass().getSimpleName(),
          summary());
      reporter.publishEntry("tandem.e2e.fault", summary());
      List<String> parts = new ArrayList<>(notes);
      run.counters.forEach((k, v) -> parts.add(k + "=" + v));
      parts.add("seed=" + settings.seed());
      tableRow(
          fault,
          run.cycles,
          run.expected.size(),
          check.losses,
          check.duplicates,
          foldsVerdict(check),
          String.join(", ", parts));
    }

    @Override
    public String toString() {
      return summary();
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
    return newModel(namespace, storeUri(), storeProperties());
  }

  private ResultModel<?> newModel(String namespace, String uri, Map<String, String> props)
      throws Exception {
    ResultModel<?> model = Models.create(resultModel().getName());
    model.open(uri, props, namespace);
    return model;
  }

  private static String newRunId() {
    byte[] b = new byte[4];
    ThreadLocalRandom.current().nextBytes(b);
    return "e2e" + HexFormat.of().formatHex(b);
  }

  private List<String> workerArgs(String run, String topic, String group) throws IOException {
    return workerArgs(
        run, topic, group, bootstrapServers(), storeUri(), storeProperties(), consumerProperties());
  }

  private List<String> workerArgs(
      String run,
      String topic,
      String group,
      String bootstrap,
      String uri,
      Map<String, String> props,
      Map<String, String> consumer)
      throws IOException {
    List<String> args = new ArrayList<>();
    args.add("--bootstrap=" + bootstrap);
    args.add("--topic=" + topic);
    args.add("--group=" + group);
    args.add("--store=" + uri);
    args.add("--model=" + resultModel().getName());
    args.add("--namespace=" + run);
    args.add("--workMs=" + settings.workMs());
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
    consumer.forEach((k, v) -> args.add("--consumer." + k + "=" + v));
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
