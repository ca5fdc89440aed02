package io.tandem.zookeeper;

import static io.tandem.zookeeper.ZkIt.text;
import static io.tandem.zookeeper.ZkIt.unique;
import static io.tandem.zookeeper.ZkIt.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.testing.TcpProxy;
import io.tandem.testing.ZooKeeperTestServer;
import io.tandem.zookeeper.internal.Requests;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Server restarts, outages, session expiry and lost replies, on an in-process server of its own
 * (these tests stop it and cut its connections), plus the server facts the store relies on.
 */
class ZooKeeperFaultsIT {

  private static ZooKeeperTestServer server;

  @BeforeAll
  static void start() {
    server = ZooKeeperTestServer.startEmbedded();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Runs an action until it stops failing with a retriable error, as the consumer runtime does. */
  private static void retrying(Runnable action) {
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              try {
                action.run();
                return true;
              } catch (StoreUnavailableException e) {
                return false;
              }
            });
  }

  @Test
  void serverRestartBetweenCommitsKeepsPositionsAndResults() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    NodePerKey results = NodePerKey.under("/" + unique("results"));
    try (ZooKeeperOffsetStore store = ZkIt.open(server)) {
      store.initialize(group, Map.of(Partition.of(topic, 0), 0L, Partition.of(topic, 1), 0L));
      store.commit(
          group,
          List.of(OffsetRange.of(topic, 0, 0, 5), OffsetRange.of(topic, 1, 0, 3)),
          results.putText(Map.of("first", "1")));

      server.restart();

      // The client reconnects on its own and keeps its session (ZooKeeper persists sessions).
      retrying(
          () ->
              store.commit(
                  group,
                  List.of(OffsetRange.of(topic, 0, 5, 9)),
                  results.putText(Map.of("second", "2"))));
      assertThat(store.positions(group))
          .containsExactlyInAnyOrderEntriesOf(
              Map.of(Partition.of(topic, 0), 9L, Partition.of(topic, 1), 3L));
    }
    server.restart();
    try (ZooKeeperOffsetStore reopened = ZkIt.open(server);
        ZooKeeper zk = ZkIt.client(server.connectString())) {
      assertThat(reopened.capabilities().durable()).isTrue();
      assertThat(results.read(zk).keySet()).containsExactly("first", "second");
    }
  }

  @Test
  void serverDownIsRetriableAndTheStoreRecoversWhenItReturns() {
    String group = unique("g");
    String topic = unique("t");
    try (ZooKeeperOffsetStore store = ZkIt.open(server)) {
      store.initialize(group, Map.of(Partition.of(topic, 0), 0L));
      server.stop();
      try {
        assertThatThrownBy(
                () ->
                    store.commit(
                        group, List.of(OffsetRange.of(topic, 0, 0, 1)), ResultWriter.none()))
            .isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("CONNECTIONLOSS")
            .hasMessageContaining("Retriable");
        assertThatThrownBy(() -> store.positions(group))
            .isInstanceOf(StoreUnavailableException.class);
      } finally {
        server.start();
      }
      retrying(
          () -> store.commit(group, List.of(OffsetRange.of(topic, 0, 0, 1)), ResultWriter.none()));
      assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 1L);
    }
  }

  @Test
  void anExpiredSessionIsReplacedAndCommitsGoOn() {
    String group = unique("g");
    String topic = unique("t");
    try (ZooKeeperOffsetStore store = ZkIt.open(server)) {
      store.initialize(group, Map.of(Partition.of(topic, 0), 0L));
      store.commit(group, List.of(OffsetRange.of(topic, 0, 0, 1)), ResultWriter.none());
      long before = store.sessionId();

      server.expireSession(before);

      retrying(
          () -> store.commit(group, List.of(OffsetRange.of(topic, 0, 1, 2)), ResultWriter.none()));
      assertThat(store.sessionId()).isNotEqualTo(before).isNotZero();
      assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 2L);
    }
  }

  @Test
  void aReplyLostAfterTheServerAppliedIsReadBackAsCommitted() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    NodePerKey results = NodePerKey.under("/" + unique("results"));
    int port =
        Integer.parseInt(server.connectString().substring(server.connectString().indexOf(':') + 1));
    try (TcpProxy proxy = TcpProxy.start("127.0.0.1", port);
        ZooKeeperOffsetStore store =
            ZooKeeperOffsetStore.open(
                ZooKeeperStoreConfig.builder("127.0.0.1:" + proxy.port())
                    .root("/" + unique("tandem-it"))
                    .sessionTimeout(Duration.ofSeconds(3))
                    .connectTimeout(Duration.ofSeconds(10))
                    .build());
        ZooKeeper zk = ZkIt.client(server.connectString())) {
      store.initialize(group, Map.of(Partition.of(topic, 0), 0L, Partition.of(topic, 1), 7L));

      // The writer runs just before the multi is sent: from then on the server's replies on
      // this connection are dropped. The multi reaches the server and applies; the client
      // hears nothing, declares the connection lost, reconnects through the proxy, and the
      // store reads the positions back.
      store.commit(
          group,
          List.of(OffsetRange.of(topic, 0, 0, 4), OffsetRange.of(topic, 1, 7, 9)),
          ops -> {
            results.putText(Map.of("k", "v")).write(ops);
            proxy.blackhole(TcpProxy.Direction.DOWNSTREAM);
          });

      assertThat(proxy.connectionsAccepted()).isGreaterThanOrEqualTo(2);
      assertThat(store.positions(group))
          .containsExactlyInAnyOrderEntriesOf(
              Map.of(Partition.of(topic, 0), 4L, Partition.of(topic, 1), 9L));
      assertThat(text(results.read(zk).get("k"))).isEqualTo("v");
    }
  }

  @Test
  void aRequestLostBeforeTheServerIsReadBackAsNotCommitted() throws Exception {
    String group = unique("g");
    String topic = unique("t");
    String result = "/" + unique("results");
    int port =
        Integer.parseInt(server.connectString().substring(server.connectString().indexOf(':') + 1));
    try (TcpProxy proxy = TcpProxy.start("127.0.0.1", port);
        ZooKeeperOffsetStore store =
            ZooKeeperOffsetStore.open(
                ZooKeeperStoreConfig.builder("127.0.0.1:" + proxy.port())
                    .root("/" + unique("tandem-it"))
                    .sessionTimeout(Duration.ofSeconds(3))
                    .connectTimeout(Duration.ofSeconds(10))
                    .build());
        ZooKeeper zk = ZkIt.client(server.connectString())) {
      store.initialize(group, Map.of(Partition.of(topic, 0), 0L));

      assertThatThrownBy(
              () ->
                  store.commit(
                      group,
                      List.of(OffsetRange.of(topic, 0, 0, 4)),
                      ops -> {
                        ops.create(result, utf8("x"));
                        proxy.blackhole(TcpProxy.Direction.UPSTREAM);
                        proxy.blackhole(TcpProxy.Direction.DOWNSTREAM);
                      }))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("read back shows it did not apply: nothing was committed");

      assertThat(proxy.connectionsAccepted()).isGreaterThanOrEqualTo(2);
      assertThat(store.positions(group)).containsEntry(Partition.of(topic, 0), 0L);
      assertThat(zk.exists(result, false)).isNull();
      // And the retry the message asks for succeeds.
      store.commit(
          group, List.of(OffsetRange.of(topic, 0, 0, 4)), ops -> ops.create(result, utf8("x")));
      assertThat(zk.exists(result, false)).isNotNull();
    }
  }

  /**
   * The facts the size check and the failing-op rule rest on, checked on this server: a request
   * packet of exactly {@code jute.maxbuffer} bytes (as {@link Requests#multiRequestBytes} counts
   * them) is accepted, one byte more makes the server drop the connection (CONNECTIONLOSS, nothing
   * applied); a failed multi reports 0 for ops that ran, the error for the failing op and
   * RUNTIMEINCONSISTENCY for ops not run.
   */
  @Test
  void serverFactsTheStoreReliesOn() throws Exception {
    String base = "/" + unique("facts");
    try (ZooKeeper zk = ZkIt.client(server.connectString())) {
      zk.create(base, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
      String node = base + "/big";
      long empty =
          Requests.multiRequestBytes(
              List.of(
                  Op.create(
                      node, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)));
      int limit = 0xfffff;
      byte[] exact = new byte[(int) (limit - empty)];
      List<Op> fits =
          List.of(Op.create(node, exact, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
      assertThat(Requests.multiRequestBytes(fits)).isEqualTo(limit);
      zk.multi(fits);
      assertThat(zk.exists(node, false).getDataLength()).isEqualTo(exact.length);

      // Same path length, one byte more data: one byte over the limit.
      String over = base + "/bi2";
      List<Op> tooBig =
          List.of(
              Op.create(
                  over,
                  new byte[exact.length + 1],
                  ZooDefs.Ids.OPEN_ACL_UNSAFE,
                  CreateMode.PERSISTENT));
      assertThat(Requests.multiRequestBytes(tooBig)).isEqualTo(limit + 1);
      assertThatThrownBy(() -> zk.multi(tooBig))
          .isInstanceOf(KeeperException.ConnectionLossException.class);
      // The client reconnects (same session); nothing was applied.
      await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptions()
          .untilAsserted(() -> assertThat(zk.exists(over, false)).isNull());

      // Failing-op report of a multi.
      zk.create(base + "/pos", utf8("1"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
      List<Op> ops =
          List.of(
              Op.create(
                  base + "/e1", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
              Op.setData(base + "/pos", utf8("2"), 5),
              Op.create(
                  base + "/e2", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
      Requests.MultiReply reply = Requests.multi(zk, ops, 10_000);
      assertThat(reply.code()).isEqualTo(KeeperException.Code.BADVERSION);
      assertThat(
              reply.results().stream()
                  .map(r -> ((org.apache.zookeeper.OpResult.ErrorResult) r).getErr())
                  .toList())
          .containsExactly(
              0,
              KeeperException.Code.BADVERSION.intValue(),
              KeeperException.Code.RUNTIMEINCONSISTENCY.intValue());
      assertThat(ZooKeeperOffsetStore.failingOp(reply)).isEqualTo(1);
      assertThat(zk.exists(base + "/e1", false)).isNull();
    }
  }
}
