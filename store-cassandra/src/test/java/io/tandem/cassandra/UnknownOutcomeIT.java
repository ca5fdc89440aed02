package io.tandem.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.testing.CassandraServer;
import io.tandem.testing.FreePorts;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.netcrusher.core.reactor.NioReactor;
import org.netcrusher.tcp.TcpCrusher;
import org.netcrusher.tcp.TcpCrusherBuilder;

/**
 * Commits whose LWT outcome is unknown to the client, resolved by a serial read.
 *
 * <p>A real {@code WriteTimeoutException(CAS)} cannot be provoked on demand on a single node (the
 * coordinator is its own only replica), so these tests cut the client's connection in a TCP proxy
 * (netcrusher) exactly while the conditional batch is in flight: either after the server got the
 * request (the response is dropped: the batch was applied, the client cannot know) or before (the
 * request is dropped: it was not applied). Both leave the driver with a lost connection on a
 * non-idempotent request, the same unknown outcome a CAS timeout gives, and the same resolution
 * path runs.
 */
class UnknownOutcomeIT {

  private enum Cut {
    NONE,
    REQUEST,
    RESPONSE
  }

  private static NioReactor reactor;
  private static TcpCrusher proxy;
  private static final ExecutorService closer = Executors.newSingleThreadExecutor();
  private static final AtomicReference<Cut> mode = new AtomicReference<>(Cut.NONE);
  private static final AtomicReference<byte[]> marker = new AtomicReference<>();
  private static final AtomicInteger dropResponse = new AtomicInteger();
  private static final AtomicInteger cuts = new AtomicInteger();
  private CassandraOffsetStore direct;

  @BeforeAll
  static void startProxy() throws Exception {
    CassandraServer server = Cassandra.server();
    reactor = new NioReactor();
    proxy =
        TcpCrusherBuilder.builder()
            .withReactor(reactor)
            .withBindAddress("127.0.0.1", FreePorts.next())
            .withConnectAddress(server.host(), server.port())
            .withOutgoingTransformFilterFactory(client -> UnknownOutcomeIT::clientToServer)
            .withIncomingTransformFilterFactory(client -> UnknownOutcomeIT::serverToClient)
            .buildAndOpen();
  }

  @AfterAll
  static void stopProxy() {
    proxy.close();
    reactor.close();
    closer.shutdownNow();
  }

  @BeforeEach
  void openDirect() {
    direct = Cassandra.store();
    mode.set(Cut.NONE);
    cuts.set(0);
  }

  @AfterEach
  void closeDirect() {
    direct.close();
  }

  /** Client to server: when armed, the first request carrying the marker is the one to cut. */
  private static void clientToServer(ByteBuffer bb) {
    byte[] m = marker.get();
    Cut cut = mode.get();
    if (cut == Cut.NONE || m == null || !contains(bb, m) || !mode.compareAndSet(cut, Cut.NONE)) {
      return;
    }
    cuts.incrementAndGet();
    if (cut == Cut.REQUEST) {
      bb.position(bb.limit()); // never reaches the server
      closer.execute(proxy::closeAllPairs);
    } else {
      dropResponse.set(1); // reaches the server; its answer is lost
    }
  }

  private static void serverToClient(ByteBuffer bb) {
    if (dropResponse.compareAndSet(1, 0)) {
      bb.position(bb.limit());
      closer.execute(proxy::closeAllPairs);
    }
  }

  private static boolean contains(ByteBuffer bb, byte[] m) {
    outer:
    for (int i = bb.position(); i <= bb.limit() - m.length; i++) {
      for (int j = 0; j < m.length; j++) {
        if (bb.get(i + j) != m[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private CassandraOffsetStore viaProxy(int lwtAttempts) {
    CassandraStoreConfig config =
        CassandraStoreConfig.builder()
            .contactPoint("127.0.0.1", proxy.getBindAddress().getPort())
            .localDatacenter(Cassandra.server().localDatacenter())
            .keyspace(Cassandra.KEYSPACE)
            .lwtAttempts(lwtAttempts)
            .build();
    return CassandraOffsetStore.open(config);
  }

  private ResultWriter<CassandraResults> result(String ns, String key) {
    return h ->
        h.add(
            SimpleStatement.newInstance(
                    "INSERT INTO "
                        + Cassandra.KEYSPACE
                        + ".results (namespace, key, value) VALUES (?, ?, 'v')",
                    ns,
                    key)
                .setIdempotent(true));
  }

  private Map<String, String> results(String ns) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (Row row :
        direct
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
  void lostResponseOfAnAppliedBatchIsResolvedAsCommitted() {
    String g = Cassandra.unique("lostresp");
    String ns = Cassandra.unique("ns");
    Partition a = Partition.of("t", 0);
    Partition b = Partition.of("t", 1);
    direct.initialize(g, Map.of(a, 0L, b, 0L));
    try (CassandraOffsetStore store = viaProxy(1)) {
      store.positions(g); // prepares statements and warms the pool before arming
      marker.set(g.getBytes(StandardCharsets.UTF_8));
      mode.set(Cut.RESPONSE);
      // With lwtAttempts=1 only a serial read that finds our commit_id can make this succeed.
      store.commit(g, List.of(new OffsetRange(a, 0, 5), new OffsetRange(b, 0, 7)), result(ns, "k"));
    }
    assertThat(cuts.get()).as("the batch's connection was cut").isEqualTo(1);
    assertThat(direct.positions(g)).containsExactlyInAnyOrderEntriesOf(Map.of(a, 5L, b, 7L));
    assertThat(results(ns)).containsKey("k");
  }

  @Test
  void lostRequestIsResolvedAsNotAppliedAndSentAgain() {
    String g = Cassandra.unique("lostreq");
    String ns = Cassandra.unique("ns");
    Partition a = Partition.of("t", 0);
    direct.initialize(g, Map.of(a, 0L));
    try (CassandraOffsetStore store = viaProxy(3)) {
      store.positions(g);
      marker.set(g.getBytes(StandardCharsets.UTF_8));
      mode.set(Cut.REQUEST);
      store.commit(g, List.of(new OffsetRange(a, 0, 5)), result(ns, "k"));
    }
    assertThat(cuts.get()).isEqualTo(1);
    assertThat(direct.positions(g)).containsEntry(a, 5L);
    assertThat(results(ns)).containsKey("k");
  }

  @Test
  void lostRequestWithoutRetriesIsReportedNotAppliedWithResultsWritten() {
    String g = Cassandra.unique("lostreq1");
    String ns = Cassandra.unique("ns");
    Partition a = Partition.of("t", 0);
    direct.initialize(g, Map.of(a, 0L));
    try (CassandraOffsetStore store = viaProxy(1)) {
      store.positions(g);
      marker.set(g.getBytes(StandardCharsets.UTF_8));
      mode.set(Cut.REQUEST);
      assertThatThrownBy(() -> store.commit(g, List.of(new OffsetRange(a, 0, 5)), result(ns, "k")))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("was not applied")
          .hasMessageContaining("results are written");
    }
    assertThat(cuts.get()).isEqualTo(1);
    assertThat(direct.positions(g)).containsEntry(a, 0L);
    assertThat(results(ns)).containsKey("k");
  }
}
