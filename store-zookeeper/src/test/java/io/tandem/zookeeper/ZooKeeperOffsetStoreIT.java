package io.tandem.zookeeper;

import static io.tandem.zookeeper.ZkIt.text;
import static io.tandem.zookeeper.ZkIt.unique;
import static io.tandem.zookeeper.ZkIt.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.tandem.spi.StoreConfigurationException;
import io.tandem.testing.ZooKeeperTestServer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The ZooKeeper store against a real server: what the TCK does not cover, or covers less. */
class ZooKeeperOffsetStoreIT {

  private static ZooKeeperTestServer server;
  private static ZooKeeperOffsetStore store;
  private static ZooKeeper zk;

  @BeforeAll
  static void start() throws Exception {
    server = ZooKeeperTestServer.shared();
    store = ZkIt.open(server);
    zk = ZkIt.client(server.connectString());
  }

  @AfterAll
  static void stop() throws Exception {
    store.close();
    zk.close();
  }

  private static String positionNode(String group, String topic, int partition) {
    return store.config().root()
        + "/"
        + io.tandem.zookeeper.internal.NodeNames.encode(group)
        + "/"
        + io.tandem.zookeeper.internal.NodeNames.encode(topic)
        + "/"
        + partition;
  }

  @Test
  void declaresTransactionalAtomicDurable() {
    assertThat(store.capabilities().guarantee()).isEqualTo(Guarantee.TRANSACTIONAL);
    assertThat(store.capabilities().atomicAcrossPartitions()).isTrue();
    assertThat(store.capabilities().durable()).isTrue();
    assertThat(store.capabilities().maxRangesPerCommit()).isEqualTo((1048575 - 1024) / 256);
    assertThat(store.capabilities().description()).contains("forceSync");
    assertThat(store.handleType()).isEqualTo(ZooKeeperOps.class);
  }

  @Test
  void commitMovesPositionsAndWritesResultsAsOneMulti() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    NodePerKey results = NodePerKey.under("/" + unique("results"));
    store.initialize(group, Map.of(Partition.of(topic, 0), 0L, Partition.of(topic, 1), 5L));

    store.commit(
        group,
        List.of(OffsetRange.of(topic, 0, 0, 10), OffsetRange.of(topic, 1, 5, 7)),
        results.putText(Map.of("a", "1", "b/c", "2")));

