package io.tandem.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Smoke tests of the launchers: each starts its server (or takes the one the environment names),
 * answers a real client request, and, where the launcher owns a private server, stops it and the
 * port is closed. The stores' tests depend on these servers; this says which launcher broke when
 * one does. Clients speak each server's own protocol (a driver where the module has one, else the
 * few bytes of the protocol's ping), so no other store's driver joins this class path.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class LaunchersIT {

  @Test
  void postgresAnswersAQuery() throws Exception {
    PostgresServer pg = PostgresServer.shared();
    try (Connection c = pg.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW server_version")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isNotBlank();
    }
    // The shared server is stopped by a shutdown hook when this JVM exits: no stop to test here.
  }

  @Test
  void mariaDbAnswersAQuery() throws Exception {
    MariaDbServer db = MariaDbServer.shared();
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT VERSION()")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).containsIgnoringCase("mariadb");
    }
  }

  @Test
  void aPrivateMariaDbKeepsACommittedRowAcrossSigkillAndStops() throws Exception {
    MariaDbServer db = MariaDbServer.startPrivate();
    int port = Integer.parseInt(db.jdbcUrl().replaceAll(".*:([0-9]+)/.*", "$1"));
    try {
      assertThat(db.controllable()).isTrue();
      try (Connection c = db.connect();
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE kept (id INT PRIMARY KEY) ENGINE=InnoDB");
        s.execute("INSERT INTO kept VALUES (42)"); // autocommit: acknowledged when this returns
      }
      db.kill();
      assertThat(portOpen("127.0.0.1", port)).as("port %d after kill()", port).isFalse();
      db.restart();
      try (Connection c = db.connect();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT id FROM kept")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(42);
      }
    } finally {
      db.close();
    }
    assertThat(portOpen("127.0.0.1", port)).as("port %d after close()", port).isFalse();
  }

  @Test
  void aPrivateRedisAnswersPingAndStops() throws Exception {
    RedisServer redis = RedisServer.startPrivate("always");
    String host = redis.host();
    int port = redis.port();
    try {
      assertThat(redisPing(host, port)).isEqualTo("+PONG");
    } finally {
      redis.close();
    }
    if (redis.embedded()) {
      assertThat(portOpen(host, port)).as("port %d after close()", port).isFalse();
    }
  }

  @Test
  void anEmbeddedZooKeeperServesAClientAndStops() throws Exception {
    ZooKeeperTestServer zk = ZooKeeperTestServer.startEmbedded();
    String connect = zk.connectString();
    try {
      CountDownLatch connected = new CountDownLatch(1);
      ZooKeeper client =
          new ZooKeeper(
              connect,
              30_000,
              e -> {
                if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                  connected.countDown();
                }
              });
      try {
        assertThat(connected.await(30, TimeUnit.SECONDS)).as("connected to " + connect).isTrue();
        assertThat(client.getChildren("/", false)).contains("zookeeper");
      } finally {
        client.close();
      }
    } finally {
      zk.close();
    }
    String[] hostPort = connect.split(",")[0].split(":");
    assertThat(portOpen(hostPort[0], Integer.parseInt(hostPort[1]))).isFalse();
  }

  /**
   * The killable ZooKeeper: a znode written (acknowledged) before SIGKILL is there after the
   * restart on the same data directory and port, and the client's session, with its ephemeral node,
   * lives on: ZooKeeper logs session creation like any transaction and restores sessions from its
   * snapshot and log, restarting their timeouts, so a client that reconnects within its timeout
   * keeps its session.
   */
  @Test
  void aPrivateZooKeeperKeepsAZnodeAndTheSessionAcrossSigkillAndStops() throws Exception {
    ZooKeeperTestServer zk = ZooKeeperTestServer.startPrivate();
    String connect = zk.connectString();
    String[] hostPort = connect.split(":");
    int port = Integer.parseInt(hostPort[1]);
    try {
      assertThat(zk.killable()).isTrue();
      LinkedBlockingQueue<Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();
      ZooKeeper client = new ZooKeeper(connect, 30_000, e -> states.add(e.getState()));
      try {
        assertThat(states.poll(30, TimeUnit.SECONDS)).isEqualTo(KeeperState.SyncConnected);
        long session = client.getSessionId();
        client.create(
            "/kept",
            "42".getBytes(StandardCharsets.UTF_8),
            Ids.OPEN_ACL_UNSAFE,
            CreateMode.PERSISTENT);
        client.create("/mine", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);

        zk.kill();
        assertThat(portOpen("127.0.0.1", port)).as("port %d after kill()", port).isFalse();
        assertThat(states.poll(30, TimeUnit.SECONDS)).isEqualTo(KeeperState.Disconnected);
        zk.start();

        assertThat(states.poll(30, TimeUnit.SECONDS))
            .as("the client reconnects by itself, in the same session")
            .isEqualTo(KeeperState.SyncConnected);
        assertThat(client.getSessionId()).isEqualTo(session);
        assertThat(new String(client.getData("/kept", false, null), StandardCharsets.UTF_8))
            .isEqualTo("42");
        assertThat(client.exists("/mine", false).getEphemeralOwner()).isEqualTo(session);
      } finally {
        client.close();
      }
    } finally {
      zk.close();
    }
    assertThat(portOpen("127.0.0.1", port)).as("port %d after close()", port).isFalse();
  }

  @Test
  void aPrivateKafkaBrokerDescribesItsClusterAndStops() throws Exception {
    assumeTrue(
        System.getenv(KafkaBroker.ENV) == null || System.getenv(KafkaBroker.ENV).isBlank(),
        "a broker from " + KafkaBroker.ENV + " is not this launcher's to start and stop");
    KafkaBroker broker = KafkaBroker.start();
    String bootstrap = broker.bootstrapServers();
    try (Admin admin = broker.admin()) {
      assertThat(admin.describeCluster().nodes().get(60, TimeUnit.SECONDS)).hasSize(1);
      broker.createTopic("smoke", 2);
      assertThat(admin.listTopics().names().get(60, TimeUnit.SECONDS)).contains("smoke");
    } finally {
      broker.close();
    }
    String[] hostPort = bootstrap.split(",")[0].split(":");
    assertThat(portOpen(hostPort[0], Integer.parseInt(hostPort[1]))).isFalse();
  }

  @Test
  void theInProcessMongoEmulatorAnswersPing() {
    MongoServer.Instance mongo = MongoServer.inProcess();
    try (MongoClient client = MongoClients.create(mongo.uri())) {
      Document pong = client.getDatabase("admin").runCommand(new Document("ping", 1));
      assertThat(pong.get("ok", Number.class).doubleValue()).isEqualTo(1.0);
    }
    // In-process and shared by the JVM; it lives as long as the JVM.
  }

  @Test
  void aPrivateCassandraAnswersOptionsAndStops() throws Exception {
    CassandraServer cassandra = CassandraServer.startPrivate();
    String host = cassandra.host();
    int port = cassandra.port();
    try {
      assertThat(cqlOptions(host, port)).as("CQL SUPPORTED response").contains("CQL_VERSION");
    } finally {
      cassandra.close();
    }
    if (cassandra.controllable()) {
      assertThat(portOpen(host, port)).isFalse();
    }
  }

  /** Redis's inline PING; the reply's first line. */
  private static String redisPing(String host, int port) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 5_000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      StringBuilder line = new StringBuilder();
      for (int c = in.read(); c != -1 && c != '\r'; c = in.read()) {
        line.append((char) c);
      }
      return line.toString();
    }
  }

  /**
   * The CQL native protocol's OPTIONS request (v4 header: version 0x04, flags 0, stream 1, opcode
   * OPTIONS 0x05, body length 0); the server answers SUPPORTED (0x06) with a string multimap that
   * names CQL_VERSION. Returns the body as text.
   */
  private static String cqlOptions(String host, int port) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 5_000);
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(new byte[] {0x04, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00});
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      byte[] header = new byte[9];
      in.readFully(header);
      assertThat(header[0] & 0xff).as("response version byte").isEqualTo(0x84);
      assertThat(header[4]).as("opcode SUPPORTED").isEqualTo((byte) 0x06);
      int length =
          ((header[5] & 0xff) << 24)
              | ((header[6] & 0xff) << 16)
              | ((header[7] & 0xff) << 8)
              | (header[8] & 0xff);
      byte[] body = new byte[length];
      in.readFully(body);
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private static boolean portOpen(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 2_000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
