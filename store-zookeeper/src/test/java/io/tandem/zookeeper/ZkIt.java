package io.tandem.zookeeper;

import io.tandem.testing.ZooKeeperTestServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/** Shared helpers of the integration tests: unique names, stores, a plain client. */
final class ZkIt {

  private static final AtomicInteger SEQ = new AtomicInteger();

  private ZkIt() {}

  /** A name unique in this run and across runs on a shared server. */
  static String unique(String prefix) {
    return prefix
        + "-"
        + ProcessHandle.current().pid()
        + "-"
        + SEQ.incrementAndGet()
        + "-"
        + Long.toString(System.nanoTime() % 1_000_000, 36);
  }

  static ZooKeeperStoreConfig.Builder config(ZooKeeperTestServer server) {
    return ZooKeeperStoreConfig.builder(server.connectString())
        .root("/" + unique("tandem-it"))
        .connectTimeout(Duration.ofSeconds(10));
  }

  static ZooKeeperOffsetStore open(ZooKeeperTestServer server) {
    return ZooKeeperOffsetStore.open(config(server).build());
  }

  /** A connected plain client; the caller closes it. */
  static ZooKeeper client(String connectString) throws Exception {
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk =
        new ZooKeeper(
            connectString,
            30_000,
            e -> {
              if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            });
    if (!connected.await(10, TimeUnit.SECONDS)) {
      zk.close();
      throw new IllegalStateException("no connection to " + connectString);
    }
    return zk;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }
}
