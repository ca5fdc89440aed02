package io.tandem.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apache Cassandra for tests, one shared instance per JVM.
 *
 * <p>Order: the address in the environment variable {@value #CONTACT_ENV} ({@code
 * host:port[,host:port...][/datacenter]}, datacenter {@code datacenter1} when omitted), else
 * Testcontainers' Cassandra when a Docker engine answers, else {@code
 * org.apache.cassandra:cassandra-all} (version from {@code -Dtandem.cassandra.version}, default
 * {@value #DEFAULT_VERSION}) in a <b>forked</b> JVM.
 *
 * <p>The embedded server runs in its own JVM with its own class path because it owns static state,
 * calls {@code System.exit}, and its netty clashes with the driver's. Its class path is never on a
 * test class path: it is resolved at run time by running {@code mvn dependency:build-classpath} on
 * a one-dependency pom written under {@code ~/.m2/tandem/}, once per machine (the result is cached
 * beside the pom and re-resolved when a listed jar is gone). That needs only Maven Central, which
 * the build needs anyway. The server gets a minimal single-node {@code cassandra.yaml} on 127.0.0.1
 * with random free native and storage ports, data under a temp directory, a logback config, the JDK
 * 17 {@code --add-opens} list from Cassandra's own {@code jvm17-server.options}, and a small heap.
 * It is started once per JVM, stopped at exit (SIGTERM, then SIGKILL after a grace period) and
 * watches its parent: if the test JVM dies without running its hooks, or the fork outlives {@code
 * -Dtandem.cassandra.maxLifetime} (default 60 minutes), it halts itself, so a failed run never
 * leaves a server behind.
 */
public final class CassandraServer implements AutoCloseable {

  /** Environment variable naming an existing cluster: {@code host:port[,...][/datacenter]}. */
  public static final String CONTACT_ENV = "TANDEM_CASSANDRA_CONTACT";

  /** The cassandra-all version forked when {@code -Dtandem.cassandra.version} is not set. */
  public static final String DEFAULT_VERSION = "5.0.9";

  private static final Logger log = LoggerFactory.getLogger(CassandraServer.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(180);
  private static final Duration STOP_GRACE = Duration.ofSeconds(30);
  private static final String READY_LINE = "Startup complete";
  private static final String FAILED_LINE = "Exception encountered during startup";

  private static final Object LOCK = new Object();
  private static CassandraServer shared;

  private final List<InetSocketAddress> contactPoints;
  private final String localDatacenter;
  private final String how;
  private final Fork fork;
  private final AutoCloseable container;

  private CassandraServer(
      List<InetSocketAddress> contactPoints,
      String localDatacenter,
      String how,
      Fork fork,
      AutoCloseable container) {
    this.contactPoints = List.copyOf(contactPoints);
    this.localDatacenter = localDatacenter;
    this.how = how;
    this.fork = fork;
    this.container = container;
  }

  /**
   * The server shared by every test of this JVM, started on first use and stopped at exit.
   *
   * @return the shared server
   */
  public static CassandraServer shared() {
    synchronized (LOCK) {
      if (shared == null) {
        shared = create(true);
        CassandraServer server = shared;
        Runtime.getRuntime()
            .addShutdownHook(new Thread(server::close, "tandem-cassandra-shared-stop"));
      }
      return shared;
    }
  }

  /**
   * A new embedded server of its own, for tests that stop, restart or kill it; the caller closes
   * it. Always the forked launcher, whatever the environment says, because only that one can be
   * killed.
   *
   * @return a started, private server
   */
  public static CassandraServer startPrivate() {
    return startPrivate(Map.of());
  }

  /**
   * Like {@link #startPrivate()}, with {@code cassandra.yaml} settings changed: each entry replaces
   * the launcher's value (a YAML value as text), or removes the setting when the value is null. For
   * example {@code commitlog_sync=batch} with {@code commitlog_sync_period=null}.
   *
   * @param settings the settings to change
   * @return a started, private server
   */
  public static CassandraServer startPrivate(Map<String, String> settings) {
    CassandraServer server = embedded(settings);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "tandem-cassandra-stop"));
    return server;
  }

  private static CassandraServer create(boolean log) {
    String contact = System.getenv(CONTACT_ENV);
    if (contact != null && !contact.isBlank()) {
      CassandraServer server = fromContact(contact.trim());
      ServerLog.using("Cassandra", "from " + CONTACT_ENV + " (" + server.contactString() + ")");
      return server;
    }
    if (Docker.available()) {
      CassandraServer server = Containers.start();
      ServerLog.using("Cassandra", server.how);
      return server;
    }
    return embedded(Map.of());
  }

  private static CassandraServer embedded(Map<String, String> settings) {
    Fork fork = new Fork(version(), settings);
    fork.start();
    CassandraServer server =
        new CassandraServer(
            List.of(new InetSocketAddress("127.0.0.1", fork.nativePort)),
            "datacenter1",
            "embedded cassandra-all "
                + fork.version
                + " (forked JVM) on 127.0.0.1:"
                + fork.nativePort,
            fork,
            null);
    ServerLog.using("Cassandra", server.how + ", data in " + fork.dir);
    return server;
  }

  static CassandraServer fromContact(String contact) {
    String hosts = contact;
    String dc = "datacenter1";
    int slash = contact.indexOf('/');
    if (slash >= 0) {
      hosts = contact.substring(0, slash);
      dc = contact.substring(slash + 1);
    }
    List<InetSocketAddress> points = new ArrayList<>();
    for (String hostPort : hosts.split(",")) {
      String hp = hostPort.trim();
      int colon = hp.lastIndexOf(':');
      if (colon <= 0 || dc.isEmpty()) {
        throw new IllegalArgumentException(
            CONTACT_ENV + " must be host:port[,host:port...][/datacenter], got '" + contact + "'");
      }
      points.add(
          InetSocketAddress.createUnresolved(
              hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1))));
    }
    return new CassandraServer(points, dc, "from " + CONTACT_ENV, null, null);
  }

  private static String version() {
    String v = System.getProperty("tandem.cassandra.version");
    return v == null || v.isBlank() ? DEFAULT_VERSION : v.trim();
  }

  /**
   * Where clients connect.
   *
   * @return the contact points (unresolved for an address from the environment)
   */
  public List<InetSocketAddress> contactPoints() {
    return contactPoints;
  }

  /**
   * The first contact point's host.
   *
   * @return the host
   */
  public String host() {
    return contactPoints.get(0).getHostString();
  }

  /**
   * The first contact point's native (CQL) port.
   *
   * @return the port
   */
  public int port() {
    return contactPoints.get(0).getPort();
  }

  /**
   * The datacenter name to give the driver as local datacenter.
   *
   * @return the datacenter, {@code datacenter1} for the embedded server
   */
  public String localDatacenter() {
    return localDatacenter;
  }

  /**
   * The contact points as {@code host:port[,host:port]}, as a {@code cassandra://} URI wants them.
   *
   * @return the contact string
   */
  public String contactString() {
    StringBuilder sb = new StringBuilder();
    for (InetSocketAddress a : contactPoints) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(a.getHostString()).append(':').append(a.getPort());
    }
    return sb.toString();
  }

  /**
   * Whether this launcher owns the server process and can stop, restart and kill it.
   *
   * @return true for the embedded (forked) server
   */
  public boolean controllable() {
    return fork != null;
  }

  /**
   * Stops the server gracefully (SIGTERM, drain and flush; SIGKILL after a grace period) and starts
   * it again on the same data directory and ports; returns when it accepts CQL again.
   *
   * @throws IllegalStateException if the server is not {@link #controllable()}
   */
  public void restart() {
    requireFork().stop(STOP_GRACE);
    fork.start();
  }

  /**
   * Kills the server with SIGKILL (no drain, no flush: a crash) and waits until the process is
   * gone. {@link #start()} brings it back on the same data, replaying its commit log.
   *
   * @throws IllegalStateException if the server is not {@link #controllable()}
   */
  public void kill() {
    requireFork().kill();
  }

  /**
   * Pauses the server process (SIGSTOP): connections stay open, nothing answers.
   *
   * @throws IllegalStateException if the server is not {@link #controllable()}
   */
  public void pause() {
    requireFork().signal("STOP");
  }

  /**
   * Resumes a server paused by {@link #pause()} (SIGCONT).
   *
   * @throws IllegalStateException if the server is not {@link #controllable()}
   */
  public void resume() {
    requireFork().signal("CONT");
  }

  /**
   * Starts a stopped or killed server on the same data and ports; returns when it accepts CQL.
   *
   * @throws IllegalStateException if the server is not {@link #controllable()}
   */
  public void start() {
    requireFork().start();
  }

  /**
   * The server's log file (embedded server only).
   *
   * @return the log file
   * @throws IllegalStateException if the server is not {@link #controllable()}
   */
  public Path logFile() {
    return requireFork().logFile;
  }

  private Fork requireFork() {
    if (fork == null) {
      throw new IllegalStateException(
          "This Cassandra (" + how + ") is not launched by the test: it cannot be controlled");
    }
    return fork;
  }

  /** Stops the server this launcher started (nothing for an address from the environment). */
  @Override
  public void close() {
    if (fork != null) {
      fork.stop(Duration.ofSeconds(10));
      fork.deleteDir();
    }
    if (container != null) {
      try {
        container.close();
      } catch (Exception e) {
        log.warn("Stopping the Cassandra container failed", e);
      }
    }
  }

  @Override
  public String toString() {
    return "Cassandra " + how;
  }

  /** Testcontainers, kept in its own class so this one loads without it on the class path. */
  private static final class Containers {
    static CassandraServer start() {
      org.testcontainers.cassandra.CassandraContainer c =
          new org.testcontainers.cassandra.CassandraContainer("cassandra:" + version());
      c.start();
      InetSocketAddress point = c.getContactPoint();
      return new CassandraServer(
          List.of(point),
          c.getLocalDatacenter(),
          "Testcontainers cassandra:" + version() + " on " + point,
          null,
          c);
    }
  }

  /** The forked cassandra-all JVM. */
  private static final class Fork {
    final String version;
    final Path dir;
    final Path logFile;
    final int nativePort;
    final int storagePort;
    private Process process;

    Fork(String version, Map<String, String> overrides) {
      this.version = version;
      try {
        this.dir = Files.createTempDirectory("tandem-cassandra-");
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a temp dir for Cassandra", e);
      }
      this.logFile = dir.resolve("cassandra.log");
      this.nativePort = FreePorts.next();
      int storage = FreePorts.next();
      while (storage == nativePort) {
        storage = FreePorts.next();
      }
      this.storagePort = storage;
      writeConfig(overrides);
    }

    private void writeConfig(Map<String, String> overrides) {
      Map<String, String> yaml = new LinkedHashMap<>();
      yaml.put("cluster_name", "tandem-test");
      yaml.put("num_tokens", "1");
      yaml.put("partitioner", "org.apache.cassandra.dht.Murmur3Partitioner");
      yaml.put("endpoint_snitch", "SimpleSnitch");
      // Cassandra's default. A write is acknowledged once appended to the commit log; the log is
      // fsynced, and its new section marked valid, every period. Replay after a crash stops at the
      // first section not marked, so a kill -9 loses up to a period of acknowledged writes on this
      // node (seen in CassandraCrashIT). "batch" or "group" closes that window.
      yaml.put("commitlog_sync", "periodic");
      yaml.put("commitlog_sync_period", "10000ms");
      yaml.put("data_file_directories", "[ \"" + dir.resolve("data") + "\" ]");
      yaml.put("commitlog_directory", "\"" + dir.resolve("commitlog") + "\"");
      yaml.put("saved_caches_directory", "\"" + dir.resolve("saved_caches") + "\"");
      yaml.put("hints_directory", "\"" + dir.resolve("hints") + "\"");
      yaml.put("cdc_raw_directory", "\"" + dir.resolve("cdc_raw") + "\"");
      yaml.put("listen_address", "127.0.0.1");
      yaml.put("rpc_address", "127.0.0.1");
      yaml.put("storage_port", String.valueOf(storagePort));
      yaml.put("native_transport_port", String.valueOf(nativePort));
      yaml.put("start_native_transport", "true");
      yaml.put(
          "seed_provider",
          "\n  - class_name: org.apache.cassandra.locator.SimpleSeedProvider\n"
              + "    parameters:\n"
              + "      - seeds: \"127.0.0.1:"
              + storagePort
              + "\"");
      yaml.put("auto_snapshot", "false");
      // Two cores shared with other builds: default timeouts (2 s write, 1 s CAS contention) time
      // out under load; a test that wants a timeout provokes one.
      yaml.put("write_request_timeout", "5000ms");
      yaml.put("read_request_timeout", "10000ms");
      yaml.put("range_request_timeout", "10000ms");
      yaml.put("cas_contention_timeout", "3000ms");
      overrides.forEach(
          (k, v) -> {
            if (v == null) {
              yaml.remove(k);
            } else {
              yaml.put(k, v);
            }
          });
      StringBuilder text = new StringBuilder();
      yaml.forEach((k, v) -> text.append(k).append(": ").append(v).append('\n'));
      String logback =
          String.join(
              "\n",
              "<configuration>",
              "  <appender name=\"STDOUT\" class=\"ch.qos.logback.core.ConsoleAppender\">",
              "    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} -"
                  + " %msg%n</pattern></encoder>",
              "  </appender>",
              "  <root level=\"INFO\"><appender-ref ref=\"STDOUT\"/></root>",
              "</configuration>",
              "");
      try {
        Files.writeString(dir.resolve("cassandra.yaml"), text.toString());
        Files.writeString(dir.resolve("logback.xml"), logback);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write Cassandra's config in " + dir, e);
      }
    }

    synchronized void start() {
      if (process != null && process.isAlive()) {
        return;
      }
      List<String> cmd = new ArrayList<>();
      cmd.add(javaExecutable());
      cmd.add("-Xms256m");
      cmd.add("-Xmx512m");
      cmd.addAll(JVM_FLAGS);
      cmd.add("-Dcassandra.config=" + dir.resolve("cassandra.yaml").toUri());
      cmd.add("-Dcassandra.storagedir=" + dir);
      cmd.add("-Dlogback.configurationFile=" + dir.resolve("logback.xml"));
      cmd.add("-Dcassandra-foreground=yes");
      cmd.add("-Dcassandra.skip_wait_for_gossip_to_settle=0");
      cmd.add("-D" + ForkWatchdog.PARENT_PID + "=" + ProcessHandle.current().pid());
      cmd.add(
          "-D"
              + ForkWatchdog.MAX_LIFETIME
              + "="
              + System.getProperty("tandem.cassandra.maxLifetime", "PT60M"));
      cmd.add("-cp");
      cmd.add(ServerClassPath.of(version) + java.io.File.pathSeparator + ownLocation());
      cmd.add(ForkWatchdog.class.getName());
      cmd.add("org.apache.cassandra.service.CassandraDaemon");
      long t0 = System.nanoTime();
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
      try {
        process = pb.start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot fork Cassandra: " + cmd.get(0), e);
      }
      CountDownLatch ready = new CountDownLatch(1);
      AtomicReference<String> failure = new AtomicReference<>();
      Process p = process;
      Thread pump = new Thread(() -> pump(p, ready, failure), "tandem-cassandra-log-" + nativePort);
      pump.setDaemon(true);
      pump.start();
      try {
        boolean up = awaitReady(p, ready, failure);
        if (!up) {
          String why = failure.get() != null ? failure.get() : "no '" + READY_LINE + "' in time";
          kill();
          throw new IllegalStateException(
              "Cassandra did not start in "
                  + START_TIMEOUT.toSeconds()
                  + " s: "
                  + why
                  + ". Log: "
                  + logFile
                  + "\n"
                  + tail());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
        throw new IllegalStateException("interrupted while starting Cassandra", e);
      }
      log.info(
          "Cassandra {} up on 127.0.0.1:{} in {} ms (pid {})",
          version,
          nativePort,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
          p.pid());
    }

    private boolean awaitReady(Process p, CountDownLatch ready, AtomicReference<String> failure)
        throws InterruptedException {
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (System.nanoTime() < deadline) {
        if (ready.await(200, TimeUnit.MILLISECONDS)) {
          // The log line comes right after the CQL listener opened; check the port anyway.
          return failure.get() == null && portOpen();
        }
        if (failure.get() != null) {
          return false;
        }
        if (!p.isAlive()) {
          failure.compareAndSet(null, "the process exited with status " + p.exitValue());
          return false;
        }
      }
      return false;
    }

    private boolean portOpen() {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", nativePort), 2000);
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    private void pump(Process p, CountDownLatch ready, AtomicReference<String> failure) {
      try (InputStream in = p.getInputStream();
          BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
          Writer out =
              Files.newBufferedWriter(
                  logFile,
                  StandardCharsets.UTF_8,
                  java.nio.file.StandardOpenOption.CREATE,
                  java.nio.file.StandardOpenOption.APPEND)) {
        String line;
        while ((line = r.readLine()) != null) {
          out.write(line);
          out.write('\n');
          out.flush();
          if (line.contains(FAILED_LINE)) {
            failure.compareAndSet(null, line);
          } else if (line.contains(READY_LINE)) {
            ready.countDown();
          }
        }
      } catch (IOException e) {
        // The process is gone; its exit shows in awaitReady.
      }
    }

    private String tail() {
      try (Stream<String> lines = Files.lines(logFile)) {
        List<String> all = lines.toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
      } catch (IOException | UncheckedIOException e) {
        return "(no log: " + e + ")";
      }
    }

    synchronized void stop(Duration grace) {
      Process p = process;
      if (p == null || !p.isAlive()) {
        return;
      }
      p.destroy(); // SIGTERM: Cassandra drains and flushes, then exits with 143
      try {
        if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          log.warn("Cassandra (pid {}) did not stop in {}; killing it", p.pid(), grace);
          kill();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
      }
    }

    synchronized void kill() {
      Process p = process;
      if (p == null) {
        return;
      }
      p.destroyForcibly(); // SIGKILL
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("Cassandra pid " + p.pid() + " survived SIGKILL");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    synchronized void signal(String signal) {
      Process p = process;
      if (p == null || !p.isAlive()) {
        throw new IllegalStateException("Cassandra is not running");
      }
      try {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(p.pid())).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
          throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed");
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }

    void deleteDir() {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      } catch (IOException | UncheckedIOException e) {
        log.debug("Could not delete {}: {}", dir, e.toString());
      }
    }

    private static String javaExecutable() {
      String override = System.getenv("TANDEM_CASSANDRA_JAVA");
      if (override != null && !override.isBlank()) {
        return override;
      }
      return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Where this class was loaded from: a jar or a classes directory; holds ForkWatchdog. */
    private static String ownLocation() {
      try {
        return Paths.get(
                CassandraServer.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
      } catch (URISyntaxException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /**
   * The JDK 17 flags of Cassandra's {@code conf/jvm17-server.options} (JPMS section). Three {@code
   * --add-opens} are the minimum to start; the rest serve paths the minimum misses (see RECIPES).
   */
  private static final List<String> JVM_FLAGS =
      List.of(
          "-Djdk.attach.allowAttachSelf=true",
          "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
          "--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
          "--add-exports=java.sql/java.sql=ALL-UNNAMED",
          "--add-exports=java.base/java.lang.ref=ALL-UNNAMED",
          "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
          "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
          "--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.module=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.math=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.module=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED",
          "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED",
          "-Dio.netty.tryReflectionSetAccessible=true");

  /** cassandra-all's class path, resolved with Maven once per machine and version. */
  static final class ServerClassPath {
    private ServerClassPath() {}

    static String of(String version) {
      return MavenClassPath.of(
          "cassandra-all-" + version, List.of("org.apache.cassandra:cassandra-all:" + version));
    }
  }
}
