package io.tandem.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.InvalidBatchException;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.testing.CassandraServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CassandraOffsetStoreIT {

  private static CassandraOffsetStore store;

  @BeforeAll
  static void open() {
    store = Cassandra.store();
  }

  @AfterAll
  static void close() {
    store.close();
  }

  private static final CassandraUpsert<Map.Entry<String, String>> PUT =
      CassandraUpsert.of(
          "INSERT INTO " + Cassandra.KEYSPACE + ".results (namespace, key, value) VALUES (?, ?, ?)",
          e -> new Object[] {e.getKey().split("/")[0], e.getKey().split("/")[1], e.getValue()});

  private static ResultWriter<CassandraResults> put(String ns, String... keys) {
    List<Map.Entry<String, String>> rows = new ArrayList<>();
    for (String k : keys) {
      rows.add(Map.entry(ns + "/" + k, "v-" + k));
    }
    return PUT.rows(rows);
  }

  private static Map<String, String> results(String ns) {
    Map<String, String> out = new TreeMap<>();
    for (Row row :
        store
            .session()
            .execute(
                SimpleStatement.newInstance(
                    "SELECT key, value FROM " + Cassandra.KEYSPACE + ".results WHERE namespace = ?",
                    ns))) {
      out.put(row.getString(0), row.getString(1));
    }
    return out;
  }

  @Test
  void capabilitiesDeclareIdempotentOffsetsAtomicAcrossPartitions() {
    Capabilities caps = store.capabilities();
    assertThat(caps.guarantee()).isEqualTo(Guarantee.IDEMPOTENT);
    assertThat(caps.atomicAcrossPartitions()).isTrue();
    // The shared test server runs Cassandra's default commitlog_sync: periodic.
    assertThat(caps.durable()).isFalse();
    assertThat(caps.maxRangesPerCommit()).isEqualTo(CassandraStoreConfig.DEFAULT_MAX_RANGES);
    assertThat(caps.description())
        .contains("Cassandra 5.0")
        .contains("not atomic with offsets")
        .contains("commitlog_sync=periodic");
  }

  @Test
  void commitWritesResultsAndMovesEveryOffset() {
    String g = Cassandra.unique("commit");
    String ns = Cassandra.unique("ns");
    Partition a0 = Partition.of("orders", 0);
    Partition a1 = Partition.of("orders", 1);
    Partition b0 = Partition.of("payments", 0);
    store.initialize(g, Map.of(a0, 0L, a1, 10L, b0, 5L));
    store.commit(
        g,
        List.of(new OffsetRange(a0, 0, 3), new OffsetRange(a1, 10, 12), new OffsetRange(b0, 5, 5)),
        put(ns, "k1", "k2"));
    assertThat(store.positions(g))
        .containsExactlyInAnyOrderEntriesOf(Map.of(a0, 3L, a1, 12L, b0, 5L));
    assertThat(results(ns)).containsExactlyInAnyOrderEntriesOf(Map.of("k1", "v-k1", "k2", "v-k2"));
  }

  @Test
  void conflictReportsEveryPartitionAndMovesNoOffset() {
    String g = Cassandra.unique("conflict");
    Partition ok = Partition.of("t", 0);
    Partition stale = Partition.of("t", 1);
    Partition missing = Partition.of("t", 2);
    Partition gap = Partition.of("u", 7);
    store.initialize(g, Map.of(ok, 4L, stale, 9L, gap, 20L));
    assertThatThrownBy(
            () ->
                store.commit(
                    g,
                    List.of(
                        new OffsetRange(ok, 4, 6),
                        new OffsetRange(stale, 7, 9),
                        new OffsetRange(missing, 0, 1),
                        new OffsetRange(gap, 18, 25)),
                    ResultWriter.none()))
        .isInstanceOfSatisfying(
            OffsetConflictException.class,
            e ->
                assertThat(e.conflicts())
                    .containsExactlyInAnyOrder(
                        OffsetConflictException.Conflict.of(stale, 7, 9),
                        OffsetConflictException.Conflict.missing(missing, 0),
                        OffsetConflictException.Conflict.of(gap, 18, 20)))
        .hasMessageContaining("t-1 expected 7, found 9")
        .hasMessageContaining("t-2 expected 0, found no position")
        .hasMessageContaining("u-7 expected 18, found 20");
    assertThat(store.positions(g))
        .containsExactlyInAnyOrderEntriesOf(Map.of(ok, 4L, stale, 9L, gap, 20L));
  }

  @Test
  void nonIdempotentStatementIsRefusedBeforeAnythingRuns() {
    String g = Cassandra.unique("nonidem");
    String ns = Cassandra.unique("ns");
    Partition p = Partition.of("t", 0);
    store.initialize(g, Map.of(p, 0L));
    SimpleStatement plain =
        SimpleStatement.newInstance(
            "INSERT INTO "
                + Cassandra.KEYSPACE
                + ".results (namespace, key, value) VALUES (?, ?, ?)",
            ns,
            "late",
            "x");
    ResultWriter<CassandraResults> writer =
        h -> {
          put(ns, "first").write(h); // idempotent, added first
          h.add(plain); // not marked: refused, and "first" must not run either
        };
    assertThatThrownBy(() -> store.commit(g, List.of(new OffsetRange(p, 0, 1)), writer))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("result statement #2")
        .hasMessageContaining("INSERT INTO tandem_it.results")
        .hasMessageContaining("not marked idempotent")
        .hasMessageContaining("Nothing was executed");
    assertThat(results(ns)).isEmpty();
    assertThat(store.positions(g)).containsEntry(p, 0L);
  }

  @Test
  void failingResultStatementMovesNoOffset() {
    String g = Cassandra.unique("badresult");
    Partition p = Partition.of("t", 0);
    store.initialize(g, Map.of(p, 0L));
    ResultWriter<CassandraResults> writer =
        h ->
            h.add(
                SimpleStatement.newInstance(
                        "INSERT INTO " + Cassandra.KEYSPACE + ".no_such_table (k) VALUES (1)")
                    .setIdempotent(true));
    assertThatThrownBy(() -> store.commit(g, List.of(new OffsetRange(p, 0, 1)), writer))
        .isInstanceOf(ResultWriteException.class)
        .hasMessageContaining("no_such_table")
        .hasMessageContaining("no offset moved");
    assertThat(store.positions(g)).containsEntry(p, 0L);
  }

  @Test
  void writerThatThrowsCommitsNothing() {
    String g = Cassandra.unique("throws");
    Partition p = Partition.of("t", 0);
    store.initialize(g, Map.of(p, 0L));
    IllegalStateException boom = new IllegalStateException("boom");
    assertThatThrownBy(
            () ->
                store.commit(
                    g,
                    List.of(new OffsetRange(p, 0, 1)),
                    h -> {
                      throw boom;
                    }))
        .isInstanceOf(ResultWriteException.class)
        .hasCause(boom);
    assertThat(store.positions(g)).containsEntry(p, 0L);
  }

  @Test
  void initializeKeepsExistingPositionsAndReturnsWhatStands() {
    String g = Cassandra.unique("init");
    Partition a = Partition.of("t", 0);
    Partition b = Partition.of("t", 1);
    assertThat(store.initialize(g, Map.of(a, 5L))).containsExactly(Map.entry(a, 5L));
    assertThat(store.initialize(g, Map.of(a, 0L, b, 0L)))
        .containsExactlyInAnyOrderEntriesOf(Map.of(a, 5L, b, 0L));
  }

  @Test
  void adminListsOverwritesAndDeletes() {
    String g = Cassandra.unique("admin");
    Partition a = Partition.of("t", 0);
    Partition b = Partition.of("t", 1);
    Partition c = Partition.of("v", 3);
    store.initialize(g, Map.of(a, 1L, b, 2L));
    assertThat(store.groups()).contains(g);
    store.overwrite(g, Map.of(a, 100L, c, 7L));
    assertThat(store.positions(g))
        .containsExactlyInAnyOrderEntriesOf(Map.of(a, 100L, b, 2L, c, 7L));
    store.commit(g, List.of(new OffsetRange(a, 100, 101)), ResultWriter.none());
    assertThat(store.delete(g, List.of(a, Partition.of("t", 9)))).isEqualTo(1);
    assertThat(store.positions(g)).containsOnlyKeys(b, c);
    assertThat(store.delete(g)).isTrue();
    assertThat(store.delete(g)).isFalse();
    assertThat(store.positions(g)).isEmpty();
    assertThat(store.groups()).doesNotContain(g);
  }

  @Test
  void ofConcurrentCommitsOfOneRangeExactlyOneSucceeds() throws Exception {
    String g = Cassandra.unique("race");
    Partition p = Partition.of("t", 0);
    store.initialize(g, Map.of(p, 0L));
    int n = 6;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Boolean>> outcomes = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        Callable<Boolean> task =
            () -> {
              go.await();
              try {
                store.commit(g, List.of(new OffsetRange(p, 0, 10)), ResultWriter.none());
                return true;
              } catch (OffsetConflictException e) {
                assertThat(e.conflicts())
                    .containsExactly(OffsetConflictException.Conflict.of(p, 0, 10));
                return false;
              }
            };
        outcomes.add(pool.submit(task));
      }
      go.countDown();
      int wins = 0;
      for (Future<Boolean> f : outcomes) {
        wins += f.get() ? 1 : 0;
      }
      assertThat(wins).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.positions(g)).containsEntry(p, 10L);
  }

  @Test
  void concurrentCommitsOfDisjointPartitionsOfOneGroupAllSucceed() throws Exception {
    String g = Cassandra.unique("disjoint");
    int n = 6;
    Map<Partition, Long> starts = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      starts.put(Partition.of("t", i), 0L);
    }
    store.initialize(g, starts);
    ExecutorService pool = Executors.newFixedThreadPool(n);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        Partition p = Partition.of("t", i);
        done.add(
            pool.submit(
                () -> {
                  go.await();
                  for (long at = 0; at < 5; at++) {
                    store.commit(g, List.of(new OffsetRange(p, at, at + 1)), ResultWriter.none());
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.positions(g).values()).hasSize(n).containsOnly(5L);
  }

  @Test
  void providerOpensTheStoreFromAUri() throws Exception {
    CassandraServer server = Cassandra.server();
    String g = Cassandra.unique("uri");
    String uri =
        "cassandra://"
            + server.contactString()
            + "/"
            + Cassandra.KEYSPACE
            + "?localDatacenter="
            + server.localDatacenter()
            + "&requestTimeout=15s&resultConcurrency=8";
    try (OffsetStore<CassandraResults> s =
        OffsetStores.open(uri, Map.of(), CassandraResults.class)) {
      assertThat(s).isInstanceOf(CassandraOffsetStore.class);
      assertThat(((CassandraOffsetStore) s).config().resultConcurrency()).isEqualTo(8);
      Partition p = Partition.of("t", 0);
      s.initialize(g, Map.of(p, 3L));
      s.commit(g, List.of(new OffsetRange(p, 3, 4)), ResultWriter.none());
      assertThat(store.positions(g)).containsEntry(p, 4L);
    }
    assertThatThrownBy(() -> OffsetStores.open(uri + "&consistancy=ONE"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("consistancy");
  }

  @Test
  void missingTableIsAConfigurationErrorNamingCreateSchema() {
    CassandraStoreConfig config =
        Cassandra.config(Cassandra.server()).table("no_offsets_here").build();
    try (CassandraOffsetStore s = CassandraOffsetStore.open(config)) {
      assertThatThrownBy(() -> s.positions("g", List.of(Partition.of("t", 0))))
          .isInstanceOf(StoreConfigurationException.class)
          .hasMessageContaining("createSchema");
    }
  }
}
