package io.tandem.jdbc;

import static io.tandem.jdbc.Databases.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The JDBC store's own tests on MariaDB. */
class MariaDbStoreIT {

  private static JdbcFixture fixture;
  private static JdbcOffsetStore store;
  private static String table;

  @BeforeAll
  static void openStore() throws SQLException {
    fixture = JdbcFixture.open(Databases.MARIADB);
    store = fixture.store;
    table = fixture.table;
  }

  @AfterAll
  static void closeStore() {
    fixture.close();
  }

  private static Databases database() {
    return Databases.MARIADB;
  }

  /**
   * With {@code useBulkStmts=true} MariaDB Connector/J sends a batch with the bulk protocol and
   * answers SUCCESS_NO_INFO (-2) for every statement instead of the update counts the contiguity
   * check needs. The store notices and falls back to one statement at a time; conflicts are still
   * found exactly.
   */
  @Test
  void bulkBatchesWithoutCountsFallBackToSingleStatements() throws Exception {
    try (JdbcOffsetStore bulk =
        JdbcOffsetStore.open(
            database().config().tableName(table).driverProperty("useBulkStmts", "true").build())) {
      String group = unique("g");
      String topic = unique("t");
      Partition p0 = new Partition(topic, 0);
      Partition p1 = new Partition(topic, 1);
      bulk.initialize(group, Map.of(p0, 0L, p1, 0L));
      bulk.overwrite(group, Map.of(p1, 5L));

      assertThatThrownBy(
              () ->
                  bulk.commit(
                      group,
                      List.of(new OffsetRange(p0, 0, 3), new OffsetRange(p1, 0, 3)),
                      fixture.insertRow(group + "/bulk", 1)))
          .isInstanceOfSatisfying(
              OffsetConflictException.class,
              e -> assertThat(e.conflicts()).containsExactly(Conflict.of(p1, 0, 5)));
      bulk.commit(
          group,
          List.of(new OffsetRange(p0, 0, 3), new OffsetRange(p1, 5, 6)),
          fixture.insertRow(group + "/bulk", 2));

      assertThat(bulk.positions(group)).containsOnly(Map.entry(p0, 3L), Map.entry(p1, 6L));
      assertThat(fixture.resultRows(group)).containsOnly(Map.entry(group + "/bulk", 2L));
      assertThat(bulk.batchCountsUnreliable())
          .as("Connector/J with useBulkStmts=true gives no per-statement counts")
          .isTrue();
    }
  }

  @Test
  void groupLongerThanTheColumnIsAnInvalidBatch() {
    String group = unique("g") + "x".repeat(300);
    Partition p = new Partition(unique("t"), 0);
    assertThatThrownBy(() -> store.initialize(group, Map.of(p, 0L)))
        .isInstanceOf(io.tandem.spi.InvalidBatchException.class)
        .hasMessageContaining("Value too long");
    assertThat(store.groups()).doesNotContain(group);
  }
}
