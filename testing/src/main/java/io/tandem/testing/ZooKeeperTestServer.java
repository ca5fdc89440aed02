package io.tandem.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ZooKeeper server for tests: one shared per test JVM ({@link #shared()}), a private embedded one
 * that a test may stop, restart on the same data and cut connections of ({@link #startEmbedded()}),
 * or a private one in a JVM of its own that a test may kill with SIGKILL and start again on the
 * same data directory and port ({@link #startPrivate()}).
 *
 * <p>Order for {@link #shared()}: {@value #ENV} (a connect string {@code host:port[,host:port]} of
 * your own server), else Testcontainers' {@code zookeeper:3.9.4} image when a Docker engine
 * answers, else an in-process ZooKeeper 3.9.4 server ({@code ZooKeeperServer} + NIO connection
 * factory) on 127.0.0.1, a free port and a data directory under the temp directory.
 *
 * <p>A module that uses it declares in test scope {@code org.apache.zookeeper:zookeeper}, {@code
 * io.dropwizard.metrics:metrics-core} and {@code org.xerial.snappy:snappy-java} (the server needs
 * the last two, which ZooKeeper's pom marks provided: without them its start fails on a thread that
 * leaves the JVM hanging), and optionally {@code org.testcontainers:testcontainers}.
 *
 * <p>The embedded server keeps ZooKeeper's defaults that matter to a store: the transaction log is
 * fsynced before a write is acknowledged ({@code forceSync=yes}) and {@code jute.maxbuffer} is
 * 1&nbsp;MiB − 1. {@code jute.maxbuffer} is a JVM-wide system property read once by both client and
 * server classes, so this launcher never changes it.
 */
public final class ZooKeeperTestServer implements AutoCloseable {

  /** Environment variable with the connect string of an existing ZooKeeper. */
  public static final String ENV = "TANDEM_ZOOKEEPER_CONNECT";

  /** The image Testcontainers runs when a Docker engine answers. */
  public static final String IMAGE = "zookeeper:3.9.4";

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperTestServer.class);

  private final String connectString;
  private final String description;
  private final Embedded embedded;
  private final Forked forked;
  private final AutoCloseable resource;

  private ZooKeeperTestServer(
      String connectString, String description, Embedded embedded, AutoCloseable resource) {
    this(connectString, description, embedded, null, resource);
  }

  private ZooKeeperTestServer(
      String connectString,
      String description,
      Embedded embedded,
      Forked forked,
      AutoCloseable resource) {
    this.connectString = connectString;
    this.description = description;
    this.embedded = embedded;
    this.forked = forked;
    this.resource = resource;
  }

  /**
   * The server of this JVM, found or started on first call and stopped at JVM exit.
   *
   * @return the server
   * @throws IllegalStateException if no server could be found or started
   */
  public static ZooKeeperTestServer shared() {
    return Holder.INSTANCE;
  }

  /**
   * Starts a new in-process server that only the caller uses, whatever {@value #ENV} and Docker
   * say: tests that stop, restart or disconnect a server need one they control. The caller closes
   * it (a JVM shutdown hook stops it too).
   *
   * @return the started server
   * @throws IllegalStateException if it cannot start
   */
  public static ZooKeeperTestServer startEmbedded() {
    Embedded e = Embedded.start();
    ZooKeeperTestServer server =
        new ZooKeeperTestServer(e.connectString(), e.description(), e, e::destroy);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "zookeeper-test-stop"));
    return server;
  }

  /**
   * Starts a new standalone server in a JVM of its own ({@code ZooKeeperServerMain} under {@link
   * ForkedJvm}, with this JVM's class path, which must hold the ZooKeeper server jar and what it
   * needs: see the class comment), whatever {@value #ENV} and Docker say: the server a test kills
   * with SIGKILL ({@link #kill()}) and starts again on the same data directory and port ({@link
   * #start()}). It fsyncs its transaction log before acknowledging a write ({@code forceSync=yes},
   * ZooKeeper's default, set explicitly). The caller closes it (a JVM shutdown hook stops it too,
   * and the fork halts itself when this JVM is gone).
   *
   * @return the started server
   * @throws IllegalStateException if it cannot start
   */
  public static ZooKeeperTestServer startPrivate() {
    Forked f = Forked.start();
    ZooKeeperTestServer server =
        new ZooKeeperTestServer(f.connectString(), f.description(), null, f, f::destroy);
    ServerLog.using("ZooKeeper (private, killable)", server.description());
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "zookeeper-fork-stop"));
    return server;
  }

  /**
   * The connect string clients use.
   *
   * @return {@code host:port[,host:port]}
   */
  public String connectString() {
    return connectString;
  }

  /**
   * How the server was obtained, for logs and reports.
   *
   * @return one line
   */
  public String description() {
    return description;
  }

  /**
   * Whether this is an in-process server that {@link #stop()}, {@link #start()}, {@link #restart()}
   * and {@link #dropConnections()} control.
   *
   * @return true for a server of {@link #startEmbedded()} or an embedded shared one
   */
  public boolean controllable() {
    return embedded != null;
  }

  /**
   * Whether this is a server in a JVM of its own that {@link #kill()} and {@link #start()} control.
   *
   * @return true for a server of {@link #startPrivate()}
   */
  public boolean killable() {
    return forked != null;
  }

  /**
   * Kills the forked server's JVM with SIGKILL (no shutdown, no flush beyond the fsync that came
   * before each acknowledgement) and waits until it is gone. {@link #start()} brings it back on the
   * same data directory and port.
   *
   * @throws UnsupportedOperationException if the server is not {@link #killable()}
   */
  public void kill() {
    if (forked == null) {
      throw new UnsupportedOperationException(
          "ZooKeeper " + description + " is not a forked server: use startPrivate() to kill one");
    }
    forked.kill();
  }

  /**
   * Stops the in-process server; its data directory and port stay reserved for {@link #start()}.
   *
   * @throws UnsupportedOperationException if the server is not in-process
   */
  public void stop() {
    control().stop();
  }

  /**
   * Starts the server again on the same data directory and port: the in-process server after {@link
   * #stop()}, or the forked one after {@link #kill()} (returning once it serves requests).
   *
   * @throws UnsupportedOperationException if the server is neither in-process nor forked
   */
  public void start() {
    if (forked != null) {
      forked.startAgain();
      return;
    }
    control().startAgain();
  }

  /**
   * Stops and starts the in-process server on the same data directory and port, like a server
   * restart: committed data stays, open connections drop, sessions resume when clients reconnect
   * within their timeout.
   *
   * @throws UnsupportedOperationException if the server is not in-process
   */
  public void restart() {
    Embedded e = control();
    e.stop();
    e.startAgain();
  }

  /**
   * Closes every client connection of the in-process server (clients see a connection loss and
   * reconnect; sessions live on).
   *
   * @throws UnsupportedOperationException if the server is not in-process
   */
  public void dropConnections() {
    control().dropConnections();
  }

  /**
   * Expires a session on the in-process server, as its timeout would (ephemerals go, the client
   * gets {@code Expired} on its next contact).
   *
   * @param sessionId the session
   * @throws UnsupportedOperationException if the server is not in-process
   */
  public void expireSession(long sessionId) {
    control().expire(sessionId);
  }

  /** Stops the server if this launcher started it and deletes its data; idempotent. */
  @Override
  public void close() {
    try {
      if (resource != null) {
        resource.close();
      }
    } catch (Exception e) {
      log.warn("Stopping ZooKeeper ({}) failed", description, e);
    }
  }

  private Embedded control() {
    if (forked != null) {
      throw new UnsupportedOperationException(
          "ZooKeeper " + description + " runs in a JVM of its own: kill() and start() control it");
    }
    if (embedded == null) {
      throw new UnsupportedOperationException(
          "ZooKeeper " + description + " is not in-process: use startEmbedded() to control one");
    }
    return embedded;
  }

  private static ZooKeeperTestServer find() {
    String fromEnv = System.getenv(ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      ServerLog.using("ZooKeeper", "from " + ENV + " (" + fromEnv + ")");
      return new ZooKeeperTestServer(fromEnv.trim(), "from " + ENV, null, null);
    }
    if (Docker.available()) {
      ZooKeeperTestServer s = Container.start();
      ServerLog.using("ZooKeeper", s.description);
      return s;
    }
    Embedded e = Embedded.start();
    ServerLog.using("ZooKeeper", e.description());
    return new ZooKeeperTestServer(e.connectString(), e.description(), e, e::destroy);
  }

  private static final class Holder {
    static final ZooKeeperTestServer INSTANCE = find();

    static {
      Runtime.getRuntime()
          .addShutdownHook(new Thread(INSTANCE::close, "zookeeper-shared-test-stop"));
    }
  }

  /** Testcontainers path; a separate class so that nothing loads it without Docker. */
  private static final class Container {
    @SuppressWarnings("resource")
    static ZooKeeperTestServer start() {
      org.testcontainers.containers.GenericContainer<?> c =
          new org.testcontainers.containers.GenericContainer<>(
                  org.testcontainers.utility.DockerImageName.parse(IMAGE))
              .withExposedPorts(2181)
              .withEnv("ZOO_4LW_COMMANDS_WHITELIST", "srvr,ruok")
              .waitingFor(org.testcontainers.containers.wait.strategy.Wait.forListeningPort());
      c.start();
      String connect = c.getHost() + ":" + c.getMappedPort(2181);
      return new ZooKeeperTestServer(
          connect, "Testcontainers " + IMAGE + " on " + connect, null, c::stop);
    }
  }

  /**
   * In-process server. Its classes are referenced only here, so the launcher loads without a
   * ZooKeeper server on the class path when {@value #ENV} or Docker is used.
   */
  private static final class Embedded {
    private static final int TICK_MS = 250;

    private final Path dir;
    private final int port;
    private org.apache.zookeeper.server.ZooKeeperServer server;
    private org.apache.zookeeper.server.ServerCnxnFactory factory;

    private Embedded(Path dir, int port) {
      this.dir = dir;
      this.port = port;
    }

    static Embedded start() {
      // Else ZooKeeper's AdminServer binds port 8080 (when Jetty is on the class path).
      System.setProperty("zookeeper.admin.enableServer", "false");
      Path dir;
      try {
        dir = Files.createTempDirectory("tandem-zookeeper-");
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a ZooKeeper data directory", e);
      }
      RuntimeException last = null;
      for (int attempt = 0; attempt < 5; attempt++) {
        Embedded e = new Embedded(dir, FreePorts.next());
        try {
          e.startAgain();
          return e;
        } catch (RuntimeException ex) {
          last = ex;
          if (!(ex.getCause() instanceof BindException)) {
            break;
          }
          log.info("Port {} was taken meanwhile; trying another", e.port);
        }
      }
      deleteQuietly(dir);
      throw new IllegalStateException("cannot start an embedded ZooKeeper in " + dir, last);
    }

    String connectString() {
      return "127.0.0.1:" + port;
    }

    String description() {
      return "embedded ZooKeeper "
          + org.apache.zookeeper.Version.getFullVersion()
          + " on "
          + connectString()
          + ", data in "
          + dir;
    }

    synchronized void startAgain() {
      if (server != null) {
        return;
      }
      File logs = dir.resolve("log").toFile();
      File snaps = dir.resolve("snap").toFile();
      org.apache.zookeeper.server.ZooKeeperServer zks = null;
      org.apache.zookeeper.server.ServerCnxnFactory f = null;
      try {
        // Both directories under one data dir: the constructor's argument names and where
        // files land disagree (RECIPES.md), which does not matter then.
        zks = new org.apache.zookeeper.server.ZooKeeperServer(snaps, logs, TICK_MS);
        // Short ticks allow short session timeouts in tests; the maximum stays generous.
        zks.setMinSessionTimeout(2 * TICK_MS);
        zks.setMaxSessionTimeout(120_000);
        f =
            org.apache.zookeeper.server.ServerCnxnFactory.createFactory(
                new InetSocketAddress("127.0.0.1", port), 1000);
        f.startup(zks);
        server = zks;
        factory = f;
      } catch (IOException e) {
        stopQuietly(f, zks);
        throw new IllegalStateException("embedded ZooKeeper failed to start on " + port, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopQuietly(f, zks);
        throw new IllegalStateException("interrupted while starting ZooKeeper", e);
      } catch (RuntimeException | Error e) {
        // A failed start leaves non-daemon threads behind: stop them or the JVM hangs.
        stopQuietly(f, zks);
        throw e;
      }
    }

    synchronized void stop() {
      stopQuietly(factory, server);
      factory = null;
      server = null;
    }

    /** Stops the server and deletes its data directory. */
    synchronized void destroy() {
      stop();
      deleteQuietly(dir);
    }

    synchronized void dropConnections() {
      if (factory != null) {
        factory.closeAll(
            org.apache.zookeeper.server.ServerCnxn.DisconnectReason.CLOSE_ALL_CONNECTIONS_FORCED);
      }
    }

    synchronized void expire(long sessionId) {
      if (server == null) {
        throw new IllegalStateException("the embedded ZooKeeper is stopped");
      }
      server.expire(sessionId);
    }

    private static void stopQuietly(
        org.apache.zookeeper.server.ServerCnxnFactory f,
        org.apache.zookeeper.server.ZooKeeperServer zks) {
      try {
        if (f != null) {
          f.shutdown();
        }
      } catch (RuntimeException e) {
        log.warn("ZooKeeper connection factory did not shut down cleanly", e);
      }
      try {
        if (zks != null) {
          zks.shutdown(true);
        }
      } catch (RuntimeException e) {
        log.warn("ZooKeeper server did not shut down cleanly", e);
      }
    }

    private static void deleteQuietly(Path dir) {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        log.debug("cannot delete {}", dir, e);
      }
    }
  }

  /**
   * A standalone {@code ZooKeeperServerMain} in a forked JVM, on a data directory and a port that
   * stay the same across {@link #kill()} and {@link #startAgain()}.
   */
  private static final class Forked {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final int TICK_MS = 250;

    private final Path dir;
    private final int port;
    private ForkedJvm jvm;

    private Forked(Path dir, int port) {
      this.dir = dir;
      this.port = port;
    }

    static Forked start() {
      Path dir;
      try {
        dir = Files.createTempDirectory("tandem-zookeeper-fork-");
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a ZooKeeper data directory", e);
      }
      RuntimeException last = null;
      for (int attempt = 0; attempt < 3; attempt++) {
        Forked f = new Forked(dir, FreePorts.next());
        try {
          f.writeConfig();
          f.startAgain();
          return f;
        } catch (RuntimeException e) {
          // Most likely the port was taken meanwhile (the fork exits on a bind error).
          last = e;
          log.info("forked ZooKeeper did not start on port {}: {}", f.port, e.getMessage());
        }
      }
      deleteDir(dir);
      throw new IllegalStateException("cannot start a forked ZooKeeper in " + dir, last);
    }

    private void writeConfig() {
      List<String> lines =
          List.of(
              "tickTime=" + TICK_MS,
              // Short ticks allow short session timeouts in tests; the maximum stays generous.
              "minSessionTimeout=" + 2 * TICK_MS,
              "maxSessionTimeout=120000",
              "dataDir=" + dir.resolve("data"),
              "dataLogDir=" + dir.resolve("log"),
              "clientPortAddress=127.0.0.1",
              "clientPort=" + port,
              // The transaction log is fsynced before a write is acknowledged: FileTxnLog reads
              // the system property zookeeper.forceSync, "yes" unless "no" (checked in the 3.9.4
              // jar); the config file's forceSync becomes that property. ZooKeeper's default,
              // written out because [E6] depends on it.
              "forceSync=yes",
              "admin.enableServer=false",
              "4lw.commands.whitelist=srvr");
      try {
        Files.createDirectories(dir);
        try (Writer w = Files.newBufferedWriter(dir.resolve("zoo.cfg"), StandardCharsets.UTF_8)) {
          for (String line : lines) {
            w.write(line);
            w.write('\n');
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + dir.resolve("zoo.cfg"), e);
      }
    }

    String connectString() {
      return "127.0.0.1:" + port;
    }

    String description() {
      return "forked ZooKeeper "
          + org.apache.zookeeper.Version.getFullVersion()
          + " (standalone, forceSync=yes) on "
          + connectString()
          + ", data in "
          + dir;
    }

    /** Starts the JVM unless it runs; returns when the server answers {@code srvr}. */
    synchronized void startAgain() {
      if (jvm != null && jvm.alive()) {
        return;
      }
      if (jvm != null) {
        jvm.close();
        jvm = null;
      }
      long t0 = System.nanoTime();
      ForkedJvm f =
          ForkedJvm.builder("zookeeper-" + port, "org.apache.zookeeper.server.ZooKeeperServerMain")
              .jvmOptions(
                  List.of(
                      "-Dzookeeper.forceSync=yes",
                      "-Dzookeeper.admin.enableServer=false",
                      "-Dorg.slf4j.simpleLogger.defaultLogLevel=info"))
              .args(List.of(dir.resolve("zoo.cfg").toString()))
              .start();
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      try {
        while (!serving()) {
          if (!f.alive() || System.nanoTime() > deadline) {
            f.close();
            throw new IllegalStateException(
                "forked ZooKeeper on port "
                    + port
                    + (f.alive() ? " did not serve within " + START_TIMEOUT : " exited")
                    + "; log: target/forks/zookeeper-"
                    + port
                    + ".log");
          }
          TimeUnit.MILLISECONDS.sleep(100);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        f.close();
        throw new IllegalStateException("interrupted while starting ZooKeeper", e);
      }
      jvm = f;
      log.info(
          "forked ZooKeeper serves on {} after {} ms (pid {})",
          connectString(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
          f.pid());
    }

    /**
     * Whether the server serves: the {@code srvr} four-letter word answers with its mode once the
     * data is loaded ("not currently serving requests" before; the port accepts earlier).
     */
    private boolean serving() {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
        s.setSoTimeout(5_000);
        s.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        return answer.contains("Mode: standalone");
      } catch (IOException e) {
        return false;
      }
    }

    synchronized void kill() {
      if (jvm == null || !jvm.alive()) {
        throw new IllegalStateException("the forked ZooKeeper on " + connectString() + " is down");
      }
      try {
        jvm.kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while killing ZooKeeper", e);
      }
      jvm.close();
      jvm = null;
    }

    /** Kills the server if it runs and deletes its data directory; idempotent. */
    synchronized void destroy() {
      if (jvm != null) {
        jvm.close();
        jvm = null;
      }
      deleteDir(dir);
    }

    private static void deleteDir(Path dir) {
      try (Stream<Path> files = Files.exists(dir) ? Files.walk(dir) : Stream.empty()) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        log.debug("cannot delete {}", dir, e);
      }
    }
  }
}
