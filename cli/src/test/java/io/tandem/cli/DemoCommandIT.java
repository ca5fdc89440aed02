package io.tandem.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code tandem demo} end to end: embedded Kafka, H2 over TCP, forked consumers killed. */
class DemoCommandIT {

  @Test
  void demoAppliesEveryPaymentOnceDespiteKillsAndExitsZero() {
    StringWriter out = new StringWriter();
    CommandLine cli = Tandem.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(out, true));
    int status =
        cli.execute(
            "demo",
            "--records",
            "4000",
            "--crashes",
            "2",
            "--consumers",
            "2",
            "--partitions",
            "4",
            "--accounts",
            "50",
            "--work-dir",
            Path.of("target", "demo-it").toString());
    String text = out.toString();
    System.out.println(text);
    assertThat(status).as(text).isZero();
    assertThat(text)
        .containsPattern("duplicates\\s+0\\b")
        .containsPattern("lost\\s+0\\b")
        .containsPattern("balances\\s+50\\s+of 50 accounts equal")
        .containsPattern("crashes \\(SIGKILL\\)\\s+2\\b")
        .contains("OK: every payment applied exactly once");
  }
}
