package io.tandem.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.testing.MongoServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.Document;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The store on the best server with transactions available ({@link MongoServer#best()}): a real
 * MongoDB from TANDEM_MONGODB_URI (must be a replica set or sharded cluster), a Testcontainers
 * replica set, or the jongodb replica-set emulator. The TRANSACTIONAL path; skipped with the reason
 * when no such server can run.
 */
class MongoReplicaSetIT extends MongoStoreITBase {

  @BeforeAll
  static void serverWithTransactions() {
    assumeTrue(MongoServer.best().isPresent(), MongoServer::bestUnavailableReason);
  }

  @Override
  protected MongoServer.Instance server() {
    return MongoServer.best().orElseThrow();
  }

  @Override
  protected Guarantee expectedGuarantee() {
    return Guarantee.TRANSACTIONAL;
  }

  @Test
  void incrementCommitsAndRollsBackWithTheOffsets() {
    store.initialize(group, Map.of(p(0), 0L));
    String coll = "cnt_" + UUID.randomUUID().toString().substring(0, 8);
    store.commit(
        group, List.of(new OffsetRange(p(0), 0, 1)), tx -> tx.increment(coll, "k", "v", 5));
    assertThat(read(coll)).isEqualTo(Map.of("k", 5L));
    RuntimeException boom = new RuntimeException("boom after the increment");
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(new OffsetRange(p(0), 1, 2)),
                    tx -> {
                      tx.increment(coll, "k", "v", 5);
                      tx.collection(coll)
                          .insertOne(tx.session().orElseThrow(), new Document("_id", "direct"));
                      throw boom;
                    }))
        .isInstanceOf(ResultWriteException.class)
        .hasCause(boom);
    assertThat(read(coll)).isEqualTo(Map.of("k", 5L));
    assertThat(store.positions(group)).isEqualTo(Map.of(p(0), 1L));
    AtomicInteger runs = new AtomicInteger();
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(new OffsetRange(p(0), 0, 2)),
                    tx -> {
                      runs.incrementAndGet();
                      tx.increment(coll, "k", "v", 5);
                    }))
        .isInstanceOf(OffsetConflictException.class);
    assertThat(runs).hasValue(0);
    assertThat(read(coll)).isEqualTo(Map.of("k", 5L));
  }

  @Test
  void directWritesThroughTheSessionCommitWithTheOffsets() {
    store.initialize(group, Map.of(p(0), 0L));
    String coll = "dir_" + UUID.randomUUID().toString().substring(0, 8);
    store.commit(
        group,
        List.of(new OffsetRange(p(0), 0, 3)),
        tx ->
            tx.collection(coll)
                .insertOne(tx.session().orElseThrow(), new Document("_id", "a").append("v", "x")));
    assertThat(read(coll)).isEqualTo(Map.of("a", "x"));
    assertThat(store.positions(group)).isEqualTo(Map.of(p(0), 3L));
  }

  /**
   * A commit whose transaction is open (its writer still running) holds the group's document: a
   * second commit of the same range cannot succeed meanwhile (MongoDB answers its update with a
   * WriteConflict, retried until its transactionTimeout), nor afterwards (a plain conflict).
   */
  @Test
  void anOpenTransactionExcludesAConcurrentCommitOfTheSameRange() throws Exception {
    assumeFalse(server().kind() == MongoServer.Kind.JONGODB, JongodbFactsIT.NO_WRITE_CONFLICTS);
    store.initialize(group, Map.of(p(0), 0L));
    String coll = "ilv_" + UUID.randomUUID().toString().substring(0, 8);
    OffsetRange range = new OffsetRange(p(0), 0, 10);
    CountDownLatch inWriter = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (MongoOffsetStore other =
        MongoOffsetStore.open(config().transactionTimeout(Duration.ofSeconds(2)).build())) {
      Future<?> first =
          pool.submit(
              () -> {
                store.commit(
                    group,
                    List.of(range),
                    tx -> {
                      tx.replace(coll, "first", new Document("v", "first"));
                      inWriter.countDown();
                      assertThat(release.await(60, TimeUnit.SECONDS)).isTrue();
                    });
                return null;
              });
      assertThat(inWriter.await(30, TimeUnit.SECONDS)).isTrue();
      assertThatThrownBy(
              () ->
                  other.commit(
                      group,
                      List.of(range),
                      tx -> tx.replace(coll, "second", new Document("v", "second"))))
          .isInstanceOfAny(OffsetConflictException.class, StoreUnavailableException.class);
      release.countDown();
      first.get(60, TimeUnit.SECONDS);
      assertThatThrownBy(() -> other.commit(group, List.of(range), ResultWriter.none()))
          .isInstanceOf(OffsetConflictException.class)
          .hasMessageContaining("found 10");
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
    assertThat(store.positions(group)).isEqualTo(Map.of(p(0), 10L));
    assertThat(read(coll)).isEqualTo(Map.of("first", "first"));
  }

  @Test
  void ofConcurrentCommitsOfOneRangeOneSucceeds() throws Exception {
    store.initialize(group, Map.of(p(0), 0L));
    assertThat(concurrentCommits(4, new OffsetRange(p(0), 0, 10))).isEqualTo(1);
    assertThat(store.positions(group)).isEqualTo(Map.of(p(0), 10L));
  }
}
