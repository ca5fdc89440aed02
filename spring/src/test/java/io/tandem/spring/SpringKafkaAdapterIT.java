package io.tandem.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.tandem.jdbc.JdbcOffsetStore;
import io.tandem.jdbc.JdbcStoreConfig;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.PostgresServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.listener.BatchListenerFailedException;
import org.springframework.kafka.listener.BatchMessageListener;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.ContainerProperties.AckMode;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.MessageListener;
import org.springframework.util.backoff.FixedBackOff;

/**
 * The adapter on Spring Kafka's own containers, in this JVM, against the embedded broker and
 * PostgreSQL, with plain Spring (no Boot): positions from the store, JdbcTemplate writes in the
 * store's transaction, a conflict re-seeks without the error handler, the error handler's retries
 * and recovery still work, startup refusals.
 */
class SpringKafkaAdapterIT {

  private static HikariDataSource dataSource;
  private static JdbcTemplate jdbc;
  private static OffsetStore<?> store;
  private static DataSourceTransactionManager transactions;

  @BeforeAll
  static void open() {
    PostgresServer pg = PostgresServer.shared();
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(pg.newDatabase("spring_adapter"));
    c.setUsername(pg.user());
    c.setPassword(pg.password());
    c.setMaximumPoolSize(6);
    dataSource = new HikariDataSource(c);
    jdbc = new JdbcTemplate(dataSource);
    jdbc.execute("CREATE TABLE results (topic TEXT, part INT, off BIGINT, v TEXT)");
    store =
        JdbcOffsetStore.open(
            new TransactionAwareDataSourceProxy(dataSource), JdbcStoreConfig.builder().build());
    transactions = new DataSourceTransactionManager(dataSource);
  }

  @AfterAll
  static void close() {
    store.close();
    dataSource.close();
  }

  private static String topic(int partitions) {
    String t = "spring-it-" + UUID.randomUUID().toString().substring(0, 8);
    KafkaBroker.shared().createTopic(t, partitions);
    return t;
  }

