package io.tandem.kafka;

import io.tandem.testing.KafkaBroker;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
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
    return new KafkaProducer<>(
        broker().producerProperties(), new StringSerializer(), new StringSerializer());
  }

  /** Produces values {@code prefix0..prefix(n-1)}, round robin over the partitions. */
  static void produce(String topic, int partitions, String prefix, int n) {
    List<ProducerRecord<String, String>> records = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      records.add(new ProducerRecord<>(topic, i % partitions, "k" + i, prefix + i));
    }
    produce(topic, records);
  }

  /** Produces and waits for every acknowledgement: a test must never miss a failed send. */
  static void produce(String topic, List<ProducerRecord<String, String>> records) {
    try (KafkaProducer<String, String> p = producer()) {
      List<Future<RecordMetadata>> acks = new ArrayList<>(records.size());
      for (ProducerRecord<String, String> r : records) {
        acks.add(p.send(r));
      }
      p.flush();
      for (Future<RecordMetadata> ack : acks) {
        ack.get(2, TimeUnit.MINUTES);
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("producing to " + topic + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while producing to " + topic, e);
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
      thread.join(120_000);
      if (thread.isAlive()) {
        throw new AssertionError("run() did not end within 120 s");
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
