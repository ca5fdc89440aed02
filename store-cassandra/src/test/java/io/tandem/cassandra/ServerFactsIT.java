package io.tandem.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Cassandra facts the store depends on, checked on the real server: what a conditional batch
 * answers when it is not applied, how large one may be, and what a serial read may restrict.
 */
class ServerFactsIT {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(ServerFactsIT.class);
  private static final int ROWS = 2_000;

  private static CassandraOffsetStore store;
  private static CqlSession s;
  private static String t;

  @BeforeAll
  static void setUp() {
    // The facts are about conditional batches over several rows of one partition: the group
    // layout's table.
    store = Cassandra.store(CassandraLayout.GROUP);
    s = store.session();
    t = Cassandra.KEYSPACE + "." + store.config().table();
  }

  @AfterAll
  static void tearDown() {
    store.close();
  }

  private static PreparedStatement update() {
    return s.prepare(
        "UPDATE "
            + t
            + " SET position = ?, commit_id = ? WHERE group_id = ? AND topic = ? AND"
            + " partition_id = ? IF position = ?");
  }

  private static PreparedStatement insert() {
    return s.prepare(
        "INSERT INTO "
            + t
            + " (group_id, topic, partition_id, position, commit_id) VALUES (?, ?, ?,"
            + " ?, ?) IF NOT EXISTS");
  }

  @Test
  void notAppliedConditionalBatchReturnsOneRowPerExistingRowWithItsPosition() {
    String g = Cassandra.unique("facts");
    s.execute(insert().bind(g, "a", 0, 5L, UUID.randomUUID()));
    s.execute(insert().bind(g, "a", 1, 7L, UUID.randomUUID()));
    BatchStatement batch =
        BatchStatement.newInstance(
            BatchType.UNLOGGED,
            update().bind(6L, UUID.randomUUID(), g, "a", 0, 5L), // matches
            update().bind(9L, UUID.randomUUID(), g, "a", 1, 8L), // stale
            update().bind(9L, UUID.randomUUID(), g, "a", 2, 0L)); // missing row
    ResultSet rs = s.execute(batch);
    assertThat(rs.wasApplied()).isFalse();
    List<String> rows = new ArrayList<>();
    for (Row row : rs) {
      rows.add(
          row.getString("topic")
              + "-"
              + row.getInt("partition_id")
              + "@"
              + row.getLong("position"));
    }
    // The existing rows come back (matching or not), the missing one does not.
    assertThat(rows).containsExactlyInAnyOrder("a-0@5", "a-1@7");
    assertThat(store.positions(g)).hasSize(2).containsValues(5L, 7L);
  }

  @Test
  void notAppliedInsertIfNotExistsBatchReturnsTheExistingRows() {
    String g = Cassandra.unique("facts");
    s.execute(insert().bind(g, "a", 0, 5L, UUID.randomUUID()));
    ResultSet rs =
        s.execute(
            BatchStatement.newInstance(
                BatchType.UNLOGGED,
                insert().bind(g, "a", 0, 1L, UUID.randomUUID()),
                insert().bind(g, "a", 1, 1L, UUID.randomUUID())));
    assertThat(rs.wasApplied()).isFalse();
    List<String> rows = new ArrayList<>();
    for (Row row : rs) {
      rows.add(
          row.getString("topic")
              + "-"
              + row.getInt("partition_id")
              + "@"
              + row.getLong("position"));
    }
    assertThat(rows).containsExactly("a-0@5");
    assertThat(store.positions(g)).hasSize(1);
  }

  @Test
  void conditionalBatchAboveTheBatchSizeFailThresholdOnOnePartitionIsAccepted() {
    // batch_size_fail_threshold (50 KiB by default) applies to batches over several partitions
    // only: this ~150 KB single-partition conditional batch is one mutation and passes.
    String g = Cassandra.unique("facts");
    BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
    UUID id = UUID.randomUUID();
    for (int i = 0; i < ROWS; i++) {
      b.addStatement(insert().bind(g, "topic-with-a-longish-name", i, 0L, id));
    }
    long t0 = System.nanoTime();
    assertThat(s.execute(b.build()).wasApplied()).isTrue();
    long insertMs = (System.nanoTime() - t0) / 1_000_000;
    BatchStatementBuilder u = BatchStatement.builder(BatchType.UNLOGGED);
    for (int i = 0; i < ROWS; i++) {
      u.addStatement(update().bind(1L, id, g, "topic-with-a-longish-name", i, 0L));
    }
    t0 = System.nanoTime();
    assertThat(s.execute(u.build()).wasApplied()).isTrue();
    long updateMs = (System.nanoTime() - t0) / 1_000_000;
    log.info("{}-row LWT batch: insert {} ms, update {} ms", ROWS, insertMs, updateMs);
    Row fail =
        s.execute(
                "SELECT value FROM system_views.settings WHERE name = 'batch_size_fail_threshold'")
            .one();
    assertThat(fail).isNotNull();
    assertThat(fail.getString(0)).isEqualTo("50KiB");
    assertThat(store.positions(g))
        .hasSize(ROWS)
        .allSatisfy((p, pos) -> assertThat(pos).isEqualTo(1L));
  }

  @Test
  void serialReadWithClusteringInIsAccepted() {
    String g = Cassandra.unique("facts");
    s.execute(insert().bind(g, "a", 3, 5L, UUID.randomUUID()));
    ResultSet rs =
        s.execute(
            s.prepare(
                    "SELECT partition_id, position FROM "
                        + t
                        + " WHERE group_id = ? AND topic = ? AND partition_id IN ?")
                .bind(g, "a", List.of(1, 3))
                .setConsistencyLevel(DefaultConsistencyLevel.SERIAL));
    assertThat(rs.one().getLong(1)).isEqualTo(5L);
  }

  @Test
  void distinctDoesNotListAGroupWhoseRowsWereAllDeleted() {
    String g = Cassandra.unique("facts");
    s.execute(insert().bind(g, "a", 0, 5L, UUID.randomUUID()));
    assertThat(store.groups()).contains(g);
    assertThat(store.delete(g)).isTrue();
    assertThat(store.groups()).doesNotContain(g);
  }
}
