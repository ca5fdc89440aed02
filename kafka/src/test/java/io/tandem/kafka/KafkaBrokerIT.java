package io.tandem.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.testing.KafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The non-shared launcher the CLI demo uses: own broker, restart on the same data, clean stop. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class KafkaBrokerIT {

  private static List<String> readAll(KafkaBroker broker, String topic) {
    Map<String, Object> props = broker.clientProperties();
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<String> out = new ArrayList<>();
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      c.assign(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (c.position(tp) < end && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
      }
    }
    return out;
  }

  @Test
  void ownBrokerKeepsItsTopicsAcrossARestartOnTheSameDirectory(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("kafka");
    String first;
    try (KafkaBroker broker = KafkaBroker.start(log)) {
      first = broker.bootstrapServers();
      assertThat(broker.description()).contains("embedded KRaft").contains(log.toString());
      broker.createTopic("kept", 1);
      try (KafkaProducer<String, String> p =
          new KafkaProducer<>(
              broker.clientProperties(), new StringSerializer(), new StringSerializer())) {
        p.send(new ProducerRecord<>("kept", "k", "before-restart")).get(30, TimeUnit.SECONDS);
      }
    }
    assertThat(Files.exists(log.resolve("meta.properties"))).isTrue();
    long t0 = System.nanoTime();
    try (KafkaBroker again = KafkaBroker.start(log)) {
      long startMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(startMs).isPositive(); // measured, reported below, never asserted as a limit
      System.err.println(
          "[KafkaBrokerIT] restart on the same log directory took " + startMs + " ms");
      assertThat(again.bootstrapServers()).isNotEqualTo(first);
      assertThat(readAll(again, "kept")).containsExactly("before-restart");
      again.close();
      again.close(); // idempotent
    }
  }

  @Test
  void twoOwnBrokersRunSideBySideAndATemporaryOneCleansUp() {
    Path tmp;
    try (KafkaBroker a = KafkaBroker.start();
        KafkaBroker b = KafkaBroker.start()) {
      assertThat(a.bootstrapServers()).isNotEqualTo(b.bootstrapServers());
      a.createTopic("t", 2);
      b.createTopic("t", 3);
      String desc = a.description();
      tmp = Path.of(desc.substring(desc.indexOf("(log ") + 5, desc.length() - 1));
      assertThat(tmp).exists();
    }
    assertThat(tmp).doesNotExist();
  }
}
