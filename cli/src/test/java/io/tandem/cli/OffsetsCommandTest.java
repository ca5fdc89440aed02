package io.tandem.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code tandem offsets ...} against a real H2 file store. */
class OffsetsCommandTest {

  @TempDir Path dir;
  private String uri;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void seedStore() {
    uri = "jdbc:h2:file:" + dir.resolve("offsets").toAbsolutePath();
    try (OffsetStore<?> store = OffsetStores.open(uri)) {
      store.initialize(
          "orders-app", Map.of(Partition.of("orders", 0), 0L, Partition.of("orders", 1), 0L));
      store.commit("orders-app", List.of(OffsetRange.of("orders", 0, 0, 42)), ResultWriter.none());
      store.initialize("audit", Map.of(Partition.of("audit-log", 3), 7L));
    }
  }

  private int run(String... args) {
    CommandLine cli = Tandem.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private Map<Partition, Long> positions(String group) {
    try (OffsetStore<?> store = OffsetStores.open(uri)) {
      return store.positions(group);
    }
  }

  @Test
  void listShowsEveryGroupWithItsPartitionCount() {
    assertThat(run("offsets", "list", "--store", uri)).isZero();
    assertThat(out.toString()).containsPattern("orders-app\\s+2").containsPattern("audit\\s+1");
  }

  @Test
  void showPrintsEachPosition() {
    assertThat(run("offsets", "show", "--store", uri, "--group", "orders-app")).isZero();
    assertThat(out.toString())
        .containsPattern("orders\\s+0\\s+42")
        .containsPattern("orders\\s+1\\s+0");
  }

  @Test
  void resetToOffsetOverwritesTheChosenPartitionOnly() {
    assertThat(
            run(
                "offsets",
                "reset",
                "--store",
                uri,
                "--group",
                "orders-app",
                "--partition",
                "orders-1",
                "--to-offset",
                "10",
                "--execute",
                "--force"))
        .isZero();
    assertThat(positions("orders-app"))
        .containsEntry(Partition.of("orders", 0), 42L)
        .containsEntry(Partition.of("orders", 1), 10L);
  }

  @Test
  void resetShiftByMovesEveryStoredPositionAndNeverBelowZero() {
    assertThat(
            run(
                "offsets",
                "reset",
                "--store",
                uri,
                "--group",
                "orders-app",
                "--shift-by",
                "-5",
                "--execute",
                "--force"))
        .isZero();
    assertThat(positions("orders-app"))
        .containsEntry(Partition.of("orders", 0), 37L)
        .containsEntry(Partition.of("orders", 1), 0L);
  }

  @Test
  void dryRunChangesNothing() {
    assertThat(run("offsets", "reset", "--store", uri, "--group", "orders-app", "--to-offset", "0"))
        .isZero();
    assertThat(out.toString()).contains("dry run");
    assertThat(positions("orders-app")).containsEntry(Partition.of("orders", 0), 42L);
  }

  @Test
  void resetToEarliestWithoutBrokerIsAUsageError() {
    assertThat(run("offsets", "reset", "--store", uri, "--group", "orders-app", "--to-earliest"))
        .isEqualTo(Tandem.USAGE);
    assertThat(err.toString()).contains("--bootstrap-server");
    assertThat(positions("orders-app")).containsEntry(Partition.of("orders", 0), 42L);
  }

  @Test
  void resetOfAGroupWithoutPositionsNamesTheGroup() {
    assertThat(run("offsets", "reset", "--store", uri, "--group", "nobody", "--to-offset", "1"))
        .isEqualTo(Tandem.NOT_FOUND);
    assertThat(err.toString()).contains("'nobody'");
  }

  @Test
  void deleteOnePartitionThenTheWholeGroup() {
    assertThat(
            run(
                "offsets",
                "delete",
                "--store",
                uri,
                "--group",
                "orders-app",
                "--partition",
                "orders-0",
                "--yes",
                "--force"))
        .isZero();
    assertThat(positions("orders-app")).containsOnlyKeys(Partition.of("orders", 1));
    assertThat(
            run("offsets", "delete", "--store", uri, "--group", "orders-app", "--yes", "--force"))
        .isZero();
    assertThat(positions("orders-app")).isEmpty();
    assertThat(positions("audit")).containsEntry(Partition.of("audit-log", 3), 7L);
  }

  @Test
  void aBadPartitionIsAUsageErrorNamingIt() {
    assertThat(
            run(
                "offsets",
                "delete",
                "--store",
                uri,
                "--group",
                "orders-app",
                "--partition",
                "orders"))
        .isEqualTo(Tandem.USAGE);
    assertThat(err.toString()).contains("'orders'");
  }

  @Test
  void aResetWithoutExecuteIsADryRunAndAnExecutedOneIsInTheHistory() {
    assertThat(run("offsets", "reset", "--store", uri, "--group", "audit", "--to-offset", "9"))
        .isZero();
    assertThat(positions("audit")).containsEntry(Partition.of("audit-log", 3), 7L);
    assertThat(
            run(
                "offsets",
                "reset",
                "--store",
                uri,
                "--group",
                "audit",
                "--to-offset",
                "9",
                "--execute",
                "--force",
                "--reason",
                "skip a | poison record"))
        .isZero();
    assertThat(positions("audit")).containsEntry(Partition.of("audit-log", 3), 9L);
    out.getBuffer().setLength(0);
    assertThat(run("offsets", "history", "--store", uri, "--output", "json")).isZero();
    assertThat(out.toString())
        .contains("\"before\": 7", "\"after\": 9", "\"reason\": \"skip a | poison record\"");
  }

  @Test
  void executeWithoutABrokerOrForceIsRefused() {
    assertThat(
            run(
                "offsets",
                "reset",
                "--store",
                uri,
                "--group",
                "audit",
                "--to-offset",
                "9",
                "--execute"))
        .isEqualTo(Tandem.REFUSED);
    assertThat(err.toString()).contains("--bootstrap-server", "--force");
    assertThat(positions("audit")).containsEntry(Partition.of("audit-log", 3), 7L);
  }

  @Test
  void exportThenImportUnderAnotherNameRoundTrips() throws Exception {
    Path file = dir.resolve("backup.json");
    assertThat(run("offsets", "export", "--store", uri, "--file", file.toString())).isZero();
    String text = java.nio.file.Files.readString(file);
    assertThat(text).contains("\"format\": \"tandem-offsets\"", "\"version\": 1");
    assertThat(
            run(
                "offsets",
                "import",
                "--store",
                uri,
                "--file",
                file.toString(),
                "--group",
                "orders-app",
                "--as",
                "orders-copy",
                "--execute",
                "--force"))
        .isZero();
    assertThat(positions("orders-copy")).isEqualTo(positions("orders-app"));
    java.nio.file.Files.writeString(file, text.replace("\"version\": 1", "\"version\": 7"));
    assertThat(run("offsets", "import", "--store", uri, "--file", file.toString()))
        .isEqualTo(Tandem.USAGE);
    assertThat(err.toString()).contains("version 7");
  }

  @Test
  void resetFromAFileAndHistoryEntriesSurviveEncoding() throws Exception {
    Path csv = dir.resolve("positions.csv");
    java.nio.file.Files.writeString(csv, "# topic,partition,position\norders,0,40\norders,1,3\n");
    assertThat(
            run(
                "offsets",
                "reset",
                "--store",
                uri,
                "--group",
                "orders-app",
                "--from-file",
                csv.toString(),
                "--execute",
                "--force"))
        .isZero();
    assertThat(positions("orders-app"))
        .isEqualTo(Map.of(Partition.of("orders", 0), 40L, Partition.of("orders", 1), 3L));
    History.Entry e =
        new History.Entry(
            java.time.Instant.parse("2026-12-03T10:00:00Z"),
            "me@host",
            "reset",
            "g|%x",
            Partition.of("t|1", 2),
            null,
            5L,
            "x".repeat(400));
    History.Entry back = History.decode(History.encode(e));
    assertThat(back.group()).isEqualTo("g|%x");
    assertThat(back.partition()).isEqualTo(Partition.of("t|1", 2));
    assertThat(back.before()).isNull();
    assertThat(History.encode(e)).hasSizeLessThanOrEqualTo(255);
  }

  @Test
  void topicNamesWithDashesParse() {
    assertThat(OffsetsCommand.parsePartition("audit-log-3"))
        .isEqualTo(Partition.of("audit-log", 3));
  }

  @Test
  void everyStoreIsOnTheClassPathAndAnUnknownSchemeNamesThem() {
    assertThat(run("offsets", "list", "--store", "etcd://localhost:2379")).isEqualTo(Tandem.USAGE);
    assertThat(err.toString())
        .contains("No Tandem store for scheme 'etcd'")
        .contains("cassandra, jdbc, mongodb", "redis", "zookeeper");
  }
}
