package io.tandem.connect.cluster;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Connect cluster with the eager rebalance protocol ({@code connect.protocol=eager}) and eager
 * sink consumers (RangeAssignor): every rebalance stops and restarts every task.
 */
class EagerConnectClusterIT extends ConnectClusterScenarios {

  @Override
  Map<String, String> workerProperties() {
    return Map.of(
        "connect.protocol", "eager",
        "consumer.partition.assignment.strategy",
            "org.apache.kafka.clients.consumer.RangeAssignor");
  }

  @Override
  String label() {
    return "eager";
  }

  @Test
  void workerKilledMidFlushAndWorkersAddedKeepExactlyOnce() throws Exception {
    killAddRemove(false);
  }

  @Test
  void retentionPastTheStoredPositionFailsTheTask() throws Exception {
    retentionPastStoredPosition();
  }
}
