package io.tandem.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.connect.internal.LogOffsets;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The base task's logic against a real store (H2 in memory through the JDBC store) and a recorded
 * Connect context: seeks, ranges, conflicts, retention, close.
 */
class TandemSinkTaskTest {

  static final String TOPIC = "orders";
  static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
  static final TopicPartition P1 = new TopicPartition(TOPIC, 1);

  /** Connect's side, recorded. */
  static final class Context implements SinkTaskContext {
    final Map<TopicPartition, Long> offsets = new HashMap<>();

    @Override
    public Map<String, String> configs() {
      return Map.of();
    }

    @Override
    public void offset(Map<TopicPartition, Long> o) {
      offsets.putAll(o);
    }

    @Override
    public void offset(TopicPartition tp, long offset) {
      offsets.put(tp, offset);
    }

    @Override
    public void timeout(long timeoutMs) {}

    @Override
    public Set<TopicPartition> assignment() {
      return Set.of();
    }

    @Override
    public void pause(TopicPartition... partitions) {}

    @Override
    public void resume(TopicPartition... partitions) {}

    @Override
    public void requestCommit() {}

    @Override
    public PluginMetrics pluginMetrics() {
      return null;
    }
  }

  /** Log starts and group offsets as a test sets them. */
  static final class Logs implements LogOffsets {
    final Map<TopicPartition, Long> earliest = new HashMap<>();
    final Map<TopicPartition, Long> committed = new HashMap<>();

    @Override
    public Map<TopicPartition, Long> earliest(Collection<TopicPartition> partitions) {
      Map<TopicPartition, Long> out = new HashMap<>();
      partitions.forEach(tp -> out.put(tp, earliest.getOrDefault(tp, 0L)));
      return out;
    }

    @Override
    public Map<TopicPartition, Long> committed(String group, Collection<TopicPartition> ps) {
      Map<TopicPartition, Long> out = new HashMap<>();
      ps.forEach(
          tp -> {
            if (committed.containsKey(tp)) {
              out.put(tp, committed.get(tp));
            }
          });
      return out;
    }

    @Override
    public void close() {}
  }

  /** Writes (topic, partition, offset) rows through the commit's connection. */
  static final class RowsTask extends TandemSinkTask<Connection> {
    @Override
    protected OffsetStore<Connection> openStore(Map<String, String> props) {
      throw new UnsupportedOperationException("tests call init");
    }

