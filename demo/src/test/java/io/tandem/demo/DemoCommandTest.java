package io.tandem.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.cli.Tandem;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code tandem demo}'s refusals, before anything starts. */
class DemoCommandTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = TandemDemo.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void theDemoRefusesAnUnknownSchemeNamingIt() {
    assertThat(run("demo", "--store", "nosuch://localhost/x")).isEqualTo(Tandem.USAGE);
    assertThat(err.toString()).contains("nosuch");
  }

  @Test
  void theDemoRefusesAMalformedStoreUri() {
    assertThat(run("demo", "--store", "not a uri")).isEqualTo(Tandem.USAGE);
    assertThat(err.toString()).contains("Malformed store URI");
  }

  @Test
  void theDemoRefusesNonsenseSizes() {
    assertThat(run("demo", "--records", "0")).isEqualTo(Tandem.USAGE);
    assertThat(err.toString()).contains("--records must be >= 1, got 0");
  }

  @Test
  void theDemoApplicationAlsoAdministersOffsets() {
    assertThat(run("offsets", "--help")).isZero();
    assertThat(out.toString()).contains("list").contains("reset");
  }
}
