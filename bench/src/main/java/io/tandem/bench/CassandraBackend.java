package io.tandem.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.tandem.cassandra.CassandraLayout;
import io.tandem.cassandra.CassandraOffsetStore;
import io.tandem.cassandra.CassandraReplication;
import io.tandem.cassandra.CassandraResults;
import io.tandem.cassandra.CassandraStoreConfig;
import io.tandem.cassandra.CassandraUpsert;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.CassandraServer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cassandra through {@link CassandraOffsetStore} (IDEMPOTENT: results as keyed inserts, then one
 * conditional batch of positions). A private forked node with {@code commitlog_sync: batch}, the
 * setting under which the store declares itself durable (every write is in the fsynced commit log
 * before it is acknowledged).
 */
final class CassandraBackend implements Backend<CassandraResults> {

  static final String KEYSPACE = "bench";
  private static final int CONCURRENCY = 32;

  private final CassandraLayout layout;
  private final CassandraServer server;
  private final CqlSession session;
  private final CassandraOffsetStore store;
  private final PreparedStatement insert;
  private final PreparedStatement position;
  private final Map<String, CassandraUpsert<Row>> upserts = new ConcurrentHashMap<>();

  CassandraBackend(CassandraLayout layout) {
    this.layout = layout;
    Map<String, String> yaml = new HashMap<>();
    yaml.put("commitlog_sync", "batch");
    yaml.put("commitlog_sync_period", null);
    server = CassandraServer.startPrivate(yaml);
    InetSocketAddress point = server.contactPoints().get(0);
    session =
        CqlSession.builder()
            .addContactPoint(new InetSocketAddress(point.getHostString(), point.getPort()))
            .withLocalDatacenter(server.localDatacenter())
            .withConfigLoader(
                DriverConfigLoader.programmaticBuilder()
                    .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(20))
                    .withDuration(
                        DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, Duration.ofSeconds(30))
                    .build())
            .build();
    store =
        CassandraOffsetStore.open(
            CassandraStoreConfig.builder()
                .session(session)
                .keyspace(KEYSPACE)
                .layout(layout)
                // A table holds one layout.
                .table(
                    layout == CassandraLayout.GROUP ? "tandem_offsets" : "tandem_offsets_partition")
                .build());
    // Replication 1: one node.
    store.createSchema(CassandraReplication.simple(1));
    session.execute(
        "CREATE TABLE IF NOT EXISTS "
            + KEYSPACE
            + ".results (ns text, k text, v text, PRIMARY KEY ((ns, k)))");
    session.execute(
        "CREATE TABLE IF NOT EXISTS "
            + KEYSPACE
            + ".positions (ns text, p int, pos bigint, PRIMARY KEY (ns, p))");
    insert = session.prepare("INSERT INTO " + KEYSPACE + ".results (ns, k, v) VALUES (?, ?, ?)");
    position =
        session.prepare("UPDATE " + KEYSPACE + ".positions SET pos = ? WHERE ns = ? AND p = ?");
  }

  @Override
  public String name() {
    return layout == CassandraLayout.GROUP ? "cassandra" : "cassandra" + Backends.PARTITION_LAYOUT;
  }

  @Override
  public String server() {
    return store.capabilities().description() + " [" + server + "]";
  }

  @Override
  public OffsetStore<CassandraResults> store() {
    return store;
  }

  @Override
  public void prepare(String namespace, int keys, int partitions) {
    // Tables are shared; the namespace is part of each key.
  }

  @Override
  public ResultWriter<CassandraResults> writer(String ns, List<Row> rows) {
    return upserts
        .computeIfAbsent(
            ns,
            n ->
                CassandraUpsert.<Row>of(
                    "INSERT INTO " + KEYSPACE + ".results (ns, k, v) VALUES (?, ?, ?)",
                    r -> new Object[] {n, r.key(), r.value()}))
        .rows(rows);
  }

  @Override
  public void write(String ns, List<Row> rows, Map<Partition, Long> positions) {
    // The results the way the store sends them: in parallel, at most 32 in flight, LOCAL_QUORUM.
    List<CompletableFuture<?>> window = new ArrayList<>(CONCURRENCY);
    for (Row r : rows) {
      window.add(
          session
              .executeAsync(
                  insert
                      .bind(ns, r.key(), r.value())
                      .setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM))
              .toCompletableFuture());
      if (window.size() == CONCURRENCY) {
        CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).join();
        window.clear();
      }
    }
    CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).join();
    if (!positions.isEmpty()) {
      // The positions: one plain (not conditional) single-partition batch.
      BatchStatementBuilder b = BatchStatement.builder(DefaultBatchType.UNLOGGED);
      positions.forEach((p, pos) -> b.addStatement(position.bind(pos, ns, p.partition())));
      session.execute(b.setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM).build());
    }
  }

  @Override
  public void close() {
    store.close();
    session.close();
    server.close();
  }
}
