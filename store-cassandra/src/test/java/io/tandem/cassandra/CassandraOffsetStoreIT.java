package io.tandem.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.InvalidBatchException;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.testing.CassandraServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CassandraOffsetStoreIT {

  private static CassandraOffsetStore store;

  @BeforeAll
  static void open() {
    store = Cassandra.store();
  }

  @AfterAll
  static void close() {
    store.close();
  }

  private static final CassandraUpsert<Map.Entry<String, String>> PUT =
      CassandraUpsert.of(
          "INSERT INTO " + Cassandra.KEYSPACE + ".results (namespace, key, value) VALUES (?, ?, ?)",
          e -> new Object[] {e.getKey().split("/")[0], e.getKey().split("/")[1], e.getValue()});

  private static ResultWriter<CassandraResults> put(String ns, String... keys) {
    List<Map.Entry<String, String>> rows = new ArrayList<>();
    for (String k : keys) {
      rows.add(Map.entry(ns + "/" + k, "v-" + k));
    }
    return PUT.rows(rows);
  }

  private static Map<String, String> results(String ns) {
    Map<String, String> out = new TreeMap<>();
    for (Row row :
        store
            .session()
            .execute(
                SimpleStatement.newInstance(
                    "SELECT key, value FROM " + Cassandra.KEYSPACE + ".results WHERE namespace = ?",
                    ns))) {
      out.put(row.getString(0), row.getString(1));
    }
    return out;
  }

  @Test
  void capabilitiesDeclareIdempotentOffsetsAtomicAcrossPartitionsOnlyInTheGroupLayout() {
    try (CassandraOffsetStore partition = Cassandra.store(CassandraLayout.PARTITION)) {
      assertThat(partition.capabilities().atomicAcrossPartitions()).isFalse();
      assertThat(partition.capabilities().description()).contains("partition layout");
    }
    Capabilities caps = store.capabilities();
    assertThat(caps.guarantee()).isEqualTo(Guarantee.IDEMPOTENT);
    // Default: the group layout, one LWT batch per commit.
    assertThat(caps.atomicAcrossPartitions()).isTrue();
    assertThat(caps.description()).contains("group layout");
    // The shared test server runs Cassandra's default commitlog_sync: periodic.
    assertThat(caps.durable()).isFalse();
    assertThat(caps.maxRangesPerCommit()).isEqualTo(CassandraStoreConfig.DEFAULT_MAX_RANGES);
    assertThat(caps.description())
        .contains("Cassandra 5.0")
        .contains("not atomic with offsets")
        .contains("commitlog_sync=periodic");
  }

  @Test
  void nonIdempotentStatementIsRefusedBeforeAnythingRuns() {
    String g = Cassandra.unique("nonidem");
    String ns = Cassandra.unique("ns");
    Partition p = Partition.of("t", 0);
    store.initialize(g, Map.of(p, 0L));
    SimpleStatement plain =
        SimpleStatement.newInstance(
            "INSERT INTO "
                + Cassandra.KEYSPACE
                + ".results (namespace, key, value) VALUES (?, ?, ?)",
            ns,
            "late",
            "x");
    ResultWriter<CassandraResults> writer =
        h -> {
          put(ns, "first").write(h); // idempotent, added first
          h.add(plain); // not marked: refused, and "first" must not run either
        };
    assertThatThrownBy(() -> store.commit(g, List.of(new OffsetRange(p, 0, 1)), writer))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("result statement #2")
        .hasMessageContaining("INSERT INTO tandem_it.results")
        .hasMessageContaining("not marked idempotent")
        .hasMessageContaining("Nothing was executed");
    assertThat(results(ns)).isEmpty();
    assertThat(store.positions(g)).containsEntry(p, 0L);
  }

  @Test
  void failingResultStatementMovesNoOffset() {
    String g = Cassandra.unique("badresult");
    Partition p = Partition.of("t", 0);
    store.initialize(g, Map.of(p, 0L));
    ResultWriter<CassandraResults> writer =
        h ->
            h.add(
                SimpleStatement.newInstance(
                        "INSERT INTO " + Cassandra.KEYSPACE + ".no_such_table (k) VALUES (1)")
                    .setIdempotent(true));
    assertThatThrownBy(() -> store.commit(g, List.of(new OffsetRange(p, 0, 1)), writer))
        .isInstanceOf(ResultWriteException.class)
        .hasMessageContaining("no_such_table")
        .hasMessageContaining("no offset moved");
    assertThat(store.positions(g)).containsEntry(p, 0L);
  }

  @Test
  void providerOpensTheStoreFromAUri() throws Exception {
    CassandraServer server = Cassandra.server();
    String g = Cassandra.unique("uri");
    String uri =
        "cassandra://"
            + server.contactString()
            + "/"
            + Cassandra.KEYSPACE
            + "?localDatacenter="
            + server.localDatacenter()
            + "&requestTimeout=15s&resultConcurrency=8";
    try (OffsetStore<CassandraResults> s =
        OffsetStores.open(uri, Map.of(), CassandraResults.class)) {
      assertThat(s).isInstanceOf(CassandraOffsetStore.class);
      assertThat(((CassandraOffsetStore) s).config().resultConcurrency()).isEqualTo(8);
      Partition p = Partition.of("t", 0);
      s.initialize(g, Map.of(p, 3L));
      s.commit(g, List.of(new OffsetRange(p, 3, 4)), ResultWriter.none());
      assertThat(store.positions(g)).containsEntry(p, 4L);
    }
    assertThatThrownBy(() -> OffsetStores.open(uri + "&consistancy=ONE"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("consistancy");
  }

  @Test
  void aTableOfTheOtherLayoutIsRefusedNamingTheOption() {
    Cassandra.store(CassandraLayout.PARTITION).close(); // both tables exist
    CassandraStoreConfig groupOnPartitionTable =
        Cassandra.config(Cassandra.server())
            .table(Cassandra.PARTITION_TABLE)
            .layout(CassandraLayout.GROUP)
            .build();
    try (CassandraOffsetStore s = CassandraOffsetStore.open(groupOnPartitionTable)) {
      assertThatThrownBy(() -> s.positions("g", List.of(Partition.of("t", 0))))
          .isInstanceOf(StoreConfigurationException.class)
          .hasMessageContaining("has the partition layout")
          .hasMessageContaining("layout=partition");
    }
    CassandraStoreConfig partitionOnGroupTable =
        Cassandra.config(Cassandra.server()).layout(CassandraLayout.PARTITION).build();
    try (CassandraOffsetStore s = CassandraOffsetStore.open(partitionOnGroupTable)) {
      assertThatThrownBy(() -> s.positions("g", List.of(Partition.of("t", 0))))
          .isInstanceOf(StoreConfigurationException.class)
          .hasMessageContaining("layout=group");
    }
  }

  @Test
  void missingTableIsAConfigurationErrorNamingCreateSchema() {
    CassandraStoreConfig config =
        Cassandra.config(Cassandra.server()).table("no_offsets_here").build();
    try (CassandraOffsetStore s = CassandraOffsetStore.open(config)) {
      assertThatThrownBy(() -> s.positions("g", List.of(Partition.of("t", 0))))
          .isInstanceOf(StoreConfigurationException.class)
          .hasMessageContaining("createSchema");
    }
  }
}
