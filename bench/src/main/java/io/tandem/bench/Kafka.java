package io.tandem.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The broker (forked, or from {@code TANDEM_KAFKA_BOOTSTRAP}) and the benchmark's topic. */
final class Kafka implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Kafka.class);

  final String bootstrap;
  final String description;
  private final Process process;

  private Kafka(String bootstrap, String description, Process process) {
    this.bootstrap = bootstrap;
    this.description = description;
    this.process = process;
  }

  static Kafka start(String heap) throws IOException {
    String env = System.getenv("TANDEM_KAFKA_BOOTSTRAP");
    if (env != null && !env.isBlank()) {
      return new Kafka(env.trim(), "from TANDEM_KAFKA_BOOTSTRAP", null);
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "-Xmx" + heap,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp",
                System.getProperty("java.class.path"),
                BrokerMain.class.getName())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    Runtime.getRuntime().addShutdownHook(new Thread(p::destroy, "bench-broker-stop"));
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = r.readLine()) != null) {
      if (line.startsWith("BOOTSTRAP ")) {
        String[] parts = line.split(" ", 3);
        return new Kafka(
            parts[1],
            "embedded KRaft broker (kafka_2.13 "
                + version()
                + ") in its own JVM (-Xmx"
                + heap
                + "), "
                + (parts.length > 2 ? parts[2] : ""),
            p);
      }
    }
    p.destroy();
    throw new IOException("the forked Kafka broker exited before it was ready");
  }

  /** The kafka-clients version, from the properties file inside its jar. */
  static String version() {
    try (java.io.InputStream in =
        Admin.class.getResourceAsStream("/kafka/kafka-version.properties")) {
      java.util.Properties props = new java.util.Properties();
      if (in != null) {
        props.load(in);
      }
      return props.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  Map<String, Object> clientProperties() {
    Map<String, Object> m = new HashMap<>();
    m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    return m;
  }

  /**
   * Creates {@code topic} with {@code partitions} partitions and writes {@code records} records:
   * record i has key {@code k<i % keys>}, a 16-character value, and goes to partition {@code i %
   * partitions}.
   *
   * @return the end offset of each partition
   */
  Map<Integer, Long> produce(String topic, int partitions, long records, int keys)
      throws Exception {
    try (Admin admin = Admin.create(clientProperties())) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
      awaitLeaders(admin, topic, partitions);
    }
    Map<String, Object> p = clientProperties();
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    // One batch buffer per partition in flight: with 1 000 partitions 256 KiB each would take 8×
    // the producer's 32 MiB and every send would wait for memory (113 s for 50 000 records here).
    p.put(
        ProducerConfig.BATCH_SIZE_CONFIG,
        Math.max(16 * 1024, Math.min(256 * 1024, (16 << 20) / partitions)));
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
    long t0 = System.nanoTime();
    java.util.concurrent.atomic.AtomicReference<Exception> failed =
        new java.util.concurrent.atomic.AtomicReference<>();
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      for (long i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>(topic, (int) (i % partitions), key(i, keys), value(i)));
      }
      producer.flush();
    }
    log.info(
        "produced {} records to {} in {} ms",
        records,
        topic,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    Map<String, Object> c = clientProperties();
    c.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-probe");
    Map<Integer, Long> ends = new HashMap<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int i = 0; i < partitions; i++) {
        tps.add(new TopicPartition(topic, i));
      }
      consumer.endOffsets(tps).forEach((tp, end) -> ends.put(tp.partition(), end));
    }
    return ends;
  }

  /**
   * Waits until every partition of a new topic has a leader that answers. Producing to a topic of 1
   * 000 partitions right after creating it got NOT_LEADER_OR_FOLLOWER on the partitions whose
   * leaders were not ready, and the idempotent producer then retried one partition's batches with
   * OUT_OF_ORDER_SEQUENCE_NUMBER without end (seen here with kafka 4.4.0's embedded broker).
   */
  private void awaitLeaders(Admin admin, String topic, int partitions) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (true) {
      long led =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get()
              .get(topic)
              .partitions()
              .stream()
              .filter(p -> p.leader() != null && !p.leader().isEmpty())
              .count();
      if (led == partitions) {
        break;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            topic
                + ": only "
                + led
                + " of "
                + partitions
                + " partitions have a leader after 3 min");
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    // The leaders answer: ListOffsets goes to each partition's leader (retried until it does).
    Map<String, Object> c = clientProperties();
    c.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-probe");
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int i = 0; i < partitions; i++) {
        tps.add(new TopicPartition(topic, i));
      }
      consumer.endOffsets(tps, java.time.Duration.ofMinutes(3));
    }
  }

  static String key(long i, int keys) {
    return "k" + (i % keys);
  }

  static String value(long i) {
    String s = Long.toString(i);
    return "v" + "0".repeat(Math.max(0, 15 - s.length())) + s;
  }

  @Override
  public void close() {
    if (process != null) {
      process.destroy();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
