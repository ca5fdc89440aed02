package io.tandem.connect.cluster;

import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Connect cluster with incremental cooperative rebalancing ({@code connect.protocol=sessioned},
 * Connect's default) and cooperative sink consumers (CooperativeStickyAssignor).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CooperativeConnectClusterIT extends ConnectClusterScenarios {

  @Override
  Map<String, String> workerProperties() {
    return Map.of(
        "connect.protocol", "sessioned",
        "consumer.partition.assignment.strategy",
            "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
  }

  @Override
  String label() {
    return "coop";
  }

  @Test
  @Order(1)
  void kafkaOffsetsResetBehindItsBackLoseToTheStore() throws Exception {
    kafkaOffsetsResetBehindItsBack();
  }

  @Test
  @Order(2)
  void offsetsResetThroughTheRestApiMoveTheStore() throws Exception {
    offsetsResetThroughRest();
  }

  @Test
  @Order(3)
  void transactionalAbortsAndCompactionLeaveGapsOnly() throws Exception {
    transactionsAndCompaction();
  }

  @Test
  @Order(4)
  void topicRenamingTransformKeepsOriginalOffsets() throws Exception {
    topicRenamingTransform();
  }

  @Test
  @Order(5)
  void taskPausedAcrossARebalanceHasItsCommitRejected() throws Exception {
    pausedAcrossRebalance();
  }

  @Test
  @Order(6)
  void redisSinkKeepsKeysAndPositionsTogetherThroughAKill() throws Exception {
    redisSinkSurvivesAKill();
  }

  @Test
  @Order(7)
  void workerKilledMidFlushAndWorkersAddedAndRemovedKeepExactlyOnce() throws Exception {
    killAddRemove(true);
  }
}
