package io.tandem.spring.boot.e2e;

import io.tandem.redis.RedisTransaction;
import io.tandem.spi.Partition;
import io.tandem.spring.TandemListenerMetrics;
import io.tandem.tck.e2e.E2eRecord;
import io.tandem.testing.ForkChannel;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.listener.BatchInterceptor;
import org.springframework.kafka.listener.ConsumerAwareRebalanceListener;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.stereotype.Component;

/**
 * An ordinary Spring Boot application with a batch {@code @KafkaListener} that writes through
 * {@code JdbcTemplate}: an insert per record and a per-key fold. Run in its own JVM by {@link
 * io.tandem.testing.ForkedJvm ForkedJvm}; events on its {@link ForkChannel}: {@code started},
 * {@code stats ...}, {@code hang}, {@code gate from=N}, {@code stopped}; commands {@code hang},
 * {@code go}, {@code stop}.
 */
@SpringBootApplication
public class E2eApplication {

  static volatile ForkChannel channel;
  static final AtomicBoolean HANG_NEXT = new AtomicBoolean();
  static final CountDownLatch RELEASE = new CountDownLatch(1);
  static final AtomicLong COMMITS = new AtomicLong();
  static final AtomicLong RECORDS = new AtomicLong();
  static final AtomicLong CONFLICTS = new AtomicLong();
  static final Set<Partition> OWNED = ConcurrentHashMap.newKeySet();
  static volatile int gateAtBatch;
  static final AtomicLong BATCHES_SEEN = new AtomicLong();

  static void event(String line) {
    channel.event(line);
  }

  /**
   * Starts the application; exits on {@code stop}.
   *
   * @param args Spring Boot arguments ({@code --key=value})
   * @throws Exception if the application cannot start
   */
  public static void main(String[] args) throws Exception {
    gateAtBatch = Integer.getInteger("e2e.gateAtBatch", 0);
    channel =
        ForkChannel.open(
            command -> {
              switch (command) {
                case "hang" -> HANG_NEXT.set(true);
                case "go" -> RELEASE.countDown();
                default -> event("unknown-command " + command);
              }
            });
    ConfigurableApplicationContext ctx = SpringApplication.run(E2eApplication.class, args);
    event("started");
    while (!channel.awaitStop(100, TimeUnit.MILLISECONDS)) {
      stats();
    }
    ctx.close();
    stats();
    event("stopped");
    System.exit(0);
  }

  static void stats() {
    event(
        "stats commits="
            + COMMITS.get()
            + " records="
            + RECORDS.get()
            + " conflicts="
            + CONFLICTS.get()
            + " assigned="
            + OWNED.size());
  }

  /** Counts what the test watches. */
  @Bean
  TandemListenerMetrics e2eMetrics() {
    return new TandemListenerMetrics() {
      @Override
      public void committed(String group, long nanos, int records) {
        COMMITS.incrementAndGet();
        RECORDS.addAndGet(records);
      }

      @Override
      public void conflict(String group, java.util.Collection<Partition> partitions) {
        CONFLICTS.incrementAndGet();
      }
    };
  }

  /** Counts the partitions this JVM owns (Tandem's rebalance listener delegates to it). */
  @Bean
  ConsumerAwareRebalanceListener e2eAssignments() {
    return new ConsumerAwareRebalanceListener() {
      @Override
      public void onPartitionsAssigned(
          Consumer<?, ?> consumer, java.util.Collection<TopicPartition> partitions) {
        partitions.forEach(tp -> OWNED.add(Partition.of(tp.topic(), tp.partition())));
      }

      @Override
      public void onPartitionsRevokedBeforeCommit(
          Consumer<?, ?> consumer, java.util.Collection<TopicPartition> partitions) {
        partitions.forEach(tp -> OWNED.remove(Partition.of(tp.topic(), tp.partition())));
      }

      @Override
      public void onPartitionsLost(
          Consumer<?, ?> consumer, java.util.Collection<TopicPartition> partitions) {
        partitions.forEach(tp -> OWNED.remove(Partition.of(tp.topic(), tp.partition())));
      }
    };
  }

  /**
   * Holds one batch before the listener (and so before the store's transaction) until {@code go}:
   * the zombie scenario freezes the JVM there.
   */
  @Bean
  BatchInterceptor<Object, Object> e2eGate() {
    return (records, consumer) -> {
      if (gateAtBatch > 0 && BATCHES_SEEN.incrementAndGet() == gateAtBatch && !records.isEmpty()) {
        long from = records.iterator().next().offset();
        event("gate commits=" + COMMITS.get() + " from=" + from);
        try {
          RELEASE.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        event("released");
      }
      return records;
    };
  }

  /** The user's listener, as anyone would write it: JdbcTemplate in the store's transaction. */
  @Component
  @ConditionalOnProperty(name = "e2e.store", havingValue = "jdbc", matchIfMissing = true)
  static class Payments {
    private final JdbcTemplate jdbc;
    private final long workMs = Long.getLong("e2e.workMs", 2);

    Payments(JdbcTemplate jdbc) {
      this.jdbc = jdbc;
    }

    @KafkaListener(topics = "${e2e.topic}", batch = "true")
    void onBatch(List<ConsumerRecord<String, String>> records) throws InterruptedException {
      for (ConsumerRecord<String, String> r : records) {
        E2eRecord e = E2eRecord.decode(r.key(), r.value());
        jdbc.update(
            "INSERT INTO e2e_results (id, k, amount) VALUES (?, ?, ?)",
            e.id(),
            e.key(),
            e.amount());
        jdbc.update(
            "INSERT INTO e2e_totals (k, total) VALUES (?, ?)"
                + " ON CONFLICT (k) DO UPDATE SET total = e2e_totals.total + EXCLUDED.total",
            e.key(),
            e.amount());
      }
      if (workMs > 0) {
        TimeUnit.MILLISECONDS.sleep(workMs);
      }
      hangIfAsked(records.size());
    }
  }

  static void hangIfAsked(int batch) throws InterruptedException {
    if (HANG_NEXT.compareAndSet(true, false)) {
      event("hang batch=" + batch);
      new CountDownLatch(1).await(); // until SIGKILL, inside the open transaction
    }
  }

  /**
   * The same listener on a Redis store: results written through the store's handle, taken as a
   * listener parameter, commit in the same MULTI/EXEC as the offsets.
   */
  @Component
  @ConditionalOnProperty(name = "e2e.store", havingValue = "redis")
  static class RedisPayments {
    private final long workMs = Long.getLong("e2e.workMs", 2);

    // Spring Kafka allows no other parameter beside a List<ConsumerRecord>; with payloads and
    // headers, argument resolvers run, and the starter's resolves the store's handle.
    @KafkaListener(topics = "${e2e.topic}", batch = "true")
    void onBatch(
        List<String> values,
        @Header(KafkaHeaders.RECEIVED_KEY) List<String> keys,
        RedisTransaction tx)
        throws InterruptedException {
      String prefix = "e2e:" + tx.hashTag();
      for (int i = 0; i < values.size(); i++) {
        E2eRecord e = E2eRecord.decode(keys.get(i), values.get(i));
        tx.commands().hincrBy(prefix + ":count", e.id(), 1);
        tx.commands().hincrBy(prefix + ":totals", e.key(), e.amount());
      }
      if (workMs > 0) {
        TimeUnit.MILLISECONDS.sleep(workMs);
      }
      hangIfAsked(values.size());
    }
  }
}
