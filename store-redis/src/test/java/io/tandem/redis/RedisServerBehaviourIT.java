package io.tandem.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.testing.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/** Tests that need a Redis server of their own: restarts, kills, settings, replicas. */
class RedisServerBehaviourIT {

  private static final Partition A = Partition.of("t", 0);
  private static final Partition B = Partition.of("t", 1);

  private static RedisOffsetStore open(RedisServer server) {
    return RedisOffsetStore.open(Redis.config(server).build());
  }

  @Test
  void capabilitiesAreDurableOnlyWithAppendfsyncAlways() {
    try (RedisServer server = RedisServer.startPrivate("always");
        RedisOffsetStore store = open(server)) {
      Capabilities caps = store.capabilities();
      assertThat(caps.durable()).isTrue();
      assertThat(caps.transactional()).isTrue();
      assertThat(caps.atomicAcrossPartitions()).isTrue();
      assertThat(caps.description()).contains("appendfsync=always").contains("Redis ");
    }
    try (RedisServer server = RedisServer.startPrivate("everysec");
        RedisOffsetStore store = open(server)) {
      assertThat(store.capabilities().durable()).isFalse();
      assertThat(store.capabilities().description()).contains("appendfsync=everysec");
    }
    try (RedisServer server = RedisServer.startPrivate("always", false);
        RedisOffsetStore store = open(server)) {
      assertThat(store.capabilities().durable()).isFalse();
      assertThat(store.capabilities().description()).contains("appendonly=no");
    }
  }

  @Test
  void capabilitiesFollowTheServerAsConfiguredNow() {
    try (RedisServer server = RedisServer.startPrivate("always");
        RedisOffsetStore store = open(server);
        Jedis admin = Redis.jedis(server)) {
      assertThat(store.capabilities().durable()).isTrue();
      admin.configSet("appendfsync", "everysec");
      assertThat(store.capabilities().durable()).isFalse();
    }
  }

  @Test
  void disabledConfigCommandMeansDurabilityUnknown() {
    try (RedisServer server =
            RedisServer.startPrivate("always", true, List.of("rename-command CONFIG \"\""));
        RedisOffsetStore store = open(server)) {
      Capabilities caps = store.capabilities();
      assertThat(caps.durable()).isFalse();
      assertThat(caps.description()).contains("durability unknown");
      // The store works all the same.
      store.initialize("g", Map.of(A, 0L));
      store.commit("g", List.of(new OffsetRange(A, 0, 1)), ResultWriter.none());
    }
  }

  @Test
  void killedServerKeepsCommittedPositionsAndResultsWithAppendfsyncAlways() {
    try (RedisServer server = RedisServer.startPrivate("always");
        RedisOffsetStore store = open(server)) {
      store.initialize("g", Map.of(A, 0L, B, 0L));
      for (int i = 0; i < 20; i++) {
        long n = i;
        store.commit(
            "g",
            List.of(new OffsetRange(A, n, n + 1), new OffsetRange(B, n, n + 1)),
            tx -> {
              tx.commands().incrBy("count", 1);
              tx.commands().hset("last", "i", String.valueOf(n));
            });
      }

      // SIGKILL: only what appendfsync=always already wrote survives.
      server.killAndRestart();

      // The same store instance goes on: its pooled connections died with the server.
      assertThat(store.positions("g")).containsOnly(Map.entry(A, 20L), Map.entry(B, 20L));
      try (Jedis j = Redis.jedis(server)) {
        assertThat(j.get("count")).isEqualTo("20");
        assertThat(j.hget("last", "i")).isEqualTo("19");
      }
      store.commit(
          "g", List.of(new OffsetRange(A, 20, 21)), tx -> tx.commands().incrBy("count", 1));

      server.restart();
      assertThat(store.positions("g")).containsOnly(Map.entry(A, 21L), Map.entry(B, 20L));
      try (Jedis j = Redis.jedis(server)) {
        assertThat(j.get("count")).isEqualTo("21");
      }
    }
  }

