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
                "10"))
        .isZero();
    assertThat(positions("orders-app"))
        .containsEntry(Partition.of("orders", 0), 42L)
        .containsEntry(Partition.of("orders", 1), 10L);
  }

  @Test
  void resetShiftByMovesEveryStoredPositionAndNeverBelowZero() {
    assertThat(run("offsets", "reset", "--store", uri, "--group", "orders-app", "--shift-by", "-5"))
        .isZero();
    assertThat(positions("orders-app"))
        .containsEntry(Partition.of("orders", 0), 37L)
        .containsEntry(Partition.of("orders", 1), 0L);
  }

  @Test
  void dryRunChangesNothing() {
    assertThat(
            run(
                "offsets",
                "reset",
                "--store",
                uri,
                "--group",
                "orders-app",
                "--to-offset",
                "0",
                "--dry-run"))
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
        .isEqualTo(Tandem.USAGE);
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
                "orders-0"))
        .isZero();
    assertThat(positions("orders-app")).containsOnlyKeys(Partition.of("orders", 1));
    assertThat(run("offsets", "delete", "--store", uri, "--group", "orders-app")).isZero();
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
