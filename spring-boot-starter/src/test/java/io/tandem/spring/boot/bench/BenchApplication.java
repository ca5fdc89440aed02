package io.tandem.spring.boot.bench;

import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The benchmark's application: one batch listener, the same JDBC writes in both variants (an insert
 * per record and a per-key fold, one transaction per batch). With Tandem the transaction is the
 * store's commit; without ({@code tandem.enabled=false}) it is a plain at-least-once Spring Kafka
 * listener: a TransactionTemplate per batch, then the container commits offsets to Kafka.
 */
@SpringBootApplication
public class BenchApplication {

  /** The listener. */
  @Component
  static class Writes {
    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final boolean tandem;
    private final String run;

    Writes(
        JdbcTemplate jdbc,
        PlatformTransactionManager tm,
        @Value("${tandem.enabled:true}") boolean tandem,
        @Value("${bench.run}") String run) {
      this.jdbc = jdbc;
      this.transactions = new TransactionTemplate(tm);
      this.tandem = tandem;
      this.run = run;
    }

    @KafkaListener(topics = "${bench.topic}", batch = "true")
    void onBatch(List<ConsumerRecord<String, String>> records) {
      if (tandem) {
        write(records); // already inside Tandem's transaction
      } else {
        transactions.executeWithoutResult(s -> write(records));
      }
    }

    private void write(List<ConsumerRecord<String, String>> records) {
      for (ConsumerRecord<String, String> r : records) {
        jdbc.update(
            "INSERT INTO bench_results (run, part, off, k) VALUES (?, ?, ?, ?)",
            run,
            r.partition(),
            r.offset(),
            r.key());
        jdbc.update(
            "INSERT INTO bench_totals (run, k, total) VALUES (?, ?, ?) ON CONFLICT (run, k)"
                + " DO UPDATE SET total = bench_totals.total + EXCLUDED.total",
            run,
            r.key(),
            Long.parseLong(r.value()));
      }
    }
  }
}
