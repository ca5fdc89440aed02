package io.tandem.zookeeper.e2e;

import io.tandem.tck.e2e.ExactlyOnceVerification;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.ZooKeeperTestServer;
import java.util.Map;

/**
 * The end-to-end kit on the ZooKeeper store: positions, per-record results and per-key folds in one
 * {@code multi} per batch. The workers are other JVMs, so the store URI carries everything they
 * need (servers, root, timeouts); the in-process ZooKeeper and Kafka live in this JVM, which the
 * kit never kills.
 */
class ZooKeeperE2EIT extends ExactlyOnceVerification {

  @Override
  protected String storeKillUnsupportedReason() {
    return "the ZooKeeper launcher runs the server inside the test JVM (ZooKeeperServer in-process),"
        + " which a SIGKILL would take down with the test; restarts of that server under a live"
        + " store are covered by ZooKeeperFaultsIT";
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