  private static void produce(String topic, int partitions, int count) {
    Map<String, Object> p = new HashMap<>(KafkaBroker.shared().producerProperties());
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < count; i++) {
        producer.send(new ProducerRecord<>(topic, i % partitions, "k" + i, "v" + i));
      }
      producer.flush();
    }
  }

  private static ConcurrentMessageListenerContainer<String, String> container(
      String topic, String group, Object listener, int concurrency) {
    Map<String, Object> props = new HashMap<>(KafkaBroker.shared().clientProperties());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50);
    DefaultKafkaConsumerFactory<String, String> cf =
        new DefaultKafkaConsumerFactory<>(
            props, new StringDeserializer(), new StringDeserializer());
    ContainerProperties cp = new ContainerProperties(topic);
    cp.setGroupId(group);
    cp.setMessageListener(listener);
    ConcurrentMessageListenerContainer<String, String> c =
        new ConcurrentMessageListenerContainer<>(cf, cp);
    c.setConcurrency(concurrency);
    c.setBeanName("it-" + group);
    return c;
  }

  private static TandemKafka tandem() {
    return TandemKafka.builder(store).transactionManager(transactions).build();
  }

  private static long rows(String topic) {
    return jdbc.queryForObject("SELECT count(*) FROM results WHERE topic = ?", Long.class, topic);
  }

  private static long distinctRows(String topic) {
    return jdbc.queryForObject(
        "SELECT count(DISTINCT (part, off)) FROM results WHERE topic = ?", Long.class, topic);
  }

  private static void insert(ConsumerRecord<String, String> r) {
    jdbc.update(
        "INSERT INTO results VALUES (?, ?, ?, ?)", r.topic(), r.partition(), r.offset(), r.value());
  }

  @Test
  void batchListenerWritesThroughJdbcTemplateInTheStoresTransactionAndResumesFromTheStore()
      throws Exception {
    String topic = topic(3);
    String group = "g-" + topic;
    produce(topic, 3, 300);
    BatchMessageListener<String, String> listener = records -> records.forEach(r -> insert(r));
    var c = container(topic, group, listener, 2);
    tandem().configure(c);
    c.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> rows(topic) == 300);
      Map<Partition, Long> positions = store.positions(group);
      assertThat(positions.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(300);
    } finally {
      c.stop();
    }
    // A restart resumes from the store: nothing is written twice.
    produce(topic, 3, 30);
    var again = container(topic, group, listener, 1);
    tandem().configure(again);
    again.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> rows(topic) == 330);
      TimeUnit.SECONDS.sleep(1);
      assertThat(rows(topic)).isEqualTo(330);
      assertThat(distinctRows(topic)).isEqualTo(330);
    } finally {
      again.stop();
    }
  }

  @Test
  void aListenerFailureRollsBackItsWritesAndTheErrorHandlerRetriesAndRecovers() throws Exception {
    String topic = topic(1);
    String group = "g-" + topic;
    produce(topic, 1, 20);
    AtomicInteger failures = new AtomicInteger();
    List<Long> recovered = new ArrayList<>();
    MessageListener<String, String> listener =
        r -> {
          insert(r);
          if (r.offset() == 7) {
            failures.incrementAndGet();
            throw new IllegalStateException("poison at 7");
          }
        };
    var c = container(topic, group, listener, 1);
    c.setCommonErrorHandler(
        new DefaultErrorHandler((r, e) -> recovered.add(r.offset()), new FixedBackOff(10, 2)));
    tandem().configure(c);
    c.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> rows(topic) == 19);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> store.positions(group).get(Partition.of(topic, 0)) == 20L);
    } finally {
      c.stop();
    }
    assertThat(failures.get()).isEqualTo(3); // first delivery + 2 retries
    assertThat(recovered).containsExactly(7L);
    // The failed attempts' inserts were rolled back with their commits.
    assertThat(
            jdbc.queryForObject(
                "SELECT count(*) FROM results WHERE topic = ? AND off = 7", Long.class, topic))
        .isZero();
    assertThat(distinctRows(topic)).isEqualTo(19);
  }

  @Test
  void aBatchListenerNamingTheFailedRecordCommitsTheRecordsBeforeIt() throws Exception {
    String topic = topic(1);
    String group = "g-" + topic;
    produce(topic, 1, 10);
    List<Long> recovered = new ArrayList<>();
    BatchMessageListener<String, String> listener =
        records -> {
          for (ConsumerRecord<String, String> r : records) {
            if (r.offset() == 4) {
              throw new BatchListenerFailedException("bad record", r);
            }
            insert(r);
          }
        };
    var c = container(topic, group, listener, 1);
    c.setCommonErrorHandler(
        new DefaultErrorHandler((r, e) -> recovered.add(r.offset()), new FixedBackOff(0, 1)));
    tandem().configure(c);
    c.start();
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> Long.valueOf(10).equals(store.positions(group).get(Partition.of(topic, 0))));
    } finally {
      c.stop();
    }
    assertThat(recovered).containsExactly(4L);
    assertThat(rows(topic)).isEqualTo(9);
    assertThat(distinctRows(topic)).isEqualTo(9);
  }

  @Test
  void aConflictDropsTheBatchAndReseeksWithoutTheErrorHandler() throws Exception {
    String topic = topic(1);
    String group = "g-" + topic;
    Partition p = Partition.of(topic, 0);
    produce(topic, 1, 40);
    AtomicInteger errorHandlerCalls = new AtomicInteger();
    AtomicInteger batches = new AtomicInteger();
    BatchMessageListener<String, String> listener = records -> records.forEach(r -> insert(r));
    var c = container(topic, group, listener, 1);
    // Another member (an administrator here) moves the partition after the first batch was
    // fetched, before its commit: that commit must conflict, and consumption go on from 25.
    c.setBatchInterceptor(
        (records, consumer) -> {
          if (batches.incrementAndGet() == 1) {
            store.overwrite(group, Map.of(p, 25L));
          }
          return records;
        });
    c.setCommonErrorHandler(
        new DefaultErrorHandler(
            (r, e) -> errorHandlerCalls.incrementAndGet(), new FixedBackOff(0, 0)) {
          @Override
          public boolean seeksAfterHandling() {
            errorHandlerCalls.incrementAndGet();
            return super.seeksAfterHandling();
          }
        });
    tandem().configure(c);
    c.start();
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> Long.valueOf(40).equals(store.positions(group).get(p)));
    } finally {
      c.stop();
    }
    assertThat(errorHandlerCalls.get()).isZero();
    // Nothing of the dropped first batch stayed; offsets 25..39 were written once each.
    assertThat(
            jdbc.queryForObject("SELECT min(off) FROM results WHERE topic = ?", Long.class, topic))
        .isEqualTo(25L);
    assertThat(rows(topic)).isEqualTo(15);
  }

  @Test
  void setupsThatWouldCommitToKafkaOrSplitTheTransactionAreRefused() {
    BatchMessageListener<String, String> listener = records -> {};
    var manual = container("t", "g", listener, 1);
    manual.getContainerProperties().setAckMode(AckMode.RECORD);
    assertThatThrownBy(() -> tandem().configure(manual))
        .isInstanceOf(TandemConfigurationException.class)
        .hasMessageContaining("AckMode.RECORD")
        .hasMessageContaining("commits offsets to Kafka");
    var async = container("t", "g", listener, 1);
    async.getContainerProperties().setAsyncAcks(true);
    assertThatThrownBy(() -> tandem().configure(async))
        .isInstanceOf(TandemConfigurationException.class)
        .hasMessageContaining("asynchronously");
    var otherGroup = container("t", "g", listener, 1);
    assertThatThrownBy(() -> TandemKafka.builder(store).group("h").build().configure(otherGroup))
        .isInstanceOf(TandemConfigurationException.class)
        .hasMessageContaining("Kafka group 'g' but the Tandem group is 'h'");
  }
}
