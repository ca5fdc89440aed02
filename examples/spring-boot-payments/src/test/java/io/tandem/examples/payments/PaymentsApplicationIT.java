package io.tandem.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tandem.testing.KafkaBroker;
import io.tandem.testing.PostgresServer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The example as written (its application.yml, its listener) against the embedded broker and
 * PostgreSQL: balances equal the payments' sums, also after a restart with more payments.
 */
class PaymentsApplicationIT {

  @Test
  void balancesAreExactAcrossARestart() throws Exception {
    KafkaBroker kafka = KafkaBroker.shared();
    PostgresServer pg = PostgresServer.shared();
    String db = pg.newDatabase("payments");
    try {
      kafka.createTopic("payments", 3);
    } catch (RuntimeException e) {
      // created by an earlier run against the same broker
    }
    String[] args = {
      "--spring.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
      "--spring.datasource.url=" + db,
      "--spring.datasource.username=" + pg.user(),
      "--spring.datasource.password=" + pg.password(),
      "--spring.kafka.consumer.group-id=balances-" + System.nanoTime(),
      "--spring.main.banner-mode=off"
    };
    Map<String, Long> expected = new HashMap<>();
    Random random = new Random(42);
    send(kafka, 600, random, expected);
    try (ConfigurableApplicationContext app =
        SpringApplication.run(PaymentsApplication.class, args)) {
      JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
      await().atMost(Duration.ofSeconds(90)).until(() -> balances(jdbc).equals(expected));
    }
    send(kafka, 400, random, expected);
    try (ConfigurableApplicationContext app =
        SpringApplication.run(PaymentsApplication.class, args)) {
      JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
      await().atMost(Duration.ofSeconds(90)).until(() -> balances(jdbc).equals(expected));
      Thread.sleep(1000); // nothing more arrives: no payment was counted twice
      assertThat(balances(jdbc)).isEqualTo(expected);
    }
  }

  private static void send(KafkaBroker kafka, int n, Random random, Map<String, Long> expected) {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            new HashMap<>(kafka.producerProperties()),
            new StringSerializer(),
            new StringSerializer())) {
      for (int i = 0; i < n; i++) {
        String account = "acct-" + random.nextInt(25);
        long cents = 1 + random.nextInt(10_000);
        expected.merge(account, cents, Long::sum);
        producer.send(new ProducerRecord<>("payments", account, Long.toString(cents)));
      }
      producer.flush();
    }
  }

  private static Map<String, Long> balances(JdbcTemplate jdbc) {
    Map<String, Long> out = new HashMap<>();
    jdbc.query(
        "SELECT account, balance FROM balances",
        rs -> {
          out.put(rs.getString(1), rs.getLong(2));
        });
    return out;
  }
}
