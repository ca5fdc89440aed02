package io.tandem.tck.e2e.internal;

import io.tandem.spi.Partition;
import io.tandem.tck.e2e.E2eRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Topic, input records and log end offsets of one end-to-end run, on a broker the test names.
 *
 * <p>Internal: may change in any release.
 */
public final class Fixture implements AutoCloseable {

  private final String bootstrap;
  private final String topic;
  private final int partitions;
  private final Admin admin;

  /**
   * Creates the topic.
   *
   * @param bootstrap the broker address
   * @param topic a new topic name
   * @param partitions its partitions
   * @throws Exception if the broker refuses
   */
  public Fixture(String bootstrap, String topic, int partitions) throws Exception {
    this(bootstrap, topic, partitions, Map.of());
  }

  /**
   * Creates the topic with topic-level configuration, such as {@code cleanup.policy=compact}.
   *
   * @param bootstrap the broker address
   * @param topic a new topic name
   * @param partitions its partitions
   * @param configs topic configuration entries
   * @throws Exception if the broker refuses
   */
  public Fixture(String bootstrap, String topic, int partitions, Map<String, String> configs)
      throws Exception {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.partitions = partitions;
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    this.admin = Admin.create(p);
    // Replication factor from the broker's default: one broker here, three in a real cluster.
    admin
        .createTopics(
            List.of(
                new NewTopic(topic, java.util.Optional.of(partitions), java.util.Optional.empty())
                    .configs(configs)))
        .all()
        .get(60, TimeUnit.SECONDS);
  }

