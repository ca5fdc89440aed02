package io.tandem.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import io.tandem.mongo.internal.GroupDocuments;
import io.tandem.spi.BatchTooLargeException;
import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.MongoServer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Store behaviour every MongoDB server must show; one subclass per server. */
abstract class MongoStoreITBase {

  protected MongoOffsetStore store;
  protected String group;
  protected String topic;

  /** The server under test. */
  protected abstract MongoServer.Instance server();

  /** The guarantee the store must choose on this server. */
  protected abstract Guarantee expectedGuarantee();

  @BeforeEach
  void openStore() {
    store = MongoOffsetStore.open(config().build());
    String id = UUID.randomUUID().toString().substring(0, 8);
    group = "grp." + id;
    topic = "orders." + id;
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  protected MongoStoreConfig.Builder config() {
    return MongoStoreConfig.builder().connectionString(server().uri()).database("tandem_it");
  }

  protected Partition p(int n) {
    return new Partition(topic, n);
  }

  @Test
  void capabilitiesFollowTheServerType() {
    assertThat(store.capabilities().guarantee()).isEqualTo(expectedGuarantee());
    assertThat(store.capabilities().atomicAcrossPartitions()).isTrue();
    assertThat(store.capabilities().maxRangesPerCommit())
        .isEqualTo(GroupDocuments.MAX_RANGES_PER_COMMIT);
    assertThat(store.capabilities().description())
        .contains(expectedGuarantee() == Guarantee.TRANSACTIONAL ? "REPLICA_SET" : "STANDALONE");
  }

  @Test
  void topicNamesWithDotsAndDollarsRoundTrip() {
    Map<Partition, Long> starts = new HashMap<>();
    List<String> topics =
        List.of("$set", "a.b.c", "$[r0].position", "partitions.0", "ü.中文.$", "x y", "_id");
    for (int i = 0; i < topics.size(); i++) {
      starts.put(new Partition(topics.get(i), i), 10L + i);
    }
    assertThat(store.initialize(group, starts)).isEqualTo(starts);
    assertThat(store.positions(group)).isEqualTo(starts);
    List<OffsetRange> ranges = new ArrayList<>();
    starts.forEach((p, from) -> ranges.add(new OffsetRange(p, from, from + 5)));
    store.commit(group, ranges, ResultWriter.none());
    Map<Partition, Long> after = new HashMap<>();
    starts.forEach((p, from) -> after.put(p, from + 5));
    assertThat(store.positions(group)).isEqualTo(after);
    assertThat(store.groups()).contains(group);
  }

  @Test
  void conflictReportsEveryPartitionAndMovesNothing() {
    store.initialize(group, Map.of(p(0), 0L, p(1), 10L, p(2), 20L));
    List<OffsetRange> ranges =
        List.of(
            new OffsetRange(p(0), 0, 5), // matches
            new OffsetRange(p(1), 7, 9), // stale from
            new OffsetRange(p(2), 25, 30), // gap
            new OffsetRange(p(3), 0, 1)); // missing
    AtomicInteger writerRuns = new AtomicInteger();
    assertThatThrownBy(() -> store.commit(group, ranges, tx -> writerRuns.incrementAndGet()))
        .isInstanceOfSatisfying(
            OffsetConflictException.class,
            e ->
                assertThat(e.conflicts())
                    .containsExactlyInAnyOrder(
                        Conflict.of(p(1), 7, 10),
                        Conflict.of(p(2), 25, 20),
                        new Conflict(p(3), 0, OptionalLong.empty())))
        .hasMessageContaining(topic + "-1");
    assertThat(store.positions(group)).isEqualTo(Map.of(p(0), 0L, p(1), 10L, p(2), 20L));
    if (expectedGuarantee() == Guarantee.TRANSACTIONAL) {
      // The conditional update runs first: a conflict never reaches the writer.
      assertThat(writerRuns).hasValue(0);
    }
  }

  @Test
  void keyedResultsCommitWithOffsets() throws Exception {
    store.initialize(group, Map.of(p(0), 0L));
    String coll = "res_" + UUID.randomUUID().toString().substring(0, 8);
    store.commit(
        group,
        List.of(new OffsetRange(p(0), 0, 2)),
        tx -> {
          assertThat(tx.guarantee()).isEqualTo(expectedGuarantee());
          assertThat(tx.session().isPresent())
              .isEqualTo(expectedGuarantee() == Guarantee.TRANSACTIONAL);
          tx.replace(coll, "k1", new Document("v", 1)).set(coll, "k2", new Document("v", 2));
        });
    assertThat(store.positions(group)).isEqualTo(Map.of(p(0), 2L));
    assertThat(read(coll)).isEqualTo(Map.of("k1", 1, "k2", 2));
  }

  @Test
  void sinkWritesOneKeyedDocumentPerRecord() {
    store.initialize(group, Map.of(p(0), 0L));
    String coll = "sink_" + UUID.randomUUID().toString().substring(0, 8);
    MongoSink<String> sink =
        MongoSink.<String>replace(coll, s -> s, s -> new Document("v", s.length()))
            .checkFor(store.capabilities());
    store.commit(group, List.of(new OffsetRange(p(0), 0, 3)), sink.writer(List.of("a", "bb", "a")));
    assertThat(read(coll)).isEqualTo(Map.of("a", 1, "bb", 2));
    MongoSink<String> set = MongoSink.set(coll, s -> s, s -> new Document("w", 1));
    store.commit(group, List.of(new OffsetRange(p(0), 3, 4)), set.writer(List.of("a")));
    assertThat(read(coll)).isEqualTo(Map.of("a", 1, "bb", 2));
  }

  @Test
  void writerFailureMovesNoOffset() {
    store.initialize(group, Map.of(p(0), 0L));
    String coll = "res_" + UUID.randomUUID().toString().substring(0, 8);
    IllegalStateException boom = new IllegalStateException("boom");
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(new OffsetRange(p(0), 0, 2)),
                    tx -> {
                      tx.replace(coll, "k1", new Document("v", 1));
                      throw boom;
                    }))
        .isInstanceOf(ResultWriteException.class)
        .hasCause(boom);
    assertThat(store.positions(group)).isEqualTo(Map.of(p(0), 0L));
    // Queued writes are sent only after the writer returns: none of them went out.
    assertThat(read(coll)).isEmpty();
  }

  @Test
  void groupTooLargeForOneDocumentIsRefusedAndNothingWritten() {
    // 249 three-byte characters per topic: ~800 bytes per entry, so 25,000 partitions make a
    // document of ~20 MB, over MongoDB's 16 MiB.
    String longTopic = "中".repeat(Partition.MAX_TOPIC_LENGTH - 8) + topic.substring(7);
    Map<Partition, Long> starts = new HashMap<>();
    for (int i = 0; i < 25_000; i++) {
      starts.put(new Partition(longTopic, i), 0L);
    }
    assertThatThrownBy(() -> store.initialize(group, starts))
        .isInstanceOf(BatchTooLargeException.class)
        .hasMessageContaining("16777216")
        .hasMessageContaining("nothing was written");
    assertThat(store.positions(group)).isEmpty();
    // What the worst case guarantees does fit.
    Map<Partition, Long> fits = new HashMap<>();
    for (int i = 0; i < GroupDocuments.MAX_PARTITIONS_WORST_CASE; i++) {
      fits.put(new Partition(longTopic, i), 0L);
    }
    assertThat(store.initialize(group, fits)).hasSize(fits.size());
    assertThat(store.positions(group)).hasSize(fits.size());
    assertThatThrownBy(() -> store.initialize(group, starts))
        .isInstanceOf(BatchTooLargeException.class);
    assertThat(store.positions(group)).hasSize(fits.size());
    store.delete(group);
  }

  @Test
  void moreRangesThanOneStatementHoldsIsRefused() {
    List<OffsetRange> ranges = new ArrayList<>();
    for (int i = 0; i <= GroupDocuments.MAX_RANGES_PER_COMMIT; i++) {
      ranges.add(new OffsetRange(p(i), 0, 1));
    }
    assertThatThrownBy(() -> store.commit(group, ranges, ResultWriter.none()))
        .isInstanceOf(BatchTooLargeException.class);
  }

  @Test
  void openedThroughTheProviderByScheme() throws Exception {
    String uri = server().uri();
    String sep = uri.contains("?") ? "&" : "?";
    String coll = "offsets_" + UUID.randomUUID().toString().substring(0, 8);
    try (OffsetStore<?> opened =
        OffsetStores.open(uri + sep + "collection=" + coll + "&serverSelectionTimeoutMS=10000")) {
      assertThat(opened).isInstanceOf(MongoOffsetStore.class);
      MongoOffsetStore mongo = (MongoOffsetStore) opened;
      assertThat(mongo.config().collection()).isEqualTo(coll);
      assertThat(mongo.capabilities().guarantee()).isEqualTo(expectedGuarantee());
      mongo.initialize(group, Map.of(p(0), 3L));
      assertThat(mongo.positions(group)).isEqualTo(Map.of(p(0), 3L));
      // A different collection: the default store does not see it.
      assertThat(store.positions(group)).isEmpty();
    }
  }

  @Test
  void aUserClientIsNotClosedByTheStore() {
    try (MongoClient client = MongoClients.create(server().uri())) {
      MongoOffsetStore shared =
          MongoOffsetStore.open(
              MongoStoreConfig.builder().client(client).database("tandem_it").build());
      shared.initialize(group, Map.of(p(0), 1L));
      shared.close();
      assertThat(
              client
                  .getDatabase("tandem_it")
                  .getCollection(MongoStoreConfig.DEFAULT_COLLECTION)
                  .countDocuments(Filters.eq("_id", group)))
          .isEqualTo(1);
    }
  }

  protected Map<String, Object> read(String coll) {
    Map<String, Object> out = new HashMap<>();
    try (MongoClient client = MongoClients.create(server().uri())) {
      for (Document d : client.getDatabase("tandem_it").getCollection(coll).find()) {
        out.put(d.getString("_id"), d.get("v"));
      }
    }
    return out;
  }

  /** Runs the same commit from several threads; returns how many succeeded. */
  protected int concurrentCommits(int threads, OffsetRange range) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Boolean>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        fs.add(
            pool.submit(
                () -> {
                  start.await();
                  try {
                    store.commit(group, List.of(range), ResultWriter.none());
                    return true;
                  } catch (OffsetConflictException e) {
                    return false;
                  }
                }));
      }
      start.countDown();
      int ok = 0;
      for (Future<Boolean> f : fs) {
        ok += f.get(60, TimeUnit.SECONDS) ? 1 : 0;
      }
      return ok;
    } finally {
      pool.shutdownNow();
    }
  }
}