  @Test
  void serverDownIsUnavailableAndTheStoreRecovers() {
    try (RedisServer server = RedisServer.startPrivate("always");
        RedisOffsetStore store =
            RedisOffsetStore.open(
                Redis.config(server).connectTimeout(Duration.ofMillis(300)).build())) {
      store.initialize("g", Map.of(A, 0L));
      server.kill();

      assertThatThrownBy(
              () ->
                  store.commit(
                      "g", List.of(new OffsetRange(A, 0, 1)), tx -> tx.commands().set("x", "1")))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("unreachable");
      assertThatThrownBy(() -> store.positions("g")).isInstanceOf(StoreUnavailableException.class);
      assertThatThrownBy(store::capabilities).isInstanceOf(StoreUnavailableException.class);

      server.start();
      store.commit("g", List.of(new OffsetRange(A, 0, 1)), tx -> tx.commands().set("x", "1"));
      assertThat(store.positions("g")).containsOnly(Map.entry(A, 1L));
    }
  }

  @Test
  void credentialsComeFromTheUriAndWrongOnesAreAConfigurationError() {
    try (RedisServer server =
        RedisServer.startPrivate("always", true, List.of("requirepass s3cr%t"))) {
      String base = "redis://:s3cr%25t@127.0.0.1:" + server.port() + "/2";
      try (RedisOffsetStore store =
          RedisOffsetStore.open(RedisStoreConfig.fromUri(base, Map.of()))) {
        store.initialize("g", Map.of(A, 4L));
        assertThat(store.positions("g")).containsOnly(Map.entry(A, 4L));
      }
      assertThatThrownBy(
              () ->
                  RedisOffsetStore.open(
                      RedisStoreConfig.fromUri(
                          "redis://:wrong@127.0.0.1:" + server.port(), Map.of())))
          .isInstanceOf(StoreConfigurationException.class)
          .hasMessageNotContaining("wrong@");
      assertThatThrownBy(
              () ->
                  RedisOffsetStore.open(
                      RedisStoreConfig.fromUri("redis://127.0.0.1:" + server.port(), Map.of())))
          .isInstanceOf(StoreConfigurationException.class);
    }
  }

