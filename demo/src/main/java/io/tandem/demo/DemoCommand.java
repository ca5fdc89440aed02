package io.tandem.demo;

import io.tandem.cli.Tandem;
import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.StoreUris;
import io.tandem.testing.CassandraServer;
import io.tandem.testing.ForkedJvm;
import io.tandem.testing.FreePorts;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.MariaDbServer;
import io.tandem.testing.MongoServer;
import io.tandem.testing.PostgresServer;
import io.tandem.testing.RedisServer;
import io.tandem.testing.ZooKeeperTestServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.h2.tools.Server;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tandem demo}: payments folded into account balances by a consumer group whose members are
 * killed with SIGKILL while they work (some of them in the middle of a commit), then a check that
 * every payment was applied exactly once and every balance is right.
 *
 * <p>With no options everything is embedded: a Kafka broker in this JVM and a PostgreSQL server
 * (the consumers are separate JVMs, killed for real). {@code --store} names another embedded
 * backend (MariaDB, H2, Redis, ZooKeeper, Cassandra, a MongoDB emulator) or takes a store URI;
 * {@code --bootstrap-server} runs on an existing Kafka. On a jdbc: store the ledger is two SQL
 * tables; on the others it is the store's own end-to-end result model ({@link ModelLedger}).
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Exactly-once under crashes: a consumer group folds payments into account balances while its"
          + " members are killed with SIGKILL (some mid-commit) and restarted; then every payment"
          + " and balance is checked.",
      "Nothing to install: Kafka runs embedded, and so does the store (PostgreSQL unless --store"
          + " names another). Exit status 1 if a payment was lost or applied twice."
    })
