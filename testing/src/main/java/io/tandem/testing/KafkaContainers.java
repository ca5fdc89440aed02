package io.tandem.testing;

import java.time.Duration;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The Testcontainers path of {@link KafkaBroker}: an {@code apache/kafka} image of the client's
 * version. Loaded only when a Docker engine answers, so other paths need no Testcontainers.
 */
final class KafkaContainers {

  private KafkaContainers() {}

  @SuppressWarnings("resource") // closed by the KafkaBroker that owns it
  static KafkaBroker start() {
    String image = "apache/kafka:" + KafkaBroker.clientVersion();
    KafkaContainer container =
        new KafkaContainer(image)
            .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
            .withEnv(
                "KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS",
                String.valueOf(KafkaBroker.MIN_SESSION_TIMEOUT_MS))
            .withEnv(
                "KAFKA_GROUP_CONSUMER_MIN_SESSION_TIMEOUT_MS",
                String.valueOf(KafkaBroker.MIN_SESSION_TIMEOUT_MS))
            .withEnv("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .withEnv("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
            .withStartupTimeout(Duration.ofMinutes(2));
    container.start();
    return KafkaBroker.containerized(
        container.getBootstrapServers(),
        "Testcontainers " + image + " on " + container.getBootstrapServers(),
        container::stop);
  }
}
