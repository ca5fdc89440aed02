package io.tandem.bench;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.ZooKeeperTestServer;
import io.tandem.zookeeper.NodePerKey;
import io.tandem.zookeeper.ZooKeeperOffsetStore;
import io.tandem.zookeeper.ZooKeeperOps;
import io.tandem.zookeeper.ZooKeeperStoreConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * ZooKeeper through {@link ZooKeeperOffsetStore}, results as one node per key ({@link NodePerKey}).
 * The server is an embedded ZooKeeper (forceSync on, its default: the transaction log is fsynced
 * before a write is acknowledged), in the benchmark's JVM.
 */
final class ZooKeeperBackend implements Backend<ZooKeeperOps> {

  private static final String ROOT = "/bench";

  private final ZooKeeperTestServer server = ZooKeeperTestServer.startEmbedded();
  private final ZooKeeperOffsetStore store;
  private final ZooKeeper zk;
  private final Map<String, NodePerKey> adapters = new ConcurrentHashMap<>();

  ZooKeeperBackend() throws Exception {
    store =
        ZooKeeperOffsetStore.open(
            ZooKeeperStoreConfig.builder(server.connectString()).root("/tandem-bench").build());
    CountDownLatch connected = new CountDownLatch(1);
    zk =
        new ZooKeeper(
            server.connectString(),
            30_000,
            e -> {
              if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            });
    if (!connected.await(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("ZooKeeper client did not connect to " + server);
    }
    createIfAbsent(ROOT);
  }

  @Override
  public String name() {
    return "zookeeper";
  }

  @Override
  public String server() {
    return "ZooKeeper "
        + org.apache.zookeeper.Version.getFullVersion().split("[ ,]")[0]
        + " ("
        + server.description()
        + ", in the benchmark JVM; forceSync=yes: the log is fsynced before each acknowledgement)";
  }

  @Override
  public OffsetStore<ZooKeeperOps> store() {
    return store;
  }

  static String parent(String namespace) {
    return ROOT + "/" + namespace;
  }

  private void createIfAbsent(String path) throws KeeperException, InterruptedException {
    try {
      zk.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException e) {
      // prepared before
    }
  }

  @Override
  public void prepare(String namespace, int keys, int partitions) throws Exception {
    String parent = parent(namespace);
    if (zk.exists(parent, false) != null) {
      return;
    }
    // Every key node and position node exists before the run, so both Tandem's NodePerKey and
    // the plain multi below update nodes (setData) and never create them.
    List<Op> ops = new ArrayList<>();
    ops.add(Op.create(parent, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
    ops.add(
        Op.create(
            parent + "-pos", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
    for (int i = 0; i < keys; i++) {
      ops.add(
          Op.create(
              parent + "/k" + i, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
      if (ops.size() == 1000) {
        zk.multi(ops);
        ops = new ArrayList<>();
      }
    }
    for (int p = 0; p < partitions; p++) {
      ops.add(
          Op.create(
              parent + "-pos/" + p,
              new byte[0],
              ZooDefs.Ids.OPEN_ACL_UNSAFE,
              CreateMode.PERSISTENT));
    }
    if (!ops.isEmpty()) {
      zk.multi(ops);
    }
  }

  /**
   * Tandem's sink adapter, {@link NodePerKey}, one per namespace so it remembers which key nodes
   * exist: after a look-up per key it sends the same blind {@code setData}s as {@link #write}. With
   * {@code bench.zk.nodePerKey=false} the writer queues those {@code setData}s by hand.
   */
  @Override
  public ResultWriter<ZooKeeperOps> writer(String namespace, List<Row> rows) {
    if (Boolean.parseBoolean(System.getProperty("bench.zk.nodePerKey", "true"))) {
      Map<String, String> entries = new LinkedHashMap<>();
      rows.forEach(r -> entries.put(r.key(), r.value()));
      return adapters
          .computeIfAbsent(namespace, ns -> NodePerKey.under(parent(ns)))
          .putText(entries);
    }
    String parent = parent(namespace);
    List<Row> copy = List.copyOf(rows);
    return ops -> {
      for (Row r : copy) {
        ops.setData(parent + "/" + r.key(), r.value().getBytes(StandardCharsets.UTF_8), -1);
      }
    };
  }

  @Override
  public void write(String namespace, List<Row> rows, Map<Partition, Long> positions)
      throws Exception {
    String parent = parent(namespace);
    List<Op> ops = new ArrayList<>(rows.size() + positions.size());
    for (Row r : rows) {
      ops.add(Op.setData(parent + "/" + r.key(), r.value().getBytes(StandardCharsets.UTF_8), -1));
    }
    positions.forEach(
        (p, pos) ->
            ops.add(
                Op.setData(
                    parent + "-pos/" + p.partition(),
                    Long.toString(pos).getBytes(StandardCharsets.US_ASCII),
                    -1)));
    if (!ops.isEmpty()) {
      zk.multi(ops);
    }
  }

  @Override
  public void close() {
    store.close();
    try {
      zk.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.close();
  }
}