final class DemoCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--records", description = "Payments to produce (default ${DEFAULT-VALUE}).")
  int records = 100_000;

  @Option(names = "--crashes", description = "Consumer kills (default ${DEFAULT-VALUE}).")
  int crashes = 5;

  @Option(
      names = "--zombies",
      description =
          "Consumers frozen with SIGSTOP until the group has moved their partitions on, then"
              + " thawed with SIGCONT: zombies holding stale batches (default ${DEFAULT-VALUE}).")
  int zombies = 0;

  @Option(names = "--partitions", description = "Topic partitions (default ${DEFAULT-VALUE}).")
  int partitions = 6;

  @Option(names = "--consumers", description = "Consumer JVMs (default ${DEFAULT-VALUE}).")
  int consumers = 3;

  @Option(names = "--accounts", description = "Distinct accounts (default ${DEFAULT-VALUE}).")
  int accounts = 1_000;

  @Option(
      names = "--store",
      paramLabel = "NAME|URI",
      description =
          "postgres (default: an embedded PostgreSQL), mariadb (embedded MariaDB), h2 (an H2"
              + " file database served over TCP), redis, zookeeper, cassandra (forked, ~1 min to"
              + " start), mongodb (an in-process emulator, standalone: IDEMPOTENT), or a store URI"
              + " such as jdbc:postgresql://localhost/app (with -P user=.. -P password=..),"
              + " redis://.., zookeeper://.., cassandra://.., mongodb://..")
  String storeUri = "postgres";

  @Option(
      names = {"-P", "--store-property"},
      paramLabel = "KEY=VALUE",
      description = "Store option beside the URI (repeatable).")
  Map<String, String> storeProperties = new LinkedHashMap<>();

  @Option(
      names = "--bootstrap-server",
      paramLabel = "HOST:PORT",
      description = "An existing Kafka instead of the embedded broker.")
  String bootstrap;

  @Option(
      names = "--work-dir",
      paramLabel = "DIR",
      description = "Where the embedded broker, database and logs live (default ${DEFAULT-VALUE}).")
  Path workRoot = Path.of(".tandem", "demo");

  @Option(names = "--keep", description = "Keep the run's work directory (kept anyway on failure).")
  boolean keep;

  @Option(names = "--seed", description = "Random seed, to replay a run (default: random).")
  Long seed;

  /** Store names the demo starts itself. */
  private static final List<String> EMBEDDED =
      List.of("postgres", "mariadb", "h2", "redis", "zookeeper", "cassandra", "mongodb");

  /** The keyspace, database or root the demo uses on a store it starts itself. */
  private static final String NAMESPACE = "tandem_demo";

  /** URI schemes the demo has a ledger for: SQL for jdbc:, a result model for the others. */
  private static final List<String> LEDGER_SCHEMES =
      List.of("jdbc", "redis", "rediss", "zookeeper", "cassandra", "mongodb", "mongodb+srv");

  private PrintWriter out;
  private final List<AutoCloseable> resources = new ArrayList<>();
  private ForkedJvm[] workers = new ForkedJvm[0];

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    check(records >= 1, "--records must be >= 1, got " + records);
    check(crashes >= 0, "--crashes must be >= 0, got " + crashes);
    check(zombies >= 0, "--zombies must be >= 0, got " + zombies);
    check(partitions >= 1, "--partitions must be >= 1, got " + partitions);
    check(consumers >= 1, "--consumers must be >= 1, got " + consumers);
    check(accounts >= 1, "--accounts must be >= 1, got " + accounts);
    boolean named = EMBEDDED.contains(storeUri);
    if (!named) {
      String scheme = StoreUris.scheme(storeUri); // a malformed URI is one clear line
      OffsetStores.provider(storeUri); // an unknown scheme names the artifact that adds it
      if (!LEDGER_SCHEMES.contains(scheme)) {
        throw new Tandem.UsageException(
            "the demo has no ledger for a "
                + scheme
                + " store: it runs on "
                + String.join(", ", EMBEDDED)
                + " or a URI with scheme "
                + String.join(", ", LEDGER_SCHEMES));
      }
    }
    long runSeed = seed != null ? seed : ThreadLocalRandom.current().nextLong();
    String run = HexFormat.of().formatHex(longBytes(runSeed ^ System.nanoTime())).substring(0, 8);
    Path workDir = workRoot.resolve(run).toAbsolutePath();
    Path logDir = Files.createDirectories(workDir.resolve("logs"));
    boolean ok = false;
    try {
      ok = demo(run, runSeed, workDir, logDir);
      return ok ? 0 : Tandem.FAILED;
    } finally {
      closeAll();
      if (ok && !keep) {
        deleteTree(workDir);
      } else {
        out.println("Work directory kept: " + workDir + " (worker logs in logs/)");
      }
      out.flush();
    }
  }

  private boolean demo(String run, long runSeed, Path workDir, Path logDir) throws Exception {
    out.printf(
        "Tandem demo %s: %,d payments on %,d accounts over %d partitions; %d consumer JVMs,"
            + " %d of them killed with SIGKILL while working.%n%n",
        run, records, accounts, partitions, consumers, crashes);

    // 1. Kafka
    long t0 = System.nanoTime();
    String servers;
    String sessionTimeout;
    if (bootstrap == null) {
      out.print("Starting Kafka (embedded KRaft broker) ... ");
      out.flush();
      KafkaBroker broker = KafkaBroker.start(workDir.resolve("kafka"));
      resources.add(0, broker);
      servers = broker.bootstrapServers();
      sessionTimeout = "3000";
      out.printf("%s (%.1f s)%n", servers, seconds(t0));
    } else {
      servers = bootstrap;
      sessionTimeout = "6000"; // the default minimum of any broker
      out.println("Kafka: " + servers);
    }

    // 2. Store
    String uri = storeUri;
    Map<String, String> props = new LinkedHashMap<>(storeProperties);
    if (uri.equals("postgres") || uri.equals("mariadb")) {
      // The testing module's launchers: an address from the environment (TANDEM_POSTGRES,
      // TANDEM_MARIADB), else an embedded server in this JVM's process tree, stopped at exit.
      String user;
      String password;
      String description;
      if (uri.equals("postgres")) {
        PostgresServer server = PostgresServer.shared();
        uri = server.jdbcUrl();
        user = server.user();
        password = server.password();
        description = server.description();
      } else {
        MariaDbServer server = MariaDbServer.shared();
        uri = server.jdbcUrl();
        user = server.user();
        password = server.password();
        description = server.description();
      }
      props.putIfAbsent("user", user);
      if (password != null) {
        props.putIfAbsent("password", password);
      }
      out.println("Store: " + description + " (" + StoreUris.mask(uri) + ")");
    } else if (uri.equals("h2")) {
      Path h2 = Files.createDirectories(workDir.resolve("h2"));
      int port = FreePorts.next();
      // The consumers are separate JVMs and an H2 file is exclusive to one process: serve it.
      Server server =
          Server.createTcpServer(
                  "-tcpPort", Integer.toString(port), "-baseDir", h2.toString(), "-ifNotExists")
              .start();
      resources.add(0, server::stop);
      // WRITE_DELAY=0: each commit reaches the file before it returns (H2's default batches
      // writes for 500 ms, which the store would rightly report as not durable).
      uri = "jdbc:h2:tcp://127.0.0.1:" + port + "/ledger;WRITE_DELAY=0";
      out.println("Store: H2 file database " + h2.resolve("ledger.mv.db") + " (" + uri + ")");
    } else if (uri.equals("redis")) {
      // AOF with appendfsync always: the durable setup (RedisServer.FSYNC_PROPERTY changes it).
      RedisServer server = RedisServer.shared();
      uri = server.uri();
      out.println("Store: " + server.description() + " (" + StoreUris.mask(uri) + ")");
    } else if (uri.equals("zookeeper")) {
      ZooKeeperTestServer server = ZooKeeperTestServer.shared();
      // The ledger's nodes live beside the store's root, under /tandem_demo-e2e.
      uri = "zookeeper://" + server.connectString() + "/" + NAMESPACE + "?connectTimeout=30s";
      out.println("Store: " + server.description() + " (" + uri + ")");
    } else if (uri.equals("cassandra")) {
      out.print("Starting Cassandra (a forked JVM; about a minute) ... ");
      out.flush();
      long tc = System.nanoTime();
      CassandraServer server = CassandraServer.shared();
      uri =
          "cassandra://"
              + server.contactString()
              + "/"
              + NAMESPACE
              + "?localDatacenter="
              + server.localDatacenter();
      out.printf("%s (%.1f s)%n", uri, seconds(tc));
      // One node: replication 1. Created here once, before any consumer opens the keyspace.
      OffsetStores.open(uri + "&createSchema=SimpleStrategy:1", props).close();
      out.println("Store: " + server + " (keyspace " + NAMESPACE + ")");
    } else if (uri.equals("mongodb")) {
      MongoServer.Instance server = MongoServer.inProcess();
      uri = onDatabase(server.uri(), NAMESPACE);
      out.println("Store: " + server.description() + " (" + uri + ")");
    } else {
      out.println("Store: " + StoreUris.mask(uri));
    }
    boolean sql = StoreUris.scheme(uri).equals("jdbc");
    OffsetStore<?> store = OffsetStores.open(uri, props);
    resources.add(0, store);
    Capabilities caps = store.capabilities();
    if (sql && !caps.transactional()) {
      throw new Tandem.UsageException(
          "the demo folds balances, which needs a TRANSACTIONAL store; this one is "
              + caps.guarantee()
              + " ("
              + caps.description()
              + ")");
    }
    out.println("       " + caps.guarantee() + ": " + caps.description());
    DemoLedger ledger = new DemoLedger(run);
    String modelClass = null;
    ModelLedger model = null;
    if (sql) {
      try (Connection c = DemoLedger.connect(uri, props)) {
        DemoLedger.createTables(c);
      }
      out.println("Ledger: SQL tables " + DemoLedger.PAYMENTS + ", " + DemoLedger.BALANCES);
    } else {
      // Opened here first: the model creates its tables, collections or nodes once, before the
      // consumers open it (Cassandra's CREATE TABLE must not race), and reads the run back at
      // the end.
      modelClass = ModelLedger.modelFor(uri, caps);
      model =
          ModelLedger.open(
              modelClass, uri, props, ModelLedger.namespace(run), caps.transactional());
      resources.add(0, model);
      out.println(
          "Ledger: "
              + modelClass.substring(modelClass.lastIndexOf('.') + 1)
              + (caps.transactional()
                  ? " (a result appended per payment, balances folded in the commit)"
                  : " (keyed results per payment; no balances folded: an IDEMPOTENT store"
                      + " replays a batch over its own keys, which a fold would count twice)"));
    }

    // 3. Topic and payments
    String topic = "tandem-demo-payments-" + run;
    String group = "tandem-demo-" + run;
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers))) {
      admin
          .createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty())))
          .all()
          .get(60, TimeUnit.SECONDS);
    }
    Random random = new Random(runSeed);
    Map<String, Long> expected = new TreeMap<>();
    long t1 = System.nanoTime();
    try (KafkaProducer<String, String> producer = producer(servers)) {
      for (long id = 0; id < records; id++) {
        String account = String.format(Locale.ROOT, "acct-%05d", random.nextInt(accounts));
        // Deposits and withdrawals, in cents.
        long cents =
            random.nextInt(10) < 7 ? 1 + random.nextInt(50_000) : -1 - random.nextInt(20_000);
        expected.merge(account, cents, Long::sum);
        producer.send(
            new ProducerRecord<>(
                topic, account, new DemoLedger.Payment(id, account, cents).value()));
      }
      producer.flush();
    }
    out.printf(
        "Produced %,d payments to topic %s in %.1f s (seed %d)%n%n",
        records, topic, seconds(t1), runSeed);

    // 4. Consumers, crashes, progress
    List<String> args = new ArrayList<>();
    args.add("--bootstrap=" + servers);
    args.add("--store=" + uri);
    args.add("--group=" + group);
    args.add("--topic=" + topic);
    args.add("--run=" + run);
    args.add("--sessionTimeoutMs=" + sessionTimeout);
    if (!props.isEmpty()) {
      args.add("--storeProps=" + secretFile(workDir, props));
    }
    if (modelClass != null) {
      args.add("--model=" + modelClass);
    }
    List<Partition> all = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      all.add(Partition.of(topic, p));
    }
    ForkedJvm[] slots = new ForkedJvm[consumers];
    this.workers = slots;
    int started = 0;
    long conflicts = 0;
    int killed = 0;
    int midCommit = 0;
    int frozen = 0;
    int zombie = -1;
    long thawAt = 0;
    // Frozen past the session timeout: the broker evicts the member and moves its partitions.
    long freezeNanos = TimeUnit.MILLISECONDS.toNanos(2L * Long.parseLong(sessionTimeout) + 1000);
    List<String> failures = new ArrayList<>();
    long t2 = System.nanoTime();
    for (int i = 0; i < consumers; i++) {
      slots[i] = startWorker(i, ++started, args, run, logDir);
    }
    out.printf("Consuming with group %s: %d consumers (separate JVMs)%n", group, consumers);
    boolean console = System.console() != null;
    long lastLine = 0;
    long committed = 0;
    long lastProgress = System.nanoTime();
    long lastCommitted = -1;
    while (true) {
      committed = store.positions(group, all).values().stream().mapToLong(Long::longValue).sum();
      if (committed != lastCommitted) {
        lastCommitted = committed;
        lastProgress = System.nanoTime();
      }
      double elapsed = seconds(t2);
      String line =
          String.format(
              "  %,11d / %,d applied (%3d%%)  %,8.0f payments/s  crashes %d/%d  consumers %d",
              committed,
              records,
              committed * 100 / records,
              committed / Math.max(elapsed, 0.001),
              killed,
              crashes,
              alive(slots));
      if (console) {
        out.print("\r" + line);
        out.flush();
      } else if (System.nanoTime() - lastLine > TimeUnit.SECONDS.toNanos(2)) {
        out.println(line);
        lastLine = System.nanoTime();
      }
      if (zombie >= 0 && (committed >= records || System.nanoTime() >= thawAt)) {
        slots[zombie].resume();
        if (console) {
          out.println();
        }
        out.printf(
            "  ! SIGCONT %s at %,d applied: a zombie whose partitions moved on; the store refuses"
                + " its stale commits%n",
            slots[zombie].name(), committed);
        zombie = -1;
        lastProgress = System.nanoTime();
      }
      if (committed >= records) {
        if (console) {
          out.println();
        } else {
          out.println(line);
        }
        break;
      }
      if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(120)) {
        out.println();
        out.println("No progress for 120 s; giving up. Worker logs: " + logDir);
        return false;
      }
      // The next zombie, like the crashes, when its share of the work is committed.
      if (zombie < 0
          && frozen < zombies
          && committed >= (long) records * (frozen + 1) / (zombies + 1)) {
        int slot = 0;
        for (int i = 0; i < consumers; i++) {
          if (slots[i].stat("lag") > slots[slot].stat("lag")) {
            slot = i;
          }
        }
        slots[slot].pause();
        zombie = slot;
        thawAt = System.nanoTime() + freezeNanos;
        frozen++;
        if (console) {
          out.println();
        }
        out.printf(
            "  ! SIGSTOP %s at %,d applied; SIGCONT in %d s%n",
            slots[slot].name(), committed, TimeUnit.NANOSECONDS.toSeconds(freezeNanos));
      }
      // The next crash lands when its share of the work is committed: spread over the run.
      // Never the frozen one (its zombie moment comes when it is thawed).
      if (zombie < 0
          && killed < crashes
          && committed >= (long) records * (killed + 1) / (crashes + 1)) {
        // The victim is the consumer with the most work left, so the kill interrupts work (a
        // consumer whose partitions are drained would have no commit to die in).
        int slot = random.nextInt(consumers);
        for (int i = 0; i < consumers; i++) {
          if (slots[i].stat("lag") > slots[slot].stat("lag")) {
            slot = i;
          }
        }
        ForkedJvm victim = slots[slot];
        boolean inCommit = false;
        if (killed % 2 == 0) {
          victim.send("hang");
          inCommit = victim.await("hang", Duration.ofSeconds(10)).isPresent();
        }
        victim.kill();
        conflicts += victim.stat("conflicts");
        victim.close();
        killed++;
        if (inCommit) {
          midCommit++;
        }
        String how = inCommit ? "inside an open commit" : "between commits or while polling";
        if (console) {
          out.println();
        }
        out.printf(
            "  ! SIGKILL %s %s at %,d applied; restarting it%n", victim.name(), how, committed);
        slots[slot] = startWorker(slot, ++started, args, run, logDir);
      }
      for (int i = 0; i < consumers; i++) {
        if (!slots[i].alive()) {
          String f = slots[i].event("failed").orElse(null);
          failures.add(slots[i].name() + ": " + (f == null ? "exited" : f));
          conflicts += slots[i].stat("conflicts");
          slots[i].close();
          slots[i] = startWorker(i, ++started, args, run, logDir);
        }
      }
      TimeUnit.MILLISECONDS.sleep(200); // progress refresh period
    }
    double processing = seconds(t2);
    for (ForkedJvm w : slots) {
      w.stop(Duration.ofSeconds(30));
      conflicts += w.stat("conflicts");
      w.close();
    }

    // 5. Verification
    DemoLedger.Observed seen;
    List<Long> lostSample;
    if (model == null) {
      try (Connection c = DemoLedger.connect(uri, props)) {
        seen = ledger.read(c);
        lostSample = seen.distinct() < records ? ledger.lostSample(c, records, 5) : List.of();
      }
    } else {
      lostSample = new ArrayList<>();
      seen = model.read(records, lostSample);
    }
    DemoLedger.Verdict verdict = DemoLedger.Verdict.of(expected, records, seen);
    long lost = verdict.lost();
    boolean ok = verdict.ok();
    out.println();
    out.println("Verification");
    out.printf("  payments produced      %,14d%n", records);
    out.printf("  payments applied       %,14d  (distinct ids)%n", seen.distinct());
    out.printf(
        "  duplicates             %,14d%s%n",
        seen.duplicates(),
        seen.folded() ? "" : "  (keyed results: a replay overwrites its own result)");
    out.printf(
        "  lost                   %,14d%s%n",
        lost, lostSample.isEmpty() ? "" : "  e.g. ids " + lostSample);
    if (seen.unexpected() > 0) {
      out.printf("  results of no payment  %,14d%n", seen.unexpected());
    }
    if (seen.folded()) {
      out.printf(
          "  balances               %,14d  of %,d accounts equal%s%n",
          verdict.matching(),
          verdict.accounts(),
          verdict.wrong().isEmpty()
              ? ""
              : "  e.g. " + verdict.wrong().subList(0, Math.min(5, verdict.wrong().size())));
      out.printf("  total expected         %14s%n", money(verdict.expectedTotal()));
      out.printf("  total actual           %14s%n", money(verdict.actualTotal()));
    } else {
      out.printf(
          "  balances               %14s  (IDEMPOTENT store: keyed results, no fold)%n",
          "not folded");
    }
    out.printf(
        "  crashes (SIGKILL)      %14d  (%d inside an open commit%s)%n",
        killed,
        midCommit,
        killed < crashes
            ? "; the run finished before the other " + (crashes - killed) + ": add --records"
            : "");
    if (zombies > 0) {
      out.printf(
          "  zombies (SIGSTOP/CONT) %14d%s%n",
          frozen,
          frozen < zombies
              ? "  (the run finished before the other " + (zombies - frozen) + ": add --records)"
              : "");
    }
    out.printf("  consumer JVMs started  %14d%n", started);
    out.printf("  commit conflicts       %14d  (stale batches dropped and re-read)%n", conflicts);
    out.printf(
        "  throughput             %,14.0f  payments/s (%,d in %.1f s, crashes and restarts"
            + " included)%n",
        records / processing, records, processing);
    if (!failures.isEmpty()) {
      out.println("  consumers that failed on their own: " + failures);
    }
    out.println();
    out.println(
        ok
            ? seen.folded()
                ? "OK: every payment applied exactly once; every balance matches."
                : "OK: every payment has exactly one result (keyed, IDEMPOTENT store)."
            : "FAILED: the ledger does not match the payments (see above).");
    return ok && failures.isEmpty();
  }

  private ForkedJvm startWorker(int slot, int serial, List<String> args, String run, Path logDir) {
    List<String> a = new ArrayList<>(args);
    a.add("--instance=demo-" + run + "-" + slot);
    // A worker lives as long as the demo however long a big run takes; its watchdog still halts
    // it as soon as the demo's JVM is gone.
    return ForkedJvm.builder("consumer-" + slot + "." + serial, DemoWorker.class.getName())
        .args(a)
        .logDir(logDir)
        .maxLifetime(Duration.ofDays(7))
        .start();
  }

  private static int alive(ForkedJvm[] slots) {
    int n = 0;
    for (ForkedJvm p : slots) {
      n += p.alive() ? 1 : 0;
    }
    return n;
  }

  private static KafkaProducer<String, String> producer(String servers) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "10");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, "131072");
    // Patient timeouts and one request in flight: on a busy machine a timed-out request is
    // retried with the same sequence number, not failed (see KafkaBroker.producerProperties).
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "60000");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "180000");
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  /** Store properties may hold a password: hand them to workers in a file only we can read. */
  private static Path secretFile(Path workDir, Map<String, String> props) throws IOException {
    Path file = workDir.resolve("store.properties");
    Files.deleteIfExists(file);
    Files.createFile(file);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // Not POSIX: the work directory's own protection applies.
    }
    Properties p = new Properties();
    p.putAll(props);
    try (Writer w = Files.newBufferedWriter(file)) {
      p.store(w, "tandem demo store properties");
    }
    return file;
  }

  /** A MongoDB connection string with its database path set; query options are kept. */
  static String onDatabase(String serverUri, String database) {
    int hosts = serverUri.indexOf("://") + 3;
    int query = serverUri.indexOf('?', hosts);
    int slash = serverUri.indexOf('/', hosts);
    String options = query < 0 ? "" : serverUri.substring(query);
    int endOfHosts =
        slash >= 0 && (query < 0 || slash < query) ? slash : query < 0 ? serverUri.length() : query;
    return serverUri.substring(0, endOfHosts) + "/" + database + options;
  }

  private static String money(long cents) {
    return String.format(Locale.ROOT, "%,.2f", cents / 100.0);
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static byte[] longBytes(long v) {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    return b;
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new Tandem.UsageException(message);
    }
  }

  private void closeAll() {
    for (ForkedJvm w : workers) {
      if (w != null) {
        w.close();
      }
    }
    for (AutoCloseable c : resources) {
      try {
        c.close();
      } catch (Exception e) {
        out.println("(closing " + c + " failed: " + e + ")");
      }
    }
    resources.clear();
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
