package io.tandem.bench;

import io.tandem.testing.KafkaBroker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The Kafka broker in a JVM of its own, so that the benchmark JVM's memory is the consumers' alone.
 * Prints {@code BOOTSTRAP host:port} when ready and stops when its standard input closes (its
 * parent exited).
 */
public final class BrokerMain {

  private BrokerMain() {}

  /**
   * Starts the broker.
   *
   * @param args none
   * @throws IOException if standard input fails
   */
  public static void main(String[] args) throws IOException {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (KafkaBroker broker = KafkaBroker.start()) {
      out.println("BOOTSTRAP " + broker.bootstrapServers() + " " + broker.description());
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      while (in.readLine() != null) {
        // wait for the parent to go away
      }
    }
    System.exit(0);
  }
}
