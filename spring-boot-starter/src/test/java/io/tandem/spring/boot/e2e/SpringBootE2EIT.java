package io.tandem.spring.boot.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.tck.e2e.E2eRecord;
import io.tandem.tck.e2e.internal.Fixture;
import io.tandem.testing.ForkedJvm;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.PostgresServer;
import io.tandem.testing.RedisServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;

/**
 * A real Spring Boot application ({@link E2eApplication}: a batch {@code @KafkaListener} writing
 * with {@code JdbcTemplate}, two consumer threads per JVM) in separate JVMs against the embedded
 * broker and PostgreSQL: JVMs killed hard (also inside an open transaction), restarted, added and
 * removed, under both group protocols; a zombie frozen past its session timeout whose commit must
 * be refused. Checks: every input applied exactly once, per-key folds exact, stored positions at
 * the log end.
 *
 * <p>Sizes: {@code -Dtandem.e2e.records} (3000), {@code -Dtandem.e2e.kills} (4), {@code
 * -Dtandem.e2e.partitions} (4), {@code -Dtandem.e2e.seed}.
 */
class SpringBootE2EIT {

  private static final Logger log = LoggerFactory.getLogger(SpringBootE2EIT.class);

  private final int records = Integer.getInteger("tandem.e2e.records", 3000);
  private final int kills = Integer.getInteger("tandem.e2e.kills", 4);
  private final int partitions = Integer.getInteger("tandem.e2e.partitions", 4);
  private final long seed = Long.getLong("tandem.e2e.seed", System.nanoTime());

  @Test
  void hardKillsAndRebalancesClassicProtocol(TestReporter reporter) throws Exception {
    chaos("classic", "jdbc", reporter);
  }

  @Test
  void hardKillsAndRebalancesConsumerProtocol(TestReporter reporter) throws Exception {
    chaos("consumer", "jdbc", reporter);
  }

  @Test
  void hardKillsWithARedisStoreThroughTheHandleParameter(TestReporter reporter) throws Exception {
    chaos("classic", "redis", reporter);
  }

  @Test
  void zombieWakingAfterTheNewOwnerCommittedIsRefused(TestReporter reporter) throws Exception {
    String run = newRunId();
    String db = database();
    Path logs = Path.of("target", "e2e", run);
    List<E2eRecord> input = Fixture.generate(1000, 10, new Random(seed));
    try (Fixture fixture = new Fixture(bootstrap(), "spring-e2e-" + run, 1);
        OffsetStore<?> store = openStore(db)) {
      try (KafkaProducer<String, String> producer = fixture.producer()) {
        fixture.send(producer, input);
      }
      List<String> args = appArgs(run, fixture.topic(), db, "classic", 1);
      long heldFrom;
      try (ForkedJvm zombie = fork("zombie", List.of("-De2e.gateAtBatch=3"), args, logs)) {
        String gate =
            zombie
                .await("gate", Duration.ofSeconds(90))
                .orElseThrow(() -> new AssertionError("the zombie never reached its third batch"));
        heldFrom = Long.parseLong(gate.substring(gate.lastIndexOf('=') + 1));
        zombie.pause();
        try (ForkedJvm owner = fork("owner", List.of(), args, logs)) {
          Partition p = Partition.of(fixture.topic(), 0);
          long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
          while (store.positions(run, List.of(p)).getOrDefault(p, -1L) <= heldFrom) {
            if (System.nanoTime() > deadline) {
              fail("the new owner never committed past " + heldFrom);
            }
            TimeUnit.MILLISECONDS.sleep(100);
          }
          zombie.resume();
          zombie.send("go");
          assertTrue(
              zombie.awaitStats(s -> s.getOrDefault("conflicts", 0L) > 0, Duration.ofSeconds(60)),
              "the zombie woke after the new owner committed and saw no conflict");
          awaitDrained(fixture, store, run, Duration.ofSeconds(120));
          zombie.stop(Duration.ofSeconds(30));
          owner.stop(Duration.ofSeconds(30));
        }
      }
      Check check = Check.of(input, db);
      String summary =
          "zombie held from offset "
              + heldFrom
              + ", woke after the owner committed past it: conflict observed; records="
              + input.size()
              + " duplicates="
              + check.duplicates
              + " losses="
              + check.losses
              + " folds "
              + (check.expectedTotals.equals(check.observedTotals) ? "exact" : "DIFFER");
      log.info("[spring-e2e] {}", summary);
      reporter.publishEntry("tandem.spring.e2e.zombie", summary);
      check.assertExact();
    }
  }

