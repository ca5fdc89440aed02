package io.tandem.examples.payments;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** Folds payments into account balances, exactly once. */
@SpringBootApplication
public class PaymentsApplication {

  /**
   * Runs the application.
   *
   * @param args Spring Boot arguments
   */
  public static void main(String[] args) {
    SpringApplication.run(PaymentsApplication.class, args);
  }
}
