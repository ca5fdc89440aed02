package io.tandem.testing;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The configuration of a one-node KRaft cluster (broker and controller, node id 1) on loopback,
 * shared by the in-process and the forked launcher. No Kafka class here: the forked launcher runs
 * where {@code kafka_2.13} is not on the class path.
 */
final class KafkaNodeConfig {

  private KafkaNodeConfig() {}

  static Map<String, String> properties(Path dir, int brokerPort, int controllerPort) {
    Map<String, String> p = new HashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dir.toString());
    // One broker: every internal topic must accept replication factor 1, else the offsets and
    // transaction state topics are never created and transactional producers hang.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("default.replication.factor", "1");
    p.put("min.insync.replicas", "1");
    p.put("num.partitions", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    // Tests provoke rebalances and dead members: let them use short session timeouts.
    p.put("group.min.session.timeout.ms", String.valueOf(KafkaBroker.MIN_SESSION_TIMEOUT_MS));
    p.put(
        "group.consumer.min.session.timeout.ms",
        String.valueOf(KafkaBroker.MIN_SESSION_TIMEOUT_MS));
    p.put("group.consumer.min.heartbeat.interval.ms", "100");
    p.put("log.retention.check.interval.ms", "1000");
    // The log cleaner (on by default, log.cleaner.enable=true) sleeps log.cleaner.backoff.ms
    // (default 15 s) whenever it finds nothing to clean: a compacted topic's test would wait up to
    // that long for its first pass.
    p.put("log.cleaner.backoff.ms", "500");
    p.put("auto.create.topics.enable", "false");
    return p;
  }
}
