package io.tandem.jdbc.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.jdbc.JdbcOffsetStore;
import io.tandem.jdbc.JdbcStoreConfig;
import io.tandem.kafka.BatchProcessor;
import io.tandem.kafka.CommitScope;
import io.tandem.kafka.RetryPolicy;
import io.tandem.kafka.TandemConsumer;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.tck.fault.FaultyStore;
import io.tandem.testing.KafkaBroker;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The runtime over the real broker and the JDBC store on H2: results and offsets in one
 * transaction, the counters a fold that any duplicate or loss would show.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class JdbcRuntimeIT {

  private static final String URL = "jdbc:h2:mem:tandem-kafka-it;DB_CLOSE_DELAY=-1";
  private static JdbcOffsetStore store;
  private static Connection admin;

  @BeforeAll
  static void open() throws SQLException {
    store = JdbcOffsetStore.open(JdbcStoreConfig.builder().url(URL).build());
    admin = DriverManager.getConnection(URL);
    try (Statement st = admin.createStatement()) {
      st.execute(
          "CREATE TABLE counts (grp VARCHAR(64), v VARCHAR(64), n BIGINT, PRIMARY KEY (grp, v))");
      st.execute(
          "CREATE TABLE dlq (grp VARCHAR(64), pos VARCHAR(300), stage VARCHAR(32),"
              + " PRIMARY KEY (grp, pos))");
    }
  }

  @AfterAll
  static void close() throws SQLException {
    admin.close();
    store.close();
  }

  /** Adds one to the count of every record's value, in the commit's transaction. */
  private static BatchProcessor<String, String, Connection> counting(String group) {
    return (batch, c) -> {
      try (PreparedStatement ps =
          c.prepareStatement(
              "MERGE INTO counts t USING (VALUES (CAST(? AS VARCHAR(64)), CAST(? AS VARCHAR(64))))"
                  + " s(grp, v) ON t.grp = s.grp AND t.v = s.v"
                  + " WHEN MATCHED THEN UPDATE SET n = t.n + 1"
                  + " WHEN NOT MATCHED THEN INSERT (grp, v, n) VALUES (s.grp, s.v, 1)")) {
        for (var r : batch.records()) {
          if (r.value().startsWith("poison")) {
            throw new IllegalArgumentException("poison at " + r.offset());
          }
          ps.setString(1, group);
          ps.setString(2, r.value());
          ps.addBatch();
        }
        ps.executeBatch();
      }
    };
  }

  private static Map<String, Long> counts(String group) throws SQLException {
    Map<String, Long> out = new HashMap<>();
    try (PreparedStatement ps = admin.prepareStatement("SELECT v, n FROM counts WHERE grp = ?")) {
      ps.setString(1, group);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    return out;
  }

  private static void awaitCounts(String group, int n) {
    await().atMost(Duration.ofSeconds(150)).until(() -> counts(group).size() == n);
  }

  private static void assertEachOnce(String group, String prefix, int n) throws SQLException {
    Map<String, Long> counts = counts(group);
    for (int i = 0; i < n; i++) {
      assertThat(counts.get(prefix + i)).as("count of %s%d", prefix, i).isEqualTo(1L);
    }
  }

  private static TandemConsumer.Builder<String, String, Connection> builder(
      io.tandem.spi.OffsetStore<Connection> s, String group) {
    return TandemConsumer.builder(s, new StringDeserializer(), new StringDeserializer())
        .bootstrapServers(KafkaBroker.shared().bootstrapServers())
        .group(group)
        .pollTimeout(Duration.ofMillis(100))
        .property("max.poll.records", 41)
        .retry(RetryPolicy.exponential(Duration.ofMillis(10), Duration.ofMillis(200)));
  }

  @Test
  void twoConsumersCountEveryRecordExactlyOnceAcrossRebalances() throws Exception {
    String topic = topic("jdbc-eo", 4);
    String group = unique("g");
    produce(topic, 4, "v", 400);
    TandemConsumer<String, String, Connection> first =
        builder(store, group).topics(topic).processor(counting(group)).build();
    TandemConsumer<String, String, Connection> second =
        builder(store, group).topics(topic).processor(counting(group)).build();
    assertThat(first.commitScope()).isEqualTo(CommitScope.PER_POLL);
    try (Running one = new Running(first)) {
      await().atMost(Duration.ofSeconds(120)).until(() -> first.stats().records() > 0);
      try (Running two = new Running(second)) {
        await()
            .atMost(Duration.ofSeconds(120))
            .until(
                () ->
                    first.stats().assignedPartitions() > 0
                        && second.stats().assignedPartitions() > 0);
        produce(topic, 4, "w", 400);
        await().atMost(Duration.ofSeconds(150)).until(() -> counts(group).size() == 800);
      }
      produce(topic, 4, "x", 100);
      awaitCounts(group, 900);
    }
    assertEachOnce(group, "v", 400);
    assertEachOnce(group, "w", 400);
    assertEachOnce(group, "x", 100);
    assertThat(second.stats().records()).isPositive();
    assertThat(store.positions(group).values()).containsOnly(225L);
  }

  @Test
  void outagesAndAConflictOnH2LoseAndRepeatNothing() throws Exception {
    String topic = topic("jdbc-faults", 2);
    String group = unique("g");
    Partition p0 = Partition.of(topic, 0);
    FaultyStore<Connection> faulty =
        new FaultyStore<>(store)
            .failBefore(1)
            .failAfter(1)
            // Another writer counts records 0..2 of partition 0 itself, right before our commit.
            .beforeNextCommit(
                s ->
                    s.commit(
                        group,
                        List.of(new OffsetRange(p0, 0, 3)),
                        c -> {
                          try (PreparedStatement ps =
                              c.prepareStatement(
                                  "INSERT INTO counts (grp, v, n) VALUES (?, ?, 1)")) {
                            for (int i = 0; i < 6; i += 2) {
                              ps.setString(1, group);
                              ps.setString(2, "v" + i); // partition 0 holds the even values
                              ps.executeUpdate();
                            }
                          }
                        }));
    produce(topic, 2, "v", 200);
    TandemConsumer<String, String, Connection> c =
        builder(faulty, group).topics(topic).processor(counting(group)).build();
    try (Running run = new Running(c)) {
      awaitCounts(group, 200);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> store.positions(group).values().stream().allMatch(v -> v == 100L));
    }
    assertEachOnce(group, "v", 200);
    assertThat(c.stats().conflicts()).isEqualTo(1);
    assertThat(c.stats().retries()).isGreaterThanOrEqualTo(2);
    assertThat(c.stats().records()).isEqualTo(197);
  }

  @Test
  void poisonRecordRollsBackItsBatchAndIsDeadLetteredAlone() throws Exception {
    String topic = topic("jdbc-poison", 1);
    String group = unique("g");
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      records.add(new ProducerRecord<>(topic, 0, "k" + i, i == 17 ? "poison" : "v" + i));
    }
    produce(topic, records);
    TandemConsumer<String, String, Connection> c =
        builder(store, group)
            .topics(topic)
            .processor(counting(group))
            .deadLetters(
                (letter, conn) -> {
                  try (PreparedStatement ps =
                      conn.prepareStatement("INSERT INTO dlq (grp, pos, stage) VALUES (?, ?, ?)")) {
                    ps.setString(1, group);
                    ps.setString(2, letter.partition() + "@" + letter.offset());
                    ps.setString(3, letter.stage().name());
                    ps.executeUpdate();
                  }
                })
            .build();
    try (Running run = new Running(c)) {
      await()
          .atMost(Duration.ofSeconds(120))
          .until(() -> Long.valueOf(30).equals(store.positions(group).get(Partition.of(topic, 0))));
    }
    Map<String, Long> counts = counts(group);
    assertThat(counts).hasSize(29).doesNotContainKey("poison");
    assertThat(counts.values()).containsOnly(1L);
    try (PreparedStatement ps =
        admin.prepareStatement("SELECT pos, stage FROM dlq WHERE grp = ?")) {
      ps.setString(1, group);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo(topic + "-0@17");
        assertThat(rs.getString(2)).isEqualTo("PROCESSING");
        assertThat(rs.next()).isFalse();
      }
    }
    assertThat(c.stats().deadLetters()).isEqualTo(1);
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String topic(String prefix, int partitions) {
    String name = unique(prefix);
    KafkaBroker.shared().createTopic(name, partitions);
    return name;
  }

  /** Produces values {@code prefix0..prefix(n-1)}, round robin over the partitions. */
  private static void produce(String topic, int partitions, String prefix, int n) {
    List<ProducerRecord<String, String>> records = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      records.add(new ProducerRecord<>(topic, i % partitions, "k" + i, prefix + i));
    }
    produce(topic, records);
  }

  private static void produce(String topic, List<ProducerRecord<String, String>> records) {
    KafkaBroker.shared().produce(records);
  }

  /** A consumer's {@code run()} on its own thread; close() closes it and waits. */
  private static final class Running implements AutoCloseable {
    private final TandemConsumer<?, ?, ?> consumer;
    private final Thread thread;
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

    @Override
    public void close() throws InterruptedException {
      consumer.close();
      thread.join(30_000);
      if (thread.isAlive()) {
        throw new AssertionError("run() did not return within 30 s of close()");
      }
    }
  }
}
