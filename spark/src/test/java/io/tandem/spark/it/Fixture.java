package io.tandem.spark.it;

import io.tandem.spark.StoreSpec;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.PostgresServer;
import java.sql.Connection;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ConsumerGroupState;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.spark.sql.SparkSession;

/**
 * What every Spark test of this JVM shares: the broker (forked: its kafka-clients 4.4 never meets
 * Spark's 3.9 on one class path), PostgreSQL, one local SparkSession (Spark starts slowly), and
 * unique names.
 */
final class Fixture {

  static final int KEYS = 10;
  private static final AtomicInteger NAMES = new AtomicInteger();

  private Fixture() {}

  static KafkaBroker kafka() {
    return KafkaBroker.shared();
  }

  static PostgresServer postgres() {
    return PostgresServer.shared();
  }

  static StoreSpec<Connection> jdbcStore() {
    PostgresServer pg = postgres();
    return StoreSpec.of(
        pg.jdbcUrl(), Map.of("user", pg.user(), "password", pg.password()), Connection.class);
  }

  private static final class Session {
    // local[2,4]: two task threads, a task may fail 3 times before its job fails.
    static final SparkSession INSTANCE =
        SparkSession.builder()
            .appName("tandem-spark-it")
            .master("local[2,4]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.streaming.stopTimeout", "60s")
            .getOrCreate();
  }

  static SparkSession spark() {
    return Session.INSTANCE;
  }

  static String unique(String prefix) {
    return prefix + "_" + ProcessHandle.current().pid() + "_" + NAMES.incrementAndGet();
  }

  static Map<String, Object> kafkaParams(String group) {
    Map<String, Object> p = new HashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka().bootstrapServers());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return p;
  }

  /**
   * Writes records {@code first..first+count-1}: key {@code k<i % KEYS>}, value {@code i}, spread
   * over the partitions round-robin.
   *
   * @return the value total per key
   */
  static Map<String, Long> produce(String topic, int partitions, long first, long count) {
    Map<String, Object> props = kafka().producerProperties();
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    Map<String, Long> totals = new TreeMap<>();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (long i = first; i < first + count; i++) {
        String key = "k" + (i % KEYS);
        producer.send(new ProducerRecord<>(topic, (int) (i % partitions), key, Long.toString(i)));
        totals.merge(key, i, Long::sum);
      }
      producer.flush();
    }
    return totals;
  }

  /** Like {@link #produce}, in transactions of {@code perTransaction} records (markers between). */
  static void produceTransactional(
      String topic, int partitions, long first, long count, int perTransaction) {
    Map<String, Object> props = kafka().producerProperties();
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, unique("tx"));
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      producer.initTransactions();
      for (long start = first; start < first + count; start += perTransaction) {
        producer.beginTransaction();
        for (long i = start; i < Math.min(start + perTransaction, first + count); i++) {
          producer.send(
              new ProducerRecord<>(
                  topic, (int) (i % partitions), "k" + (i % KEYS), Long.toString(i)));
        }
        producer.commitTransaction();
      }
    }
  }

  static Map<String, Long> expectedTotals(long count) {
    Map<String, Long> totals = new TreeMap<>();
    for (long i = 0; i < count; i++) {
      totals.merge("k" + (i % KEYS), i, Long::sum);
    }
    return totals;
  }

  /** Whether Kafka lists members of the consumer group. */
  static boolean groupHasMembers(String group) throws Exception {
    Map<String, Object> props = new HashMap<>();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka().bootstrapServers());
    try (Admin admin = Admin.create(props)) {
      ConsumerGroupDescription d =
          admin.describeConsumerGroups(List.of(group)).all().get().get(group);
      return d != null && !d.members().isEmpty() && d.state() == ConsumerGroupState.STABLE;
    }
  }

  static Map<TopicPartition, Long> endOffsets(String topic) {
    Map<String, Object> props = kafkaParams("none");
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(props)) {
      List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
      return new HashMap<>(
          c.endOffsets(
              infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList(),
              Duration.ofSeconds(30)));
    }
  }
}
