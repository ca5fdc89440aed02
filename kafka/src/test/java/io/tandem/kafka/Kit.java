package io.tandem.kafka;

import io.tandem.testing.KafkaBroker;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/** Shared helpers of the runtime's broker tests. */
final class Kit {

  private Kit() {}

  static KafkaBroker broker() {
    return KafkaBroker.shared();
  }

  /** A name no other test uses: tests share one broker. */
  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** A new topic with {@code partitions} partitions. */
  static String topic(String prefix, int partitions) {
    String name = unique(prefix);
    broker().createTopic(name, partitions);
    return name;
  }

  static KafkaProducer<String, String> producer() {
    Map<String, Object> props = broker().clientProperties();
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
  }

  /** Produces values {@code prefix0..prefix(n-1)}, round robin over the partitions. */
  static void produce(String topic, int partitions, String prefix, int n) {
    try (KafkaProducer<String, String> p = producer()) {
      for (int i = 0; i < n; i++) {
        p.send(new ProducerRecord<>(topic, i % partitions, "k" + i, prefix + i));
      }
      p.flush();
    }
  }

  static void produce(String topic, List<ProducerRecord<String, String>> records) {
    try (KafkaProducer<String, String> p = producer()) {
      for (ProducerRecord<String, String> r : records) {
        p.send(r);
      }
      p.flush();
    }
  }

  /** A consumer's {@code run()} on its own thread. */
  static final class Running implements AutoCloseable {
    final TandemConsumer<?, ?, ?> consumer;
    final Thread thread;
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Running(TandemConsumer<?, ?, ?> consumer) {
      this.consumer = consumer;
      this.thread =
          new Thread(
              () -> {
                try {
                  consumer.run();
                } catch (Throwable t) {
                  failure.set(t);
                }
              },
              "tandem-test-" + consumer.group());
      thread.setDaemon(true);
      thread.start();
    }

    /** Waits for {@code run()} to end by itself; returns what it threw. */
    Throwable awaitFailure() throws InterruptedException {
      thread.join(60_000);
      if (thread.isAlive()) {
        throw new AssertionError("run() did not end within 60 s");
      }
      return failure.get();
    }

    @Override
    public void close() throws InterruptedException {
      consumer.close();
      thread.join(30_000);
      if (thread.isAlive()) {
        throw new AssertionError("run() did not return within 30 s of close()");
      }
    }
  }

  static Running start(TandemConsumer<?, ?, ?> consumer) {
    return new Running(consumer);
  }
}
