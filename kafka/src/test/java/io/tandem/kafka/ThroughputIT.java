package io.tandem.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.jdbc.JdbcOffsetStore;
import io.tandem.jdbc.JdbcStoreConfig;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Measures (never asserts) how fast the runtime drains a topic: 20,000 records over 4 partitions,
 * default poll size, into the in-memory store and into H2 through the JDBC store. Printed on
 * standard error for the report; the numbers depend on the machine's load. Opt-in, like the stores'
 * rate measurements: {@code mvn -B -pl kafka -am verify -Dtandem.bench=true -Dit.test=ThroughputIT
 * -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "tandem.bench", matches = "true")
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class ThroughputIT {

  private static final int N = 20_000;

  private static void measure(String label, TandemConsumer<String, String, ?> c) throws Exception {
    long t0 = System.nanoTime();
    try (Kit.Running run = Kit.start(c)) {
      await().atMost(Duration.ofMinutes(4)).until(() -> c.stats().records() == N);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    ConsumerStats s = c.stats();
    System.err.printf(
        "[ThroughputIT] %s: %d records in %d commits, %.2f s incl. group join = %.0f records/s%n",
        label, s.records(), s.batches(), seconds, s.records() / seconds);
    assertThat(s.records()).isEqualTo(N);
  }

  @Test
  void drainIntoTheMemoryStore() throws Exception {
    String topic = Kit.topic("tp-mem", 4);
    Kit.produce(topic, 4, "v", N);
    MemoryOffsetStore store = new MemoryOffsetStore();
    measure(
        "in-memory store, PER_POLL",
        TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
            .bootstrapServers(Kit.broker().bootstrapServers())
            .group(Kit.unique("g"))
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
    String topic = Kit.topic("tp-h2", 4);
    Kit.produce(topic, 4, "v", N);
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
              .bootstrapServers(Kit.broker().bootstrapServers())
              .group(Kit.unique("g"))
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
}
