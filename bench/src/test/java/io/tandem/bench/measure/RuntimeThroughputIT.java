package io.tandem.bench.measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.jdbc.JdbcOffsetStore;
import io.tandem.jdbc.JdbcStoreConfig;
import io.tandem.kafka.ConsumerStats;
import io.tandem.kafka.TandemConsumer;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.testing.KafkaBroker;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Measures (never asserts) how fast the runtime drains a topic: 20,000 records over 4 partitions,
 * default poll size, into the in-memory store and into H2 through the JDBC store. Printed on
 * standard error for the report; the numbers depend on the machine's load. Opt-in, like the stores'
 * measurements: {@code mvn -B -pl bench -am verify -Dtandem.bench=true
 * -Dit.test=RuntimeThroughputIT -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
 * -Dfailsafe.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "tandem.bench", matches = "true")
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class RuntimeThroughputIT {

  private static final int N = 20_000;

  private static void measure(String label, TandemConsumer<String, String, ?> c) throws Exception {
    long t0 = System.nanoTime();
    Thread runner = new Thread(c::run, "measured-consumer");
    runner.start();
    try {
      await().atMost(Duration.ofMinutes(4)).until(() -> c.stats().records() == N);
    } finally {
      c.close();
      runner.join(30_000);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    ConsumerStats s = c.stats();
    System.err.printf(
        "[RuntimeThroughputIT] %s: %d records in %d commits, %.2f s incl. group join = %.0f records/s%n",
        label, s.records(), s.batches(), seconds, s.records() / seconds);
    assertThat(s.records()).isEqualTo(N);
  }

  @Test
  void drainIntoTheMemoryStore() throws Exception {
    String topic = topic("tp-mem", 4);
    produce(topic, 4, "v", N);
    MemoryOffsetStore store = new MemoryOffsetStore();
    measure(
        "in-memory store, PER_POLL",
        TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
            .bootstrapServers(KafkaBroker.shared().bootstrapServers())
            .group(unique("g"))
            .topics(topic)
            .processor(
                (batch, tx) -> {
                  for (var r : batch.records()) {
                    tx.put(r.key(), r.value());
                  }
                })
            .build());
  }

  @Test
  void drainIntoH2ThroughTheJdbcStore() throws Exception {
    String topic = topic("tp-h2", 4);
    produce(topic, 4, "v", N);
    try (JdbcOffsetStore store =
        JdbcOffsetStore.open(
            JdbcStoreConfig.builder()
                .url("jdbc:h2:mem:tandem-throughput;DB_CLOSE_DELAY=-1")
                .build())) {
      try (Connection c = java.sql.DriverManager.getConnection("jdbc:h2:mem:tandem-throughput");
          var st = c.createStatement()) {
        st.execute("CREATE TABLE IF NOT EXISTS kv (k VARCHAR(64) PRIMARY KEY, v VARCHAR(64))");
      }
      measure(
          "JDBC store on H2 (in memory), PER_POLL, one MERGE batch per commit",
          TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
              .bootstrapServers(KafkaBroker.shared().bootstrapServers())
              .group(unique("g"))
              .topics(topic)
              .processor(
                  (batch, conn) -> {
                    try (var ps =
                        conn.prepareStatement("MERGE INTO kv (k, v) KEY (k) VALUES (?, ?)")) {
                      for (var r : batch.records()) {
                        ps.setString(1, r.key());
                        ps.setString(2, r.value());
                        ps.addBatch();
                      }
                      ps.executeBatch();
                    }
                  })
              .build());
    }
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String topic(String prefix, int partitions) {
    String name = unique(prefix);
    KafkaBroker.shared().createTopic(name, partitions);
    return name;
  }

  private static void produce(String topic, int partitions, String prefix, int n) {
    List<ProducerRecord<String, String>> records = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      records.add(new ProducerRecord<>(topic, i % partitions, "k" + i, prefix + i));
    }
    KafkaBroker.shared().produce(records);
  }
}