  /**
   * Generates the run's records: ids {@code r000000...}, keys spread evenly over partitions.
   *
   * @param count how many
   * @param keys how many distinct keys
   * @param random the run's random source
   * @return the records in production order
   */
  public static List<E2eRecord> generate(int count, int keys, Random random) {
    List<E2eRecord> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(
          new E2eRecord(
              String.format("r%07d", i),
              String.format("k%03d", random.nextInt(keys)),
              1 + random.nextInt(1000)));
    }
    return out;
  }

  /**
   * The partition a key goes to: its number modulo the partition count, so every partition gets
   * keys whatever the count.
   *
   * @param key a generated key
   * @return its partition
   */
  public int partitionOf(String key) {
    return Integer.parseInt(key.substring(1)) % partitions;
  }

  /**
   * A producer for this run: idempotent with {@code acks=all}, so the input holds each record once
   * (a duplicate in the input would be blamed on the consumer).
   *
   * @return the producer; the caller closes it
   */
  public KafkaProducer<String, String> producer() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    // One request in flight and patient timeouts: on a starved machine a timed-out request made
    // the idempotent producer restart its sequence numbers, which the broker then refused
    // (OutOfOrderSequenceException) until the batches expired. Input order and uniqueness matter
    // more here than producer throughput.
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "60000");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "180000");
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  /**
   * A transactional producer for this run, for input that is aborted or left hanging.
   *
   * @param transactionalId unique per producer
   * @param timeout the transaction timeout: the broker aborts a transaction left open this long
   * @return the producer, transactions not yet initialized; the caller closes it
   */
  public KafkaProducer<String, String> transactionalProducer(
      String transactionalId, Duration timeout) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) timeout.toMillis());
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  /**
   * The Kafka record of an input record: its partition from its key.
   *
   * @param r the input record
   * @return the producer record
   */
  public ProducerRecord<String, String> record(E2eRecord r) {
    return new ProducerRecord<>(topic, partitionOf(r.key()), r.key(), r.value());
  }

  /**
   * Deletes the records of a partition below an offset, as retention would.
   *
   * @param p the partition
   * @param beforeOffset the new log start offset
   * @throws Exception if the broker refuses
   */
  public void deleteRecords(Partition p, long beforeOffset) throws Exception {
    admin
        .deleteRecords(
            Map.of(
                new TopicPartition(p.topic(), p.partition()),
                org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(beforeOffset)))
        .all()
        .get(60, TimeUnit.SECONDS);
  }

  /**
   * Waits until no partition of the topic has an open producer transaction: the last stable offset
   * (read_committed end) equals the log end everywhere.
   *
   * @param timeout how long to wait
   * @throws Exception if the broker fails or a transaction stays open past the timeout
   */
  public void awaitNoOpenTransaction(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int i = 0; i < partitions; i++) {
      request.put(new TopicPartition(topic, i), OffsetSpec.latest());
    }
    while (true) {
      var committed =
          admin
              .listOffsets(
                  request,
                  new org.apache.kafka.clients.admin.ListOffsetsOptions(
                      org.apache.kafka.common.IsolationLevel.READ_COMMITTED))
              .all()
              .get(30, TimeUnit.SECONDS);
      var all = admin.listOffsets(request).all().get(30, TimeUnit.SECONDS);
      boolean stable =
          all.entrySet().stream()
              .allMatch(e -> committed.get(e.getKey()).offset() == e.getValue().offset());
      if (stable) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "a producer transaction on " + topic + " is still open after " + timeout);
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
  }

  /**
   * Sends records and waits until the broker has them all.
   *
   * @param producer the run's producer
   * @param batch the records
   * @throws Exception if a send fails
   */
  public void send(KafkaProducer<String, String> producer, List<E2eRecord> batch) throws Exception {
    List<java.util.concurrent.Future<?>> acks = new ArrayList<>(batch.size());
    for (E2eRecord r : batch) {
      acks.add(
          producer.send(new ProducerRecord<>(topic, partitionOf(r.key()), r.key(), r.value())));
    }
    producer.flush();
    for (var f : acks) {
      f.get(60, TimeUnit.SECONDS);
    }
  }

  /**
   * Every partition of the topic.
   *
   * @return the partitions
   */
  public List<Partition> partitions() {
    List<Partition> out = new ArrayList<>();
    for (int i = 0; i < partitions; i++) {
      out.add(Partition.of(topic, i));
    }
    return out;
  }

  /**
   * The log end offset of every partition: where a consumer that has read everything stands.
   *
   * @return end offsets
   * @throws ExecutionException if the broker fails
   * @throws InterruptedException if interrupted
   * @throws TimeoutException if the broker does not answer in 30 s
   */
  public Map<Partition, Long> endOffsets()
      throws ExecutionException, InterruptedException, TimeoutException {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int i = 0; i < partitions; i++) {
      request.put(new TopicPartition(topic, i), OffsetSpec.latest());
    }
    Map<Partition, Long> out = new HashMap<>();
    admin
        .listOffsets(request)
        .all()
        .get(30, TimeUnit.SECONDS)
        .forEach((tp, info) -> out.put(Partition.of(tp.topic(), tp.partition()), info.offset()));
    return out;
  }

  /**
   * Reads every record the topic holds now, from the log start to the log end (read_committed),
   * with a plain consumer: on a compacted topic, what the cleaner left.
   *
   * @param timeout how long reading may take
   * @return per partition, the records by offset
   * @throws Exception if the broker fails or the end is not reached within the timeout
   */
  public Map<Partition, NavigableMap<Long, E2eRecord>> readAll(Duration timeout) throws Exception {
    Map<Partition, Long> ends = endOffsets();
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    Map<Partition, NavigableMap<Long, E2eRecord>> out = new TreeMap<>();
    List<TopicPartition> tps = new ArrayList<>();
    for (Partition part : partitions()) {
      out.put(part, new TreeMap<>());
      tps.add(new TopicPartition(topic, part.partition()));
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      c.assign(tps);
      c.seekToBeginning(tps);
      while (tps.stream().anyMatch(tp -> c.position(tp) < ends.get(partition(tp)))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "reading " + topic + " did not reach the log end " + ends + " within " + timeout);
        }
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          out.get(Partition.of(r.topic(), r.partition()))
              .put(r.offset(), E2eRecord.decode(r.key(), r.value()));
        }
      }
    }
    return out;
  }

  private static Partition partition(TopicPartition tp) {
    return Partition.of(tp.topic(), tp.partition());
  }

  /**
   * The run's topic.
   *
   * @return its name
   */
  public String topic() {
    return topic;
  }

  @Override
  public void close() {
    try {
      admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // Best effort: a left-over topic costs disk, not correctness (names are unique).
    }
    admin.close(Duration.ofSeconds(10));
  }
}
