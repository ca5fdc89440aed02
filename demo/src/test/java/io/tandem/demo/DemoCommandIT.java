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
 * embedded H2 default and on real PostgreSQL and MariaDB servers given with {@code --store}, and on
 * each other backend by name (the demo starts its server, once per JVM; Cassandra's takes about a
 * minute, so it runs once). The non-SQL runs are smaller: one short run per store keeps CI time
 * low.
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

  @Test
  void demoRunsOnRedis() {
    assertModelDemoPasses("redis", true);
  }

  @Test
  void demoRunsOnZooKeeper() {
    assertModelDemoPasses("zookeeper", true);
  }

  @Test
  void demoRunsOnCassandraWithKeyedResults() {
    assertModelDemoPasses("cassandra", false);
  }

  @Test
  void demoRunsOnMongoDbWithKeyedResults() {
    assertModelDemoPasses("mongodb", false);
  }

  /**
   * A run through the store's result model: TRANSACTIONAL stores fold balances, which must all
   * match; IDEMPOTENT ones keep keyed results, where no payment may be missing.
   */
  private static void assertModelDemoPasses(String store, boolean folds) {
    String text =
        runDemo(
            List.of(
                "--store",
                store,
                "--records",
                "20000",
                "--crashes",
                "1",
                "--consumers",
                "2",
                "--partitions",
                "4",
                "--accounts",
                "50"));
    assertThat(text)
        .containsPattern("payments applied\\s+20,000\\b")
        .containsPattern("duplicates\\s+0\\b")
        .containsPattern("lost\\s+0\\b")
        .containsPattern("crashes \\(SIGKILL\\)\\s+1\\b");
    if (folds) {
      assertThat(text)
          .containsPattern("balances\\s+50\\s+of 50 accounts equal")
          .contains("OK: every payment applied exactly once");
    } else {
      assertThat(text).contains("IDEMPOTENT").contains("OK: every payment has exactly one result");
    }
  }

  private static String runDemo(List<String> demoArgs) {
    StringWriter out = new StringWriter();
    CommandLine cli = TandemDemo.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(out, true));
    List<String> args = new ArrayList<>(List.of("demo"));
    args.addAll(demoArgs);
    args.addAll(List.of("--work-dir", Path.of("target", "demo-it").toString()));
    int status = cli.execute(args.toArray(String[]::new));
    String text = out.toString();
    System.out.println(text);
    assertThat(status).as(text).isZero();
    return text;
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
