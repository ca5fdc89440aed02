package io.tandem.examples.payments;

import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Adds each payment (key: account, value: amount in cents) to the account's balance. Ordinary
 * Spring code: with the Tandem starter, these writes and the batch's offsets commit in one database
 * transaction, so a crash, a rebalance or a redelivery never counts a payment twice or loses one.
 */
@Component
public class BalanceListener {

  private final JdbcTemplate jdbc;

  /**
   * Creates the listener.
   *
   * @param jdbc the application's JdbcTemplate
   */
  public BalanceListener(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  /**
   * Folds one batch of payments.
   *
   * @param payments the batch
   */
  @KafkaListener(topics = "payments", batch = "true")
  public void onPayments(List<ConsumerRecord<String, String>> payments) {
    for (ConsumerRecord<String, String> p : payments) {
      jdbc.update(
          "INSERT INTO balances (account, balance) VALUES (?, ?)"
              + " ON CONFLICT (account) DO UPDATE SET balance = balances.balance + EXCLUDED.balance",
          p.key(),
          Long.parseLong(p.value()));
    }
  }
}
