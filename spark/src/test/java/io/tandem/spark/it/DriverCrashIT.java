package io.tandem.spark.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.redis.RedisTransaction;
import io.tandem.spark.StoreSpec;
import io.tandem.testing.ForkedJvm;
import io.tandem.testing.PostgresServer;
import io.tandem.testing.RedisServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;

/**
 * The Spark driver JVM killed with SIGKILL mid-batch and restarted, with its checkpoint kept and
 * with it deleted; then run to the log end and checked: every input once, folds exact, stored
 * positions at the log end. Kills alternate between "inside the commit's open transaction" and
 * "right after a batch's commit returned" (for Structured Streaming: before Spark's own commit log
 * entry, so the batch is replayed). Size: {@code -Dtandem.spark.crashRecords} (default 3000),
 * {@code -Dtandem.spark.kills} (default 2). A forked Spark driver takes tens of seconds to start on
 * a busy 2-core machine, so CI runs three scenarios on PostgreSQL: a subscribed DStream with its
 * checkpoint kept (the recovery that can fail in Spark's own Subscribe), Structured Streaming with
 * its checkpoint kept and deleted; {@code -Dtandem.spark.crash=all} adds the assigned DStream with
 * its checkpoint kept and deleted and Structured Streaming on Redis (ForeachBatchIT covers deleted
 * checkpoints and Redis in-process too).
 */
class DriverCrashIT {

  private static final Logger log = LoggerFactory.getLogger(DriverCrashIT.class);
  private static final int RECORDS = Integer.getInteger("tandem.spark.crashRecords", 3000);
  private static final int KILLS = Integer.getInteger("tandem.spark.kills", 2);
  private static final Duration PROGRESS_TIMEOUT = Duration.ofMinutes(3);
  private static final Pattern REPLAYED =
      Pattern.compile("was committed (before|by another)|partly committed before");

  @TempDir Path tmp;

  @Test
  @EnabledIfSystemProperty(named = "tandem.spark.crash", matches = "all")
  void directStreamCheckpointKept() throws Exception {
    crash("dstream", true);
  }

  @Test
  @EnabledIfSystemProperty(named = "tandem.spark.crash", matches = "all")
  void directStreamCheckpointDeleted() throws Exception {
    crash("dstream", false);
  }

  @Test
  void directStreamSubscribedCheckpointKept() throws Exception {
    crash("dstream", true, "subscribe=true");
  }

  @Test
  void structuredStreamingCheckpointKept() throws Exception {
    crash("sstream", true);
  }

  /**
   * The checkpoint deleted after each kill: the restarted query starts from the store's positions;
   * the second run is started with {@code startingOffsets=earliest} instead (a misconfigured
   * restart), so Spark replays batches the store holds, cut differently: each is recognized and
   * skipped, or trimmed to what the store does not hold.
   */
  @Test
  void structuredStreamingCheckpointDeleted() throws Exception {
    crash("sstream", false);
  }

  @Test
  @EnabledIfSystemProperty(named = "tandem.spark.crash", matches = "all")
  void structuredStreamingOnRedisCheckpointKept() throws Exception {
    String topic = Fixture.unique("crash_redis");
    Fixture.kafka().createTopic(topic, 3);
    Fixture.produce(topic, 3, 0, RECORDS);
    RedisServer redis = RedisServer.shared();
    List<String> args =
        List.of(
            "mode=sstream",
            "store=redis",
            "uri=" + redis.uri(),
            "group=" + topic,
            "topic=" + topic,
            "bootstrap=" + Fixture.kafka().bootstrapServers(),
            "checkpoint=" + tmp.resolve("checkpoint"));
    Stats stats =
        run(
            topic,
            args,
            true,
            StoreSpec.of(redis.uri(), Map.of(), RedisTransaction.class),
            k -> null);
    URI uri = URI.create(redis.uri());
    try (Jedis jedis = new Jedis(uri.getHost(), uri.getPort())) {
      new RedisResults(topic, topic).verify(jedis, RECORDS);
    }
    log.info("[crash] sstream/redis checkpoint kept: {}", stats);
  }