    @Override
    protected ResultWriter<Connection> results(List<SinkRecord> records) {
      return c -> {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO rows_out VALUES (?, ?, ?)")) {
          for (SinkRecord r : records) {
            ps.setString(1, r.originalTopic());
            ps.setInt(2, r.originalKafkaPartition());
            ps.setLong(3, r.originalKafkaOffset());
            ps.addBatch();
          }
          ps.executeBatch();
        }
      };
    }
  }

  String url;
  Connection keepAlive;
  OffsetStore<Connection> store;
  Context context;
  Logs logs;
  RowsTask task;

  @BeforeEach
  void setUp() throws Exception {
    url = "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    keepAlive = java.sql.DriverManager.getConnection(url);
    try (Statement s = keepAlive.createStatement()) {
      s.execute("CREATE TABLE rows_out (topic VARCHAR(100), part INT, off BIGINT)");
    }
    store = OffsetStores.open(url, Map.of(), Connection.class);
    start(Map.of());
  }

  void start(Map<String, String> extra) {
    Map<String, String> props = new HashMap<>();
    props.put("name", "test");
    props.put(TandemSinkConfig.STORE_URI, url);
    props.put(TandemSinkConfig.KAFKA_BOOTSTRAP, "unused:9092");
    props.putAll(extra);
    context = new Context();
    logs = new Logs();
    task = new RowsTask();
    task.initialize(context);
    task.init(new TandemSinkConfig(props), store, logs);
  }

  @AfterEach
  void tearDown() throws Exception {
    store.close();
    keepAlive.close();
  }

  static SinkRecord record(TopicPartition tp, long offset) {
    return new SinkRecord(tp.topic(), tp.partition(), null, null, null, "v" + offset, offset);
  }

  List<Long> rows(int partition) throws Exception {
    List<Long> out = new ArrayList<>();
    try (PreparedStatement ps =
        keepAlive.prepareStatement("SELECT off FROM rows_out WHERE part = ? ORDER BY off")) {
      ps.setInt(1, partition);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getLong(1));
        }
      }
    }
    return out;
  }

  long stored(TopicPartition tp) {
    return store.positions("connect-test").get(new Partition(tp.topic(), tp.partition()));
  }

  @Test
  void openSeeksKnownPartitionsToTheStoreAndStartsUnknownOnesAtTheLogStart() {
    store.initialize("connect-test", Map.of(new Partition(TOPIC, 0), 5L));
    logs.earliest.put(P1, 2L);
    task.open(List.of(P0, P1));
    assertThat(context.offsets).containsEntry(P0, 5L).containsEntry(P1, 2L);
    assertThat(stored(P1)).isEqualTo(2L);
  }

  @Test
  void kafkaPolicyStartsUnknownPartitionsAtTheConnectorGroupsOffset() {
    start(Map.of(TandemSinkConfig.UNKNOWN_PARTITION, "kafka"));
    logs.committed.put(P0, 40L);
    logs.earliest.put(P1, 3L);
    task.open(List.of(P0, P1));
    assertThat(context.offsets).containsEntry(P0, 40L).containsEntry(P1, 3L);
  }

  @Test
  void failPolicyRefusesUnknownPartitions() {
    start(Map.of(TandemSinkConfig.UNKNOWN_PARTITION, "fail"));
    assertThatThrownBy(() -> task.open(List.of(P0)))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("orders-0");
  }

  @Test
  void aCommitRunsFromTheStoredPositionToTheLastOffsetPlusOneAcrossGaps() throws Exception {
    task.open(List.of(P0));
    task.put(List.of(record(P0, 0), record(P0, 2), record(P0, 5)));
    assertThat(stored(P0)).isEqualTo(6L);
    assertThat(rows(0)).containsExactly(0L, 2L, 5L);
    Map<TopicPartition, OffsetAndMetadata> pre = task.preCommit(Map.of());
    assertThat(pre.get(P0).offset()).isEqualTo(6L);
  }

  @Test
  void redeliveredRecordsAreNotWrittenTwice() throws Exception {
    task.open(List.of(P0));
    task.put(List.of(record(P0, 0), record(P0, 1)));
    task.put(List.of(record(P0, 1), record(P0, 2)));
    assertThat(rows(0)).containsExactly(0L, 1L, 2L);
  }

  @Test
  void aConflictDropsTheBufferWritesNothingAndReseeksBeforeAcceptingMore() throws Exception {
    task.open(List.of(P0, P1));
    // Another task took partition 0 and committed up to 20.
    store.overwrite("connect-test", Map.of(new Partition(TOPIC, 0), 20L));
    context.offsets.clear();
    task.put(List.of(record(P0, 0), record(P0, 1), record(P1, 0)));
    assertThat(rows(0)).isEmpty();
    assertThat(rows(1)).containsExactly(0L);
    assertThat(context.offsets).containsEntry(P0, 20L);
    // Not reported to Connect until the seek took effect.
    assertThat(task.preCommit(Map.of())).doesNotContainKey(P0);
    assertThat(task.conflicts()).isEqualTo(1);
    // The next put's records come after the seek.
    task.put(List.of(record(P0, 20), record(P0, 21)));
    assertThat(rows(0)).containsExactly(20L, 21L);
    assertThat(stored(P0)).isEqualTo(22L);
  }

  @Test
  void retentionPastTheStoredPositionFailsAndLeavesNothingToCommit() throws Exception {
    task.open(List.of(P0));
    task.put(List.of(record(P0, 0)));
    logs.earliest.put(P0, 50L);
    assertThatThrownBy(() -> task.put(List.of(record(P0, 50), record(P0, 51))))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("Retention deleted records of orders-0")
        .hasMessageContaining("Offsets 1..49 are lost");
    // Connect commits a failed task's offsets while closing it: nothing may reach the store.
    Map<TopicPartition, OffsetAndMetadata> pre = task.preCommit(Map.of());
    assertThat(pre.get(P0).offset()).isEqualTo(1L);
    assertThat(stored(P0)).isEqualTo(1L);
    assertThat(rows(0)).containsExactly(0L);
  }

  @Test
  void gapsWithTheLogStartBelowThePositionAreNormal() throws Exception {
    task.open(List.of(P0));
    logs.earliest.put(P0, 0L);
    task.put(List.of(record(P0, 10), record(P0, 30)));
    assertThat(stored(P0)).isEqualTo(31L);
  }

  @Test
  void closeDropsBuffersAndNothingIsWrittenForClosedPartitions() throws Exception {
    start(Map.of(TandemSinkConfig.COMMIT_INTERVAL_MS, "3600000"));
    task.open(List.of(P0, P1));
    task.put(List.of(record(P0, 0), record(P1, 0)));
    assertThat(rows(0)).isEmpty();
    task.close(List.of(P0));
    Map<TopicPartition, OffsetAndMetadata> pre = task.preCommit(Map.of());
    assertThat(pre).containsOnlyKeys(P1);
    assertThat(rows(0)).isEmpty();
    assertThat(rows(1)).containsExactly(0L);
    assertThat(stored(P0)).isEqualTo(0L);
  }

  @Test
  void offsetsAreKeyedOnTheOriginalTopicWhenATransformRenamesIt() throws Exception {
    task.open(List.of(P0));
    SinkRecord renamed = record(P0, 0).newRecord("renamed", 3, null, null, null, "v", null);
    task.put(List.of(renamed));
    assertThat(stored(P0)).isEqualTo(1L);
    assertThat(store.positions("connect-test")).doesNotContainKey(new Partition("renamed", 3));
  }

  @Test
  void aConflictInPreCommitSeeksOnTheNextPutAndDropsThatPutsRecordsOfThePartition()
      throws Exception {
    start(Map.of(TandemSinkConfig.COMMIT_INTERVAL_MS, "3600000"));
    task.open(List.of(P0));
    task.put(List.of(record(P0, 0), record(P0, 1)));
    store.overwrite("connect-test", Map.of(new Partition(TOPIC, 0), 30L));
    context.offsets.clear();
    // preCommit may run while Connect closes the partition: no seek is handed to Connect here.
    assertThat(task.preCommit(Map.of())).doesNotContainKey(P0);
    assertThat(context.offsets).isEmpty();
    assertThat(rows(0)).isEmpty();
    // The next put hands the seek; its records were polled before it took effect.
    task.put(List.of(record(P0, 2), record(P0, 30)));
    assertThat(context.offsets).containsEntry(P0, 30L);
    assertThat(task.preCommit(Map.of())).doesNotContainKey(P0);
    task.put(List.of(record(P0, 30), record(P0, 31)));
    task.preCommit(Map.of());
    assertThat(rows(0)).containsExactly(30L, 31L);
    assertThat(stored(P0)).isEqualTo(32L);
  }
}