  private void chaos(String protocol, String storeKind, TestReporter reporter) throws Exception {
    String run = newRunId();
    boolean redis = storeKind.equals("redis");
    String db = redis ? RedisServer.shared().uri() : database();
    int kills = redis ? Math.max(2, this.kills / 2) : this.kills;
    Path logs = Path.of("target", "e2e", run);
    Random random = new Random(seed);
    List<E2eRecord> input = Fixture.generate(records, 20, random);
    int killed = 0;
    int midCommit = 0;
    int added = 0;
    int removed = 0;
    int started = 0;
    long conflicts = 0;
    long t0 = System.nanoTime();
    List<ForkedJvm> apps = new ArrayList<>();
    try (Fixture fixture = new Fixture(bootstrap(), "spring-e2e-" + run, partitions);
        KafkaProducer<String, String> producer = fixture.producer();
        OffsetStore<?> store = redis ? OffsetStores.open(db) : openStore(db)) {
      if (protocol.equals("consumer")) {
        shortSessions(run);
      }
      List<String> args =
          redis
              ? redisArgs(run, fixture.topic(), db)
              : appArgs(run, fixture.topic(), db, protocol, 2);
      int chunk = (int) Math.ceil(input.size() / (kills * 1.6));
      int produced = 0;
      for (int i = 0; i < 2; i++) {
        apps.add(fork("a" + (++started), List.of(), args, logs));
      }
      int step = 0;
      while (killed < kills || added == 0 || removed == 0) {
        step++;
        if (produced < input.size()) {
          int until = Math.min(input.size(), produced + chunk);
          fixture.send(producer, input.subList(produced, until));
          produced = until;
        }
        for (ForkedJvm a : apps) {
          if (a.await("started", Duration.ofSeconds(120)).isEmpty()) {
            fail(a + " did not start within 120 s (see " + logs.toAbsolutePath() + ")");
          }
        }
        awaitSomeoneAssigned(apps);
        TimeUnit.MILLISECONDS.sleep(300 + random.nextInt(1200));
        // Every run adds a member (step 2) and removes one (step 3, cleanly); the rest are
        // SIGKILLs (half of them inside an open transaction) and random adds/removes.
        double dice = step == 2 ? 0 : step == 3 ? 0.2 : random.nextDouble();
        if (dice < 0.15 && apps.size() < 3) {
          apps.add(fork("a" + (++started), List.of(), args, logs));
          added++;
        } else if (dice < 0.25 && apps.size() > 1) {
          ForkedJvm a = apps.remove(random.nextInt(apps.size()));
          conflicts += a.stat("conflicts");
          assertTrue(a.stop(Duration.ofSeconds(60)), a + " did not stop cleanly");
          a.close();
          removed++;
        } else if (killed < kills) {
          List<ForkedJvm> busy = apps.stream().filter(a -> a.stat("assigned") > 0).toList();
          ForkedJvm victim =
              busy.isEmpty()
                  ? apps.get(random.nextInt(apps.size()))
                  : busy.get(random.nextInt(busy.size()));
          apps.remove(victim);
          boolean hung = false;
          if (random.nextBoolean()) {
            victim.send("hang");
            if (produced < input.size()) {
              int until = Math.min(input.size(), produced + chunk / 2);
              fixture.send(producer, input.subList(produced, until));
              produced = until;
            }
            hung = victim.await("hang", Duration.ofSeconds(10)).isPresent();
          }
          log.info("[spring-e2e] SIGKILL {}{}", victim, hung ? " inside an open transaction" : "");
          conflicts += victim.stat("conflicts");
          victim.kill();
          victim.close();
          killed++;
          midCommit += hung ? 1 : 0;
          apps.add(fork("a" + (++started), List.of(), args, logs));
        }
      }
      if (produced < input.size()) {
        fixture.send(producer, input.subList(produced, input.size()));
      }
      while (apps.size() < 2) {
        apps.add(fork("a" + (++started), List.of(), args, logs));
      }
      awaitDrained(fixture, store, run, Duration.ofSeconds(180));
      for (ForkedJvm a : apps) {
        conflicts += a.stat("conflicts");
        assertTrue(a.stop(Duration.ofSeconds(60)), a + " did not stop cleanly");
        a.close();
      }
      apps.clear();
      Check check = redis ? Check.ofRedis(input, db, run) : Check.of(input, db);
      String summary =
          String.format(
              "store=%s protocol=%s records=%d partitions=%d kills=%d (inside an open transaction %d)"
                  + " added=%d removed=%d JVMs=%d conflicts=%d duplicates=%d losses=%d folds=%s"
                  + " positions=log end elapsed=%.1fs seed=%d",
              storeKind,
              protocol,
              input.size(),
              partitions,
              killed,
              midCommit,
              added,
              removed,
              started,
              conflicts,
              check.duplicates,
              check.losses,
              check.expectedTotals.equals(check.observedTotals) ? "exact" : "DIFFER",
              (System.nanoTime() - t0) / 1e9,
              seed);
      log.info("[spring-e2e] {}", summary);
      reporter.publishEntry("tandem.spring.e2e", summary);
      check.assertExact();
    } finally {
      apps.forEach(ForkedJvm::close);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static ForkedJvm fork(
      String name, List<String> jvmOptions, List<String> args, Path logs) {
    return ForkedJvm.builder(name, E2eApplication.class.getName())
        .jvmOptions(jvmOptions)
        .args(args)
        .logDir(logs)
        .maxLifetime(Duration.ofMinutes(20))
        .start();
  }

  private static String bootstrap() {
    return KafkaBroker.shared().bootstrapServers();
  }

  private static String database() throws Exception {
    PostgresServer pg = PostgresServer.shared();
    String url = pg.newDatabase("spring_e2e");
    try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE e2e_results (id TEXT NOT NULL, k TEXT NOT NULL, amount BIGINT NOT NULL)");
      s.execute("CREATE TABLE e2e_totals (k TEXT PRIMARY KEY, total BIGINT NOT NULL)");
    }
    return url;
  }

  private static OffsetStore<?> openStore(String url) {
    PostgresServer pg = PostgresServer.shared();
    return OffsetStores.open(url, Map.of("user", pg.user(), "password", pg.password()));
  }

  private static List<String> appArgs(
      String run, String topic, String db, String protocol, int concurrency) {
    PostgresServer pg = PostgresServer.shared();
    List<String> a = new ArrayList<>();
    a.add("--spring.main.banner-mode=off");
    a.add("--logging.level.root=WARN");
    a.add("--logging.level.io.tandem=" + System.getProperty("tandem.e2e.appLogLevel", "INFO"));
    a.add(
        "--logging.level.org.springframework.kafka="
            + System.getProperty("tandem.e2e.kafkaLogLevel", "WARN"));
    a.add("--spring.kafka.bootstrap-servers=" + bootstrap());
    a.add("--spring.kafka.consumer.group-id=" + run);
    a.add("--spring.kafka.consumer.max-poll-records=100");
    a.add("--spring.kafka.consumer.properties.group.protocol=" + protocol);
    if (protocol.equals("classic")) {
      a.add("--spring.kafka.consumer.properties.session.timeout.ms=6000");
      a.add("--spring.kafka.consumer.properties.heartbeat.interval.ms=1000");
    }
    a.add("--spring.kafka.listener.concurrency=" + concurrency);
    a.add("--spring.datasource.url=" + db);
    a.add("--spring.datasource.username=" + pg.user());
    a.add("--spring.datasource.password=" + pg.password());
    a.add("--spring.datasource.hikari.maximum-pool-size=4");
    a.add("--tandem.store.uri=" + db);
    a.add("--e2e.topic=" + topic);
    return a;
  }

  private static List<String> redisArgs(String run, String topic, String redisUri) {
    List<String> a = new ArrayList<>();
    for (String s : appArgs(run, topic, "unused", "classic", 2)) {
      if (!s.startsWith("--spring.datasource") && !s.startsWith("--tandem.store.uri")) {
        a.add(s);
      }
    }
    a.add("--tandem.store.uri=" + redisUri);
    a.add("--e2e.store=redis");
    // No database in this variant.
    a.add(
        "--spring.autoconfigure.exclude="
            + "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration");
    return a;
  }

  /**
   * The consumer protocol's session timeout is the broker's (45 s by default): 6 s for this group.
   */
  private static void shortSessions(String group) throws Exception {
    try (Admin admin = KafkaBroker.shared().admin()) {
      admin
          .incrementalAlterConfigs(
              Map.of(
                  new ConfigResource(ConfigResource.Type.GROUP, group),
                  List.of(
                      new AlterConfigOp(
                          new ConfigEntry("consumer.session.timeout.ms", "6000"),
                          AlterConfigOp.OpType.SET),
                      new AlterConfigOp(
                          new ConfigEntry("consumer.heartbeat.interval.ms", "1000"),
                          AlterConfigOp.OpType.SET))))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  private static void awaitSomeoneAssigned(List<ForkedJvm> apps) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (apps.stream().noneMatch(a -> a.stat("assigned") > 0)) {
      if (System.nanoTime() > deadline) {
        fail("no application owned a partition for 90 s: " + apps);
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  private static void awaitDrained(
      Fixture fixture, OffsetStore<?> store, String group, Duration timeout) throws Exception {
    Map<Partition, Long> ends = fixture.endOffsets();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Map<Partition, Long> positions = store.positions(group, ends.keySet());
      if (positions.equals(ends)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        fail(
            "positions "
                + new TreeMap<>(positions)
                + " never reached the log end "
                + new TreeMap<>(ends));
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
  }

  private static String newRunId() {
    byte[] b = new byte[4];
    ThreadLocalRandom.current().nextBytes(b);
    return "se2e" + HexFormat.of().formatHex(b);
  }

  /** Expected against observed rows. */
  private static final class Check {
    long losses;
    long duplicates;
    long unexpected;
    final List<String> samples = new ArrayList<>();
    final Map<String, Long> expectedTotals = new TreeMap<>();
    final Map<String, Long> observedTotals = new TreeMap<>();

    static Check of(List<E2eRecord> input, String db) throws Exception {
      PostgresServer pg = PostgresServer.shared();
      Check c = new Check();
      Map<String, Integer> seen = new HashMap<>();
      try (Connection conn = DriverManager.getConnection(db, pg.user(), pg.password());
          Statement s = conn.createStatement()) {
        try (ResultSet rs = s.executeQuery("SELECT id, count(*) FROM e2e_results GROUP BY id")) {
          while (rs.next()) {
            seen.put(rs.getString(1), rs.getInt(2));
          }
        }
        try (ResultSet rs = s.executeQuery("SELECT k, total FROM e2e_totals")) {
          while (rs.next()) {
            c.observedTotals.put(rs.getString(1), rs.getLong(2));
          }
        }
      }
      for (E2eRecord r : input) {
        c.expectedTotals.merge(r.key(), r.amount(), Long::sum);
        Integer n = seen.remove(r.id());
        if (n == null) {
          c.losses++;
          c.sample("lost " + r.id());
        } else if (n > 1) {
          c.duplicates += n - 1;
          c.sample("dup " + r.id() + " x" + n);
        }
      }
      c.unexpected = seen.size();
      return c;
    }

    static Check ofRedis(List<E2eRecord> input, String uri, String group) {
      Check c = new Check();
      Map<String, Integer> seen = new HashMap<>();
      String prefix = "e2e:{" + group + "}";
      try (Jedis jedis = new Jedis(java.net.URI.create(uri))) {
        jedis.hgetAll(prefix + ":count").forEach((id, n) -> seen.put(id, Integer.parseInt(n)));
        jedis
            .hgetAll(prefix + ":totals")
            .forEach((k, v) -> c.observedTotals.put(k, Long.parseLong(v)));
      }
      for (E2eRecord r : input) {
        c.expectedTotals.merge(r.key(), r.amount(), Long::sum);
        Integer n = seen.remove(r.id());
        if (n == null) {
          c.losses++;
          c.sample("lost " + r.id());
        } else if (n > 1) {
          c.duplicates += n - 1;
          c.sample("dup " + r.id() + " x" + n);
        }
      }
      c.unexpected = seen.size();
      return c;
    }

    void sample(String s) {
      if (samples.size() < 10) {
        samples.add(s);
      }
    }

    void assertExact() {
      assertEquals(0, losses, "records with no result: " + samples);
      assertEquals(0, duplicates, "records with several results: " + samples);
      assertEquals(0, unexpected, "results for ids never produced");
      assertEquals(expectedTotals, observedTotals, "per-key folds");
    }
  }
}