  private void crash(String mode, boolean keepCheckpoint, String... extra) throws Exception {
    String topic = Fixture.unique("crash_" + mode);
    Fixture.kafka().createTopic(topic, 3);
    Fixture.produce(topic, 3, 0, RECORDS);
    JdbcResults results = new JdbcResults(topic);
    try (Connection c = Fixture.postgres().connect()) {
      results.create(c);
    }
    PostgresServer pg = Fixture.postgres();
    List<String> args =
        new ArrayList<>(
            List.of(
                "mode=" + mode,
                "store=jdbc",
                "uri=" + pg.jdbcUrl(),
                "user=" + pg.user(),
                "password=" + pg.password(),
                "group=" + topic,
                "topic=" + topic,
                "bootstrap=" + Fixture.kafka().bootstrapServers(),
                "checkpoint=" + tmp.resolve("checkpoint")));
    args.addAll(List.of(extra));
    Stats stats =
        run(
            topic,
            args,
            keepCheckpoint,
            Fixture.jdbcStore(),
            k -> !keepCheckpoint && mode.equals("sstream") && k == 2 ? "starting=earliest" : null);
    try (Connection c = Fixture.postgres().connect()) {
      results.verify(c, RECORDS);
    }
    log.info(
        "[crash] {}{} checkpoint {}: {}",
        mode,
        List.of(extra),
        keepCheckpoint ? "kept" : "deleted",
        stats);
  }

  /** What a scenario did. */
  record Stats(int kills, int killsInTransaction, int killsAfterCommit, long replaysSkipped) {}

  /**
   * Runs {@link #KILLS} drivers, each killed once it made progress, then a last one to the log end.
   *
   * @param extraArg an argument for run {@code k} (1-based) only, or null
   */
  private Stats run(
      String topic,
      List<String> args,
      boolean keepCheckpoint,
      StoreSpec<?> store,
      IntFunction<String> extraArg)
      throws Exception {
    Path checkpoint = tmp.resolve("checkpoint");
    int inTx = 0;
    int afterCommit = 0;
    List<Path> logs = new ArrayList<>();
    for (int k = 1; k <= KILLS; k++) {
      String name = topic + "-run" + k;
      logs.add(Path.of("target", "forks", name + ".log"));
      List<String> runArgs = new ArrayList<>(args);
      if (extraArg.apply(k) != null) {
        runArgs.add(extraArg.apply(k));
      }
      try (ForkedJvm driver = driver(name, runArgs)) {
        boolean inTransaction = k % 2 == 1;
        String event = inTransaction ? "writing" : "committed";
        assertThat(driver.awaitStats(s -> s.getOrDefault(event, 0L) >= 2, PROGRESS_TIMEOUT))
            .as("driver %s made progress (%s); see target/forks/%s.log", driver, event, name)
            .isTrue();
        driver.kill();
        if (inTransaction) {
          inTx++;
        } else {
          afterCommit++;
        }
      }
      if (!keepCheckpoint) {
        ForeachBatchIT.delete(checkpoint);
      }
    }
    String name = topic + "-final";
    logs.add(Path.of("target", "forks", name + ".log"));
    try (ForkedJvm driver = driver(name, args)) {
      await()
          .atMost(PROGRESS_TIMEOUT)
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> {
                assertThat(driver.alive()).as("driver %s alive", driver).isTrue();
                ForeachBatchIT.assertPositionsAtLogEnd(store, topic, topic);
              });
    }
    return new Stats(KILLS, inTx, afterCommit, replays(logs));
  }

  /**
   * A Spark driver in its own JVM: this JVM's class path, Spark's JDK 17 flags (from the build),
   * and a quick-starting JIT: the driver restarts several times per scenario.
   */
  private static ForkedJvm driver(String name, List<String> args) {
    List<String> options = new ArrayList<>(List.of("-Xmx768m", "-XX:TieredStopAtLevel=1"));
    for (String flag : System.getProperty("tandem.spark.jvmFlags", "").trim().split("\\s+")) {
      if (!flag.isEmpty()) {
        options.add(flag);
      }
    }
    return ForkedJvm.builder(name, SparkDriverMain.class.getName())
        .jvmOptions(options)
        .args(args)
        .maxLifetime(Duration.ofMinutes(20))
        .start();
  }

  private static long replays(List<Path> logs) throws IOException {
    long n = 0;
    for (Path p : logs) {
      if (!Files.exists(p)) {
        continue;
      }
      try (Stream<String> lines = Files.lines(p)) {
        n += lines.filter(l -> REPLAYED.matcher(l).find()).count();
      }
    }
    return n;
  }
}
