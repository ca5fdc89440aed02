package io.tandem.zookeeper.e2e;

import io.tandem.tck.e2e.ExactlyOnceVerification;
import io.tandem.tck.e2e.KillableStore;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.ZooKeeperTestServer;
import java.util.Map;

/**
 * The end-to-end kit on the ZooKeeper store: positions, per-record results and per-key folds in one
 * {@code multi} per batch. The workers are other JVMs, so the store URI carries everything they
 * need (servers, root, timeouts); the shared in-process ZooKeeper and Kafka live in this JVM, which
 * the kit never kills. [E6] kills a private ZooKeeper in a JVM of its own instead.
 */
class ZooKeeperE2EIT extends ExactlyOnceVerification {

  /**
   * [E6]: a private standalone ZooKeeper in its own JVM ({@link
   * ZooKeeperTestServer#startPrivate()}, {@code forceSync=yes}: the transaction log is fsynced
   * before a write is acknowledged), killed with SIGKILL and started again on the same data
   * directory and port.
   *
   * <p>The workers' stores need no help to resume: the ZooKeeper client reconnects by itself, and
   * the session survives the restart. The server logs session creation like any transaction and, on
   * start, restores sessions from its snapshot and log with their timeouts counted afresh, so a
   * client back within its timeout (the store's 30 s default here; the server is down for 0.5-2 s
   * plus ~1.5 s of start) keeps its session: checked on ZooKeeper 3.9.4 in {@code LaunchersIT}
   * (same session id, its ephemeral node still there). Were the session to expire, the store's
   * {@code Session} opens a new one on the next call. A commit whose reply the kill swallowed is
   * resolved by the store's read-back after the reconnection, or reported as {@code
   * StoreUnavailableException} and retried by the runtime.
   */
  @Override
  protected KillableStore killableStore() {
    ZooKeeperTestServer zk = ZooKeeperTestServer.startPrivate();
    String uri = "zookeeper://" + zk.connectString() + "/tandem-e2e-offsets?connectTimeout=30s";
    return new KillableStore() {
      @Override
      public String uri() {
        return uri;
      }

      @Override
      public void kill() {
        zk.kill();
      }

      @Override
      public void restart() {
        zk.start(); // same data directory and port: the URI stays valid
      }

      @Override
      public String description() {
        return zk.description();
      }

      @Override
      public void close() {
        zk.close();
      }
    };
  }

  @Override
  protected String bootstrapServers() {
    return KafkaBroker.shared().bootstrapServers();
  }

  @Override
  protected String storeUri() {
    // A root of its own: the results model keeps its nodes under the sibling <root>-e2e.
    return "zookeeper://"
        + ZooKeeperTestServer.shared().connectString()
        + "/tandem-e2e-offsets?connectTimeout=30s";
  }

  @Override
  protected Class<? extends ResultModel<?>> resultModel() {
    return ZooKeeperResultModel.class;
  }

  @Override
  protected Map<String, String> consumerProperties() {
    if (System.getenv(KafkaBroker.ENV) != null && !System.getenv(KafkaBroker.ENV).isBlank()) {
      return super.consumerProperties(); // a user's cluster: the kit's defaults fit any broker
    }
    // The embedded broker allows short sessions: a killed member's partitions move after 2 s
    // instead of 6, so more kills fit in a run.
    return Map.of("session.timeout.ms", "2000", "heartbeat.interval.ms", "500");
  }
}