  @Test
  void waitForReplicasSucceedsWithEnoughReplicasAndReportsTooFew() {
    // Redis 7 syncs replicas diskless after a 5 s delay by default: no delay here.
    try (RedisServer primary =
            RedisServer.startPrivate("everysec", true, List.of("repl-diskless-sync-delay 0"));
        RedisServer replica =
            RedisServer.startPrivate(
                "everysec", true, List.of("replicaof 127.0.0.1 " + primary.port()))) {
      try (Jedis j = Redis.jedis(replica)) {
        org.awaitility.Awaitility.await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> j.info("replication").contains("master_link_status:up"));
      }
      try (RedisOffsetStore one =
              RedisOffsetStore.open(Redis.config(primary).waitReplicas(1).build());
          RedisOffsetStore two =
              RedisOffsetStore.open(
                  Redis.config(primary)
                      .waitReplicas(2)
                      .waitTimeout(Duration.ofMillis(200))
                      .build())) {
        assertThat(one.capabilities().description()).contains("WAITs for 1 replica");
        one.initialize("g", Map.of(A, 0L));
        one.commit("g", List.of(new OffsetRange(A, 0, 1)), tx -> tx.commands().set("r", "1"));
        try (Jedis j = Redis.jedis(replica)) {
          // WAIT returned 1: the replica has the commit.
          assertThat(j.get("tandem:{g}:offset:t:0")).isEqualTo("1");
          assertThat(j.get("r")).isEqualTo("1");
        }

        assertThatThrownBy(
                () -> two.commit("g", List.of(new OffsetRange(A, 1, 2)), ResultWriter.none()))
            .isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("only 1 of 2 replicas");
        // Applied on the primary all the same: re-reading positions tells.
        assertThat(two.positions("g")).containsOnly(Map.entry(A, 2L));
      }
    }
  }

  @Test
  void execWhoseReplyIsLostIsResolvedByReadingBackAndNeverAppliesTwice() {
    try (RedisServer server = RedisServer.startPrivate("always");
        RedisOffsetStore store =
            RedisOffsetStore.open(Redis.config(server).timeout(Duration.ofMillis(300)).build());
        Jedis admin = Redis.jedis(server)) {
      store.initialize("g", Map.of(A, 0L));
      ResultWriter<RedisTransaction> count = tx -> tx.commands().incrBy("count", 1);

      // CLIENT PAUSE WRITE holds the transaction's writes while reads go on: the store's socket
      // times out during EXEC, and its read-back still sees the old position.
      assertThatThrownBy(
              () ->
                  store.commit(
                      "g",
                      List.of(new OffsetRange(A, 0, 1)),
                      tx -> {
                        admin.clientPause(1500, redis.clients.jedis.args.ClientPauseMode.WRITE);
                        count.write(tx);
                      }))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("while EXEC was under way")
          .hasMessageContaining("not applied");
      admin.clientUnpause();

      // Whatever the paused EXEC did once its connection was gone, a retry never applies twice.
      try {
        store.commit("g", List.of(new OffsetRange(A, 0, 1)), count);
      } catch (OffsetConflictException e) {
        assertThat(store.positions("g")).containsOnly(Map.entry(A, 1L));
      }
      assertThat(admin.get("count")).isEqualTo("1");
      assertThat(store.positions("g")).containsOnly(Map.entry(A, 1L));
    }
  }

  @Test
  void outOfMemoryRejectsTheWholeTransactionAsUnavailable() {
    try (RedisServer server = RedisServer.startPrivate("always");
        RedisOffsetStore store = open(server);
        Jedis admin = Redis.jedis(server)) {
      store.initialize("g", Map.of(A, 0L));
      admin.configSet("maxmemory-policy", "noeviction");
      admin.configSet("maxmemory", "1");

      // Write commands are refused when queued (-OOM), so EXEC aborts and nothing runs.
      assertThatThrownBy(
              () ->
                  store.commit(
                      "g", List.of(new OffsetRange(A, 0, 1)), tx -> tx.commands().set("r", "1")))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("OOM")
          .hasMessageContaining("Nothing was committed");

      admin.configSet("maxmemory", "0");
      assertThat(admin.exists("r")).isFalse();
      assertThat(store.positions("g")).containsOnly(Map.entry(A, 0L));
      store.commit("g", List.of(new OffsetRange(A, 0, 1)), tx -> tx.commands().set("r", "1"));
      assertThat(admin.get("r")).isEqualTo("1");
    }
  }

  @Test
  void execWhoseReplyIsLateIsResolvedAsAppliedByReadingBack() {
    // EXEC really runs here, but its reply comes after the store's 500 ms timeout: the writer
    // queues a script that keeps the server busy for 700 ms inside EXEC. The store reads the
    // positions back (served once the server is free, within its own timeout), finds them at
    // until and returns normally. Should the machine be so slow that the timeout does not fire,
    // the commit returns normally too; either way it is applied exactly once.
    String busy =
        "local s=redis.call('TIME'); local t0=s[1]*1000000+s[2]; local n=0;"
            + " repeat local x=redis.call('TIME'); n=x[1]*1000000+x[2]-t0 until n>700000"
            + " return 1";
    try (RedisServer server = RedisServer.startPrivate("always");
        RedisOffsetStore store =
            RedisOffsetStore.open(Redis.config(server).timeout(Duration.ofMillis(500)).build());
        Jedis admin = Redis.jedis(server)) {
      store.initialize("g", Map.of(A, 0L));

      store.commit(
          "g",
          List.of(new OffsetRange(A, 0, 1)),
          tx -> {
            tx.commands().incrBy("count", 1);
            tx.commands().eval(busy);
          });

      assertThat(store.positions("g")).containsOnly(Map.entry(A, 1L));
      assertThat(admin.get("count")).isEqualTo("1");
    }
  }
}
