package io.tandem.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.CassandraServer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Restarts and crashes of the server. These tests run on a private embedded server (not the shared
 * one), since they stop it; with an external server ({@code TANDEM_CASSANDRA_CONTACT}) they still
 * fork their own.
 */
class CassandraCrashIT {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(CassandraCrashIT.class);

  private static final int RESULTS_PER_COMMIT = 20;
  private static CassandraServer server;
  private static boolean privateServer;
  private static CassandraOffsetStore store;

  @BeforeAll
  static void start() {
    server = Cassandra.server();
    if (!server.controllable()) {
      server = CassandraServer.startPrivate();
      privateServer = true;
    }
    store =
        CassandraOffsetStore.open(
            Cassandra.config(server).requestTimeout(Duration.ofSeconds(5)).build());
    createSchema(store);
  }

  private static void createSchema(CassandraOffsetStore s) {
    s.createSchema(Cassandra.TEST_REPLICATION);
    s.session()
        .execute(
            "CREATE TABLE IF NOT EXISTS "
                + Cassandra.KEYSPACE
                + ".results (namespace text, key text, value text, PRIMARY KEY (namespace, key))");
  }

  @AfterAll
  static void stop() {
    if (store != null) {
      store.close();
    }
    if (server != null && privateServer) {
      server.close();
    }
  }

  private static ResultWriter<CassandraResults> resultsFor(String ns, long offset) {
    return h -> {
      for (int i = 0; i < RESULTS_PER_COMMIT; i++) {
        h.add(
            SimpleStatement.newInstance(
                    "INSERT INTO "
                        + Cassandra.KEYSPACE
                        + ".results (namespace, key, value) VALUES (?, ?, 'v')",
                    ns,
                    offset + "/" + i)
                .setIdempotent(true));
      }
    };
  }

  private static Set<String> results(CassandraOffsetStore store, String ns) {
    Set<String> out = new HashSet<>();
    for (Row row :
        store
            .session()
            .execute(
                SimpleStatement.newInstance(
                    "SELECT key FROM " + Cassandra.KEYSPACE + ".results WHERE namespace = ?",
                    ns))) {
      out.add(row.getString(0));
    }
    return out;
  }

  private static long awaitPosition(CassandraOffsetStore store, String g, Partition p) {
    AtomicLong at = new AtomicLong();
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptionsInstanceOf(OffsetStoreException.class)
        .untilAsserted(() -> at.set(store.positions(g, List.of(p)).get(p)));
    return at.get();
  }

  @Test
  void commitsContinueAcrossAServerRestart() {
    String g = Cassandra.unique("restart");
    String ns = Cassandra.unique("ns");
    Partition p = Partition.of("t", 0);
    store.initialize(g, Map.of(p, 0L));
    store.commit(g, List.of(new OffsetRange(p, 0, 1)), resultsFor(ns, 0));
    server.restart();
    assertThat(awaitPosition(store, g, p)).isEqualTo(1L);
    store.commit(g, List.of(new OffsetRange(p, 1, 2)), resultsFor(ns, 1));
    assertThat(store.positions(g)).containsEntry(p, 2L);
    assertThat(results(store, ns)).hasSize(2 * RESULTS_PER_COMMIT);
  }

  /**
   * Commits one offset at a time (20 result rows each) until the server is killed with SIGKILL,
   * restarts it, and checks that every offset below the stored position has all its results.
   *
   * @return {acknowledged, position after restart}
   */
  private static long[] killDuringCommits(
      CassandraServer server, CassandraOffsetStore store, String g, String ns, Partition p)
      throws Exception {
    store.initialize(g, Map.of(p, 0L));
    AtomicLong acknowledged = new AtomicLong();
    AtomicReference<Throwable> stoppedBy = new AtomicReference<>();
    CountDownLatch warm = new CountDownLatch(25);
    Thread committer =
        new Thread(
            () -> {
              try {
                for (long at = 0; ; at++) {
                  store.commit(g, List.of(new OffsetRange(p, at, at + 1)), resultsFor(ns, at));
                  acknowledged.set(at + 1);
                  warm.countDown();
                }
              } catch (RuntimeException e) {
                stoppedBy.set(e);
              }
            },
            "committer");
    committer.start();
    assertThat(warm.await(120, TimeUnit.SECONDS)).isTrue();
    server.kill(); // SIGKILL while commits run: results or the LWT of one are in flight
    committer.join(TimeUnit.SECONDS.toMillis(120));
    assertThat(committer.isAlive()).isFalse();
    assertThat(stoppedBy.get()).isInstanceOf(OffsetStoreException.class);
    server.start();

    long position = awaitPosition(store, g, p);
    // Never more than the acknowledged commits and the one in flight.
    assertThat(position).isLessThanOrEqualTo(acknowledged.get() + 1);
    // Results are written before the offsets move, and a crash loses a suffix of the commit log:
    // every offset below the position has all its results.
    Set<String> written = results(store, ns);
    for (long offset = 0; offset < position; offset++) {
      for (int i = 0; i < RESULTS_PER_COMMIT; i++) {
        assertThat(written).contains(offset + "/" + i);
      }
    }
    // And the consumer goes on from there.
    store.commit(g, List.of(new OffsetRange(p, position, position + 1)), resultsFor(ns, position));
    assertThat(store.positions(g)).containsEntry(p, position + 1);
    return new long[] {acknowledged.get(), position};
  }

  @Test
  void killDuringCommitsLeavesNoOffsetWithoutItsResults() throws Exception {
    long[] r =
        killDuringCommits(
            server, store, Cassandra.unique("kill"), Cassandra.unique("ns"), Partition.of("t", 0));
    // commitlog_sync: periodic (the default): the node may lose its last acknowledged commits.
    assertThat(store.capabilities().durable()).isFalse();
    log.info(
        "[periodic commitlog] acknowledged {} commits before kill -9, {} stand after restart",
        r[0],
        r[1]);
  }

  @Test
  void withBatchCommitlogEveryAcknowledgedCommitSurvivesKill() throws Exception {
    CassandraServer batch =
        CassandraServer.startPrivate(
            java.util.Collections.unmodifiableMap(
                new java.util.HashMap<>() {
                  {
                    put("commitlog_sync", "batch");
                    put("commitlog_sync_period", null);
                  }
                }));
    try (CassandraOffsetStore s =
        CassandraOffsetStore.open(
            Cassandra.config(batch).requestTimeout(Duration.ofSeconds(5)).build())) {
      createSchema(s);
      assertThat(s.capabilities().durable()).isTrue();
      assertThat(s.capabilities().description()).contains("commitlog_sync=batch");
      long[] r =
          killDuringCommits(
              batch, s, Cassandra.unique("killb"), Cassandra.unique("ns"), Partition.of("t", 0));
      assertThat(r[1]).isBetween(r[0], r[0] + 1);
    } finally {
      batch.close();
    }
  }
}
