package io.tandem.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.testing.MariaDbServer;
import io.tandem.testing.PostgresServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code tandem demo} end to end: embedded Kafka, forked consumers killed with SIGKILL, on the
 * embedded H2 default and on real PostgreSQL and MariaDB servers given with {@code --store}.
 */
class DemoCommandIT {

  @Test
  void demoAppliesEveryPaymentOnceDespiteKillsAndExitsZero() {
    assertDemoPasses();
  }

  @Test
  void demoRunsOnAPostgresStore() {
    PostgresServer pg = PostgresServer.shared();
    assertDemoPasses(
        "--store", pg.jdbcUrl(), "-P", "user=" + pg.user(), "-P", "password=" + pg.password());
  }

  @Test
  void demoRunsOnAMariaDbStore() {
    MariaDbServer db = MariaDbServer.shared();
    assertDemoPasses(
        "--store", db.jdbcUrl(), "-P", "user=" + db.user(), "-P", "password=" + db.password());
  }

  private static void assertDemoPasses(String... storeArgs) {
    StringWriter out = new StringWriter();
    CommandLine cli = TandemDemo.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(out, true));
    List<String> args =
        new ArrayList<>(
            List.of(
                "demo",
                // Enough records that the run outlasts its two crash points even on a quiet
                // machine: with 6 000 a consumer finished before the monitor saw a third of them.
                "--records",
                "60000",
                "--crashes",
                "2",
                "--consumers",
                "2",
                "--partitions",
                "4",
                "--accounts",
                "50",
                "--work-dir",
                Path.of("target", "demo-it").toString()));
    args.addAll(List.of(storeArgs));
    int status = cli.execute(args.toArray(String[]::new));
    String text = out.toString();
    System.out.println(text);
    assertThat(status).as(text).isZero();
    assertThat(text)
        .containsPattern("duplicates\\s+0\\b")
        .containsPattern("lost\\s+0\\b")
        .containsPattern("balances\\s+50\\s+of 50 accounts equal")
        // At least one kill; on a loaded machine the run may finish before the second.
        .containsPattern("crashes \\(SIGKILL\\)\\s+[12]\\b")
        .contains("OK: every payment applied exactly once");
  }
}
