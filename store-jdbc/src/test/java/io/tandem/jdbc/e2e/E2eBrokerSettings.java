package io.tandem.jdbc.e2e;

import io.tandem.testing.KafkaBroker;
import java.util.Map;

/** Consumer settings for the embedded broker, which accepts short session timeouts. */
final class E2eBrokerSettings {

  private E2eBrokerSettings() {}

  static Map<String, String> consumerProperties(Map<String, String> defaults) {
    String env = System.getenv(KafkaBroker.ENV);
    if (env != null && !env.isBlank()) {
      return defaults; // a user's cluster: keep the kit's defaults, valid on any broker
    }
    // Killed members' partitions move after 2 s instead of 6: more kills per minute of CI.
    return Map.of("session.timeout.ms", "2000", "heartbeat.interval.ms", "500");
  }
}