    assertThat(store.positions(group))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(Partition.of(topic, 0), 10L, Partition.of(topic, 1), 7L));
    assertThat(text(zk.getData(positionNode(group, topic, 0), false, null))).isEqualTo("10");
    Map<String, byte[]> stored = results.read(zk);
    assertThat(stored.keySet()).containsExactly("a", "b/c");
    assertThat(text(stored.get("b/c"))).isEqualTo("2");
  }

  @Test
  void conflictReportsEveryPartitionAndWritesNothing() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    String results = "/" + unique("results");
    store.initialize(
        group,
        Map.of(
            Partition.of(topic, 0), 10L, Partition.of(topic, 1), 20L, Partition.of(topic, 2), 30L));
    AtomicInteger writerRuns = new AtomicInteger();

    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(
                        OffsetRange.of(topic, 0, 10, 11), // fine
                        OffsetRange.of(topic, 1, 25, 30), // gap
                        OffsetRange.of(topic, 2, 29, 31), // overlap
                        OffsetRange.of(topic, 3, 0, 1)), // missing
                    ops -> {
                      writerRuns.incrementAndGet();
                      ops.create(results, utf8("x"));
                    }))
        .isInstanceOfSatisfying(
            OffsetConflictException.class,
            e ->
                assertThat(e.conflicts())
                    .containsExactly(
                        Conflict.of(Partition.of(topic, 1), 25, 20),
                        Conflict.of(Partition.of(topic, 2), 29, 30),
                        Conflict.missing(Partition.of(topic, 3), 0)))
        .hasMessageContaining(topic + "-1 expected 25, found 20")
        .hasMessageContaining(topic + "-3 expected 0, found no position");

    assertThat(writerRuns).hasValue(0);
    assertThat(zk.exists(results, false)).isNull();
    assertThat(store.positions(group))
        .containsEntry(Partition.of(topic, 0), 10L)
        .doesNotContainKey(Partition.of(topic, 3));
  }

  @Test
  void concurrentChangeAfterTheReadFailsTheMultiWithBadVersionAndIsReported() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    String results = "/" + unique("results");
    store.initialize(group, Map.of(Partition.of(topic, 0), 0L, Partition.of(topic, 1), 0L));
    String node = positionNode(group, topic, 1);

    // The writer runs after the store read the versions: another writer advances partition 1
    // in between, so the multi's setData for it carries a stale version (BADVERSION).
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(OffsetRange.of(topic, 0, 0, 3), OffsetRange.of(topic, 1, 0, 3)),
                    ops -> {
                      zk.setData(node, utf8("8"), -1);
                      ops.create(results, utf8("x"));
                    }))
        .isInstanceOfSatisfying(
            OffsetConflictException.class,
            e ->
                assertThat(e.conflicts())
                    .containsExactly(Conflict.of(Partition.of(topic, 1), 0, 8)));

    assertThat(zk.exists(results, false)).isNull();
    assertThat(store.positions(group))
        .containsEntry(Partition.of(topic, 0), 0L)
        .containsEntry(Partition.of(topic, 1), 8L);
  }

  @Test
  void aVersionThatMovedWithoutChangingTheValueIsRetriedWithAFreshRead() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    NodePerKey results = NodePerKey.under("/" + unique("results"));
    store.initialize(group, Map.of(Partition.of(topic, 0), 4L));
    String node = positionNode(group, topic, 0);
    AtomicInteger runs = new AtomicInteger();

    store.commit(
        group,
        List.of(OffsetRange.of(topic, 0, 4, 9)),
        ops -> {
          if (runs.incrementAndGet() == 1) {
            zk.setData(node, utf8("4"), -1); // same value, new version
          }
          results.putText(Map.of("k", "v" + runs.get())).write(ops);
        });

    assertThat(runs).hasValue(2);
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 9L);
    assertThat(text(results.read(zk).get("k"))).isEqualTo("v2");
  }

  @Test
  void aResultOpTheServerRefusesRollsBackThePositions() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    String parent = "/" + unique("results");
    store.initialize(group, Map.of(Partition.of(topic, 0), 0L));
    AtomicInteger runs = new AtomicInteger();

    // Creating a node under a missing parent fails with NONODE on the server, after the
    // position's setData ran inside the multi: the multi rolls the setData back.
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(OffsetRange.of(topic, 0, 0, 5)),
                    ops -> {
                      runs.incrementAndGet();
                      ops.create(parent + "/child", utf8("x"));
                    }))
        .isInstanceOf(ResultWriteException.class)
        .hasCauseInstanceOf(KeeperException.NoNodeException.class)
        .hasMessageContaining("#0 (create " + parent + "/child)")
        .hasMessageContaining("NONODE");
    assertThat(runs).hasValue(3); // NONODE may be a race: the store tried commitAttempts times
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 0L);
  }

  @Test
  void readOpsAndOpsUnderTheRootAreRefusedInTheWriter() {
    String group = unique("g");
    String topic = unique("t");
    store.initialize(group, Map.of(Partition.of(topic, 0), 0L));

    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(OffsetRange.of(topic, 0, 0, 1)),
                    ops -> ops.add(org.apache.zookeeper.Op.getData("/x"))))
        .isInstanceOf(ResultWriteException.class)
        .hasRootCauseMessage(
            "only write operations can join the commit's multi, got a read of /x: read with"
                + " exists/getData/getChildren on this handle instead");
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(OffsetRange.of(topic, 0, 0, 1)),
                    ops -> ops.setData(positionNode(group, topic, 0), utf8("99"), -1)))
        .isInstanceOf(ResultWriteException.class)
        .rootCause()
        .hasMessageContaining("must not touch the store's root");
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 0L);
  }

  @Test
  void batchOverJuteMaxBufferIsRefusedBeforeSendingAndNothingIsWritten() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    String results = "/" + unique("results");
    store.initialize(group, Map.of(Partition.of(topic, 0), 0L));

    // One result node of 1 MiB: over the default jute.maxbuffer (1 MiB - 1) by itself.
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(OffsetRange.of(topic, 0, 0, 1)),
                    ops -> ops.create(results, new byte[1024 * 1024])))
        .isInstanceOf(BatchTooLargeException.class)
        .hasMessageContaining("the limit is 1047551 bytes")
        .hasMessageContaining("jute.maxbuffer 1048575")
        .hasMessageContaining("1 position update(s) and 1 result op(s)")
        .hasMessageContaining("Nothing was sent");
    assertThat(zk.exists(results, false)).isNull();
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 0L);

    // Just under the limit is sent and applies (the server agrees with the count).
    byte[] fits = new byte[1024 * 1024 - 4096];
    store.commit(group, List.of(OffsetRange.of(topic, 0, 0, 1)), ops -> ops.create(results, fits));
    assertThat(zk.exists(results, false).getDataLength()).isEqualTo(fits.length);
  }

  @Test
  void aSmallerConfiguredLimitRefusesManyRanges() {
    try (ZooKeeperOffsetStore small =
        ZooKeeperOffsetStore.open(ZkIt.config(server).juteMaxBuffer(8192).build())) {
      String group = unique("g");
      // Long topic names: 27 ranges (within maxRangesPerCommit, 28) take more than 7168 bytes.
      String topic = unique("t") + "-" + "long".repeat(50);
      assertThat(small.capabilities().maxRangesPerCommit()).isEqualTo((8192 - 1024) / 256);
      Map<Partition, Long> starts = new HashMap<>();
      List<OffsetRange> ranges = new ArrayList<>();
      for (int p = 0; p < 27; p++) {
        starts.put(Partition.of(topic, p), 0L);
        ranges.add(OffsetRange.of(topic, p, 0, 1));
      }
      small.initialize(group, starts);
      assertThatThrownBy(() -> small.commit(group, ranges, ResultWriter.none()))
          .isInstanceOf(BatchTooLargeException.class)
          .hasMessageContaining("27 position update(s)")
          .hasMessageContaining("the limit is 7168 bytes");
      assertThat(small.positions(group).values()).containsOnly(0L);
    }
  }

  @Test
  void unusualGroupAndTopicNamesRoundTrip() {
    List<String> names =
        List.of(
            "a/b",
            ".",
            "..",
            "zookeeper",
            "ünïcødé ✓ \uD83D\uDE00",
            "%41",
            "with space",
            "x".repeat(249));
    String suffix = unique("");
    Map<String, Partition> byGroup = new LinkedHashMap<>();
    for (String name : names) {
      String group = name + suffix;
      Partition p = Partition.of(name, 3);
      byGroup.put(group, p);
      store.initialize(group, Map.of(p, 1L));
      store.commit(group, List.of(new OffsetRange(p, 1, 2)), ResultWriter.none());
      assertThat(store.positions(group)).containsExactly(Map.entry(p, 2L));
      assertThat(store.positions(group, List.of(p))).containsExactly(Map.entry(p, 2L));
    }
    // The bare names too: "." and ".." and "zookeeper" as whole group names.
    for (String name : List.of(".", "..", "zookeeper")) {
      store.initialize(name, Map.of(Partition.of(name, 0), 7L));
      byGroup.put(name, Partition.of(name, 0));
    }
    assertThat(store.groups()).containsAll(byGroup.keySet());
    for (String name : List.of(".", "..", "zookeeper")) {
      assertThat(store.positions(name)).containsExactly(Map.entry(Partition.of(name, 0), 7L));
      assertThat(store.delete(name)).isTrue();
    }
  }

  @Test
  void foreignNodesUnderTheRootAreIgnored() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    store.initialize(group, Map.of(Partition.of(topic, 0), 1L));
    String root = store.config().root();
    zk.create(
        root + "/not canonical", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    zk.create(
        positionNode(group, topic, 0).replaceAll("/0$", "/notanumber"),
        new byte[0],
        ZooDefs.Ids.OPEN_ACL_UNSAFE,
        CreateMode.PERSISTENT);
    assertThat(store.groups()).contains(group).doesNotContain("not canonical");
    assertThat(store.positions(group)).containsExactly(Map.entry(Partition.of(topic, 0), 1L));
  }

  @Test
  void nodePerKeyCreateRaceIsResolvedByAnotherAttempt() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    NodePerKey results = NodePerKey.under("/" + unique("results") + "/nested");
    store.initialize(group, Map.of(Partition.of(topic, 0), 0L));
    AtomicInteger runs = new AtomicInteger();

    store.commit(
        group,
        List.of(OffsetRange.of(topic, 0, 0, 1)),
        ops -> {
          results.putText(Map.of("k", "mine")).write(ops);
          if (runs.incrementAndGet() == 1) {
            // Another writer creates the parents and the key after our look-up: our creates
            // hit NODEEXISTS, the whole multi fails, and the next attempt updates instead.
            String parent = results.parent();
            for (String p : List.of(parent.substring(0, parent.lastIndexOf('/')), parent)) {
              zk.create(p, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            zk.create(
                results.path("k"),
                utf8("theirs"),
                ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
          }
        });

    assertThat(runs).hasValue(2);
    assertThat(text(results.read(zk).get("k"))).isEqualTo("mine");
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 1L);
  }

  @Test
  void nodePerKeyRemembersExistingNodesAndLooksAgainWhenANodeVanished() throws Exception {
    // Remembered: after a look-up saw the node, the next commit sends a blind setData. The node
    // is then deleted behind the adapter's back: that setData fails the multi (NONODE), and the
    // second attempt looks again and creates it.
    assertThat(vanishingKeyRuns(NodePerKey.under("/" + unique("remember")))).isEqualTo(2);
    // Remembering nothing: every commit looks up, so the first attempt already creates it.
    assertThat(vanishingKeyRuns(NodePerKey.under("/" + unique("forget")).knownNodes(0)))
        .isEqualTo(1);
    assertThatThrownBy(() -> NodePerKey.under("/x").knownNodes(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("knownNodes must be 0 or more, got -1");
  }

  /** Three commits of key "k", the node deleted before the third: the writer runs of the third. */
  private static int vanishingKeyRuns(NodePerKey results) throws Exception {
    String group = unique("g");
    String topic = unique("t");
    store.initialize(group, Map.of(Partition.of(topic, 0), 0L));
    store.commit(group, List.of(OffsetRange.of(topic, 0, 0, 1)), results.putText(Map.of("k", "a")));
    store.commit(group, List.of(OffsetRange.of(topic, 0, 1, 2)), results.putText(Map.of("k", "b")));
    zk.delete(results.path("k"), -1);
    AtomicInteger runs = new AtomicInteger();
    store.commit(
        group,
        List.of(OffsetRange.of(topic, 0, 2, 3)),
        ops -> {
          runs.incrementAndGet();
          results.putText(Map.of("k", "c")).write(ops);
        });
    assertThat(text(results.read(zk).get("k"))).isEqualTo("c");
    assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 3L);
    return runs.get();
  }

  @Test
  void countersFoldWithoutLosingIncrementsUnderContention() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    NodePerKey counters = NodePerKey.under("/" + unique("counters"));
    int partitions = 4;
    int commitsEach = 15;
    Map<Partition, Long> starts = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      starts.put(Partition.of(topic, p), 0L);
    }
    store.initialize(group, starts);

    // Four partitions committed concurrently, each adding 1 to one shared counter per commit:
    // the version check makes every lost race run again, so no increment is lost.
    ZooKeeperStoreConfig cfg =
        ZooKeeperStoreConfig.builder(server.connectString())
            .root(store.config().root())
            .commitAttempts(1000)
            .build();
    ExecutorService pool = Executors.newFixedThreadPool(partitions);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        int partition = p;
        done.add(
            pool.submit(
                () -> {
                  try (ZooKeeperOffsetStore own = ZooKeeperOffsetStore.open(cfg)) {
                    for (int i = 0; i < commitsEach; i++) {
                      own.commit(
                          group,
                          List.of(OffsetRange.of(topic, partition, i, i + 1)),
                          counters.add(Map.of("total", 1L)));
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(text(counters.read(zk).get("total")))
        .isEqualTo(Long.toString(partitions * commitsEach));
    assertThat(store.positions(group).values()).containsOnly((long) commitsEach);
  }

  @Test
  void providerOpensZookeeperUris() {
    String root = "/" + unique("provider");
    String uri = "zookeeper://" + server.connectString() + root + "?sessionTimeout=10s";
    try (OffsetStore<ZooKeeperOps> opened = OffsetStores.open(uri, Map.of(), ZooKeeperOps.class)) {
      assertThat(opened).isInstanceOf(ZooKeeperOffsetStore.class);
      assertThat(((ZooKeeperOffsetStore) opened).config().root()).isEqualTo(root);
      String group = unique("g");
      opened.initialize(group, Map.of(Partition.of("t", 0), 3L));
      assertThat(opened.groups()).containsExactly(group);
    }
    assertThatThrownBy(() -> OffsetStores.open(uri + "&poolSize=3"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("poolSize");
  }

  @Test
  void positionDataIsReadableDecimal() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    store.initialize(group, Map.of(Partition.of(topic, 0), 1234567890123L));
    Stat stat = new Stat();
    assertThat(text(zk.getData(positionNode(group, topic, 0), false, stat)))
        .isEqualTo("1234567890123");
    zk.setData(positionNode(group, topic, 0), utf8("garbage"), -1);
    assertThatThrownBy(() -> store.positions(group))
        .hasMessageContaining("holds 'garbage', not a position");
    assertThat(Set.of(stat.getVersion())).containsExactly(0);
  }

  @Test
  void anUnreachableServerIsUnavailableAfterTheConnectTimeout() {
    int port = io.tandem.testing.FreePorts.next();
    long t0 = System.nanoTime();
    assertThatThrownBy(
            () -> OffsetStores.open("zookeeper://127.0.0.1:" + port + "/x?connectTimeout=1s"))
        .isInstanceOf(io.tandem.spi.StoreUnavailableException.class)
        .hasMessageContaining("no connection to ZooKeeper 127.0.0.1:" + port + " within 1000 ms");
    assertThat(java.time.Duration.ofNanos(System.nanoTime() - t0))
        .isLessThan(java.time.Duration.ofSeconds(30));
  }

  @Test
  void digestCredentialsAndCreatorAclProtectThePositions() {
    String root = "/" + unique("secured");
    String group = unique("g");
    String base = "zookeeper://%s@" + server.connectString() + root + "?acl=creator";
    try (OffsetStore<?> owner = OffsetStores.open(base.formatted("alice:right"))) {
      owner.initialize(group, Map.of(Partition.of("t", 0), 1L));
      owner.commit(group, List.of(OffsetRange.of("t", 0, 1, 2)), ResultWriter.none());
      assertThat(owner.positions(group)).containsEntry(Partition.of("t", 0), 2L);
      try (OffsetStore<?> intruder = OffsetStores.open(base.formatted("alice:wrong"))) {
        assertThatThrownBy(() -> intruder.positions(group))
            .isInstanceOf(StoreConfigurationException.class)
            .hasMessageContaining("NOAUTH")
            .hasMessageContaining("Check the credentials")
            .message()
            .doesNotContain("wrong");
      }
    }
  }

  @Test
  void deletingAGroupTooLargeForOneRequestDeletesItInChunks() {
    try (ZooKeeperOffsetStore small =
        ZooKeeperOffsetStore.open(ZkIt.config(server).juteMaxBuffer(8192).build())) {
      String group = unique("g");
      Map<Partition, Long> starts = new HashMap<>();
      for (int p = 0; p < 300; p++) {
        starts.put(Partition.of("topic-" + (p % 3), p), 1L);
      }
      small.initialize(group, starts);
      assertThat(small.positions(group)).hasSize(300);

      List<Partition> some = new ArrayList<>(starts.keySet()).subList(0, 250);
      assertThat(small.delete(group, some)).isEqualTo(250);
      assertThat(small.positions(group)).hasSize(50);

      small.initialize(group, starts);
      assertThat(small.delete(group)).isTrue();
      assertThat(small.positions(group)).isEmpty();
      assertThat(small.groups()).doesNotContain(group);
    }
  }
}
