package io.tandem.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Redis server for tests.
 *
 * <p>{@link #shared()} follows the launcher order: the address in the environment variable {@value
 * #ENV} (a user's own server, e.g. {@code redis://127.0.0.1:6379}), else Testcontainers' {@code
 * redis:7.2} image when a Docker engine answers, else an embedded {@code redis-server} process. The
 * embedded process is Debian's {@code /usr/bin/redis-server} when installed ({@code apt-get install
 * redis-server}, Redis 7.0), else the Redis 6.2 binary shipped inside {@code
 * com.github.codemonstur:embedded-redis} (which must then be on the test class path). Either runs
 * on a random loopback port with AOF on, {@code appendfsync} from the system property {@value
 * #FSYNC_PROPERTY} (default {@code always}), and its data under a temporary directory.
 *
 * <p>{@link #startPrivate(String)} starts an embedded server of one's own, for tests that stop,
 * kill or restart it ({@link #restart()}, {@link #kill()}); such tests cannot run against a user's
 * server or a container.
 */
public final class RedisServer implements AutoCloseable {

  /** Environment variable with the address of an existing Redis server. */
  public static final String ENV = "TANDEM_REDIS_URL";

  /** System property: {@code appendfsync} of the shared embedded server. */
  public static final String FSYNC_PROPERTY = "tandem.redis.appendfsync";

  /**
   * System property: path of a {@code redis-server} binary to use instead of the default ones, or
   * {@code embedded-redis} for the binary in the embedded-redis jar even when Debian's is
   * installed.
   */
  public static final String BINARY_PROPERTY = "tandem.redis.binary";

  private static final Logger log = LoggerFactory.getLogger(RedisServer.class);
  private static final String DEBIAN_BINARY = "/usr/bin/redis-server";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);

  private static volatile RedisServer shared;

  private final String how;
  private final Path binary;
  private final Path dir;
  private final String appendfsync;
  private final URI external;
  private final AutoCloseable container;
  private int port;
  private Process process;

  private RedisServer(
      String how,
      Path binary,
      Path dir,
      String appendfsync,
      URI external,
      AutoCloseable container) {
    this.how = how;
    this.binary = binary;
    this.dir = dir;
    this.appendfsync = appendfsync;
    this.external = external;
    this.container = container;
  }

  /**
   * The server shared by every test of this JVM, started on first use and stopped at exit.
   *
   * @return the shared server
   */
  public static RedisServer shared() {
    RedisServer s = shared;
    if (s == null) {
      synchronized (RedisServer.class) {
        s = shared;
        if (s == null) {
          s = startShared();
          shared = s;
        }
      }
    }
    return s;
  }

  private static RedisServer startShared() {
    String env = System.getenv(ENV);
    if (env != null && !env.isBlank()) {
      RedisServer s =
          new RedisServer("from " + ENV, null, null, null, URI.create(env.trim()), null);
      ServerLog.using("Redis", "from " + ENV + " (" + mask(env.trim()) + ")");
      return s;
    }
    if (Docker.available()) {
      RedisServer s = Containers.start();
      ServerLog.using("Redis", s.how + " on " + s.uri());
      return s;
    }
    RedisServer s = startPrivate(System.getProperty(FSYNC_PROPERTY, "always"));
    ServerLog.using("Redis", s.how + " on " + s.uri());
    Runtime.getRuntime().addShutdownHook(new Thread(s::close, "redis-server-stop"));
    return s;
  }

  /**
   * Starts an embedded server of one's own (never a user's server or a container), with AOF on. The
   * caller closes it.
   *
   * @param appendfsync {@code always}, {@code everysec} or {@code no}
   * @return the running server
   */
  public static RedisServer startPrivate(String appendfsync) {
    return startPrivate(appendfsync, true);
  }

  /**
   * Starts an embedded server of one's own. The caller closes it.
   *
   * @param appendfsync {@code always}, {@code everysec} or {@code no}
   * @param appendonly whether AOF is on
   * @return the running server
   */
  public static RedisServer startPrivate(String appendfsync, boolean appendonly) {
    return startPrivate(appendfsync, appendonly, List.of());
  }

  /**
   * Starts an embedded server of one's own with extra configuration lines (such as {@code
   * rename-command CONFIG ""} or {@code replicaof 127.0.0.1 <port>}). The caller closes it.
   *
   * @param appendfsync {@code always}, {@code everysec} or {@code no}
   * @param appendonly whether AOF is on
   * @param extraConfig lines appended to the generated {@code redis.conf}
   * @return the running server
   */
  public static RedisServer startPrivate(
      String appendfsync, boolean appendonly, List<String> extraConfig) {
    if (!List.of("always", "everysec", "no").contains(appendfsync)) {
      throw new IllegalArgumentException(
          "appendfsync must be always, everysec or no, got '" + appendfsync + "'");
    }
    Path binary = binary();
    try {
      Path dir = Files.createTempDirectory("tandem-redis-");
      String version = binary.toString().equals(DEBIAN_BINARY) ? "Debian" : "embedded-redis";
      RedisServer s =
          new RedisServer(
              "embedded redis-server (" + version + ", " + binary + ", data " + dir + ")",
              binary,
              dir,
              appendfsync,
              null,
              null);
      s.writeConfig(appendonly, extraConfig);
      s.port = FreePorts.next();
      s.launch();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start redis-server " + binary, e);
    }
  }

  /**
   * The server's address, such as {@code redis://127.0.0.1:40123}.
   *
   * @return the URI for {@code redis://} stores
   */
  public synchronized String uri() {
    if (external != null) {
      return external.toString();
    }
    return "redis://127.0.0.1:" + port;
  }

  /**
   * The host to connect to.
   *
   * @return the host
   */
  public synchronized String host() {
    return external != null ? external.getHost() : "127.0.0.1";
  }

  /**
   * The port to connect to.
   *
   * @return the port
   */
  public synchronized int port() {
    if (external != null) {
      return external.getPort() < 0 ? 6379 : external.getPort();
    }
    return port;
  }

  /**
   * How the server was obtained, for logs.
   *
   * @return a description
   */
  public String description() {
    return how;
  }

  /**
   * Whether this is an embedded process this JVM controls (so {@link #restart()} works).
   *
   * @return true for embedded servers
   */
  public boolean embedded() {
    return binary != null;
  }

  /**
   * Stops the server cleanly (SIGTERM: Redis fsyncs its AOF) and starts it again on the same data
   * directory and, if still free, the same port.
   *
   * @throws IllegalStateException if this server is not embedded
   */
  public synchronized void restart() {
    requireEmbedded();
    stopProcess(false);
    launchOnSamePortOrNew();
  }

  /**
   * Kills the server (SIGKILL: nothing is flushed beyond what {@code appendfsync} already did) and
   * starts it again on the same data directory.
   *
   * @throws IllegalStateException if this server is not embedded
   */
  public synchronized void killAndRestart() {
    requireEmbedded();
    stopProcess(true);
    launchOnSamePortOrNew();
  }

  /**
   * Kills the server (SIGKILL) and leaves it down until {@link #start()}.
   *
   * @throws IllegalStateException if this server is not embedded
   */
  public synchronized void kill() {
    requireEmbedded();
    stopProcess(true);
  }

  /**
   * Starts a stopped server on its data directory.
   *
   * @throws IllegalStateException if this server is not embedded
   */
  public synchronized void start() {
    requireEmbedded();
    if (process == null || !process.isAlive()) {
      launchOnSamePortOrNew();
    }
  }

  /** Stops the server (embedded) or the container; a user's server is left alone. */
  @Override
  public synchronized void close() {
    if (binary != null) {
      stopProcess(false);
      deleteDir();
    }
    if (container != null) {
      try {
        container.close();
      } catch (Exception e) {
        log.warn("Stopping the Redis container failed", e);
      }
    }
  }

  private void deleteDir() {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.debug("Could not delete {}", dir, e);
    }
  }

  private void requireEmbedded() {
    if (binary == null) {
      throw new IllegalStateException(
          "only an embedded Redis (RedisServer.startPrivate) can be stopped or restarted; this one"
              + " is "
              + how);
    }
  }

  private void launchOnSamePortOrNew() {
    try {
      launch();
    } catch (IllegalStateException e) {
      log.warn("Restart on port {} failed ({}); trying a new port", port, e.getMessage());
      port = FreePorts.next();
      launch();
    }
  }

  private void writeConfig(boolean appendonly, List<String> extraConfig) throws IOException {
    // A config file rather than command-line flags: Redis 6.2 parses an empty `--save ""` badly.
    List<String> lines = new ArrayList<>();
    lines.add("bind 127.0.0.1");
    lines.add("protected-mode no");
    lines.add("dir " + dir.toAbsolutePath());
    lines.add("save \"\"");
    lines.add("appendonly " + (appendonly ? "yes" : "no"));
    lines.add("appendfsync " + appendfsync);
    lines.add("daemonize no");
    lines.add("logfile " + dir.resolve("redis.log").toAbsolutePath());
    lines.addAll(extraConfig);
    Files.write(dir.resolve("redis.conf"), lines, StandardCharsets.UTF_8);
  }

  private void launch() {
    try {
      ProcessBuilder pb =
          new ProcessBuilder(
                  binary.toString(),
                  dir.resolve("redis.conf").toString(),
                  "--port",
                  String.valueOf(port))
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("stdout.log").toFile());
      process = pb.start();
      long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException(
              "redis-server exited with " + process.exitValue() + ": " + logTail());
        }
        if (ping()) {
          log.info("redis-server up on 127.0.0.1:{} (pid {})", port, process.pid());
          return;
        }
        TimeUnit.MILLISECONDS.sleep(20);
      }
      process.destroyForcibly();
      throw new IllegalStateException(
          "redis-server did not answer PING within " + READY_TIMEOUT + ": " + logTail());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot launch " + binary, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException("interrupted while starting redis-server", e);
    }
  }

  private boolean ping() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      socket.setSoTimeout(500);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[7];
      int n = in.readNBytes(buf, 0, 7);
      String reply = new String(buf, 0, n, StandardCharsets.US_ASCII);
      // "-LOADING" while the AOF is replayed: not ready yet. "-NOAUTH" (requirepass): ready.
      return reply.equals("+PONG\r\n") || reply.startsWith("-NOAUTH");
    } catch (IOException e) {
      return false;
    }
  }

  private void stopProcess(boolean kill) {
    Process p = process;
    if (p == null || !p.isAlive()) {
      return;
    }
    if (kill) {
      p.destroyForcibly();
    } else {
      p.destroy();
    }
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  private String logTail() {
    try {
      Path logFile = dir.resolve("redis.log");
      Path file = Files.exists(logFile) ? logFile : dir.resolve("stdout.log");
      List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - 15), all.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static Path binary() {
    String configured = System.getProperty(BINARY_PROPERTY);
    if ("embedded-redis".equals(configured)) {
      return extractEmbeddedRedisBinary();
    }
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    Path debian = Path.of(DEBIAN_BINARY);
    if (Files.isExecutable(debian)) {
      return debian;
    }
    return extractEmbeddedRedisBinary();
  }

  private static Path extracted;

  private static synchronized Path extractEmbeddedRedisBinary() {
    if (extracted != null && Files.isExecutable(extracted)) {
      return extracted;
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String resource;
    if (os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
      resource = "redis-server-6.2.6-v5-linux-amd64";
    } else if (os.contains("linux") && arch.equals("aarch64")) {
      resource = "redis-server-6.2.7-linux-arm64";
    } else if (os.contains("mac") && arch.equals("aarch64")) {
      resource = "redis-server-6.2.6-v5-darwin-arm64";
    } else if (os.contains("mac")) {
      resource = "redis-server-6.2.6-v5-darwin-amd64";
    } else {
      throw new IllegalStateException(
          "no embedded redis-server for "
              + os
              + "/"
              + arch
              + ": install redis-server, set -D"
              + BINARY_PROPERTY
              + "=<path> or "
              + ENV);
    }
    try (InputStream in = RedisServer.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            "neither "
                + DEBIAN_BINARY
                + " nor the embedded-redis jar ("
                + resource
                + ") is available: add com.github.codemonstur:embedded-redis to the test class"
                + " path, apt-get install redis-server, or set "
                + ENV);
      }
      Path dir = Files.createTempDirectory("tandem-redis-bin-");
      Path target = dir.resolve(resource);
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwx------"));
      target.toFile().deleteOnExit();
      dir.toFile().deleteOnExit();
      extracted = target;
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract " + resource, e);
    }
  }

  private static String mask(String uri) {
    return uri.replaceAll("(//[^:/@?#]*:)[^@/?#]*@", "$1****@");
  }

  /** Kept apart so that Testcontainers classes load only when Docker answers. */
  private static final class Containers {
    static RedisServer start() {
      String fsync = System.getProperty(FSYNC_PROPERTY, "always");
      org.testcontainers.containers.GenericContainer<?> c =
          new org.testcontainers.containers.GenericContainer<>(
                  org.testcontainers.utility.DockerImageName.parse("redis:7.2"))
              .withExposedPorts(6379)
              .withCommand("redis-server", "--appendonly", "yes", "--appendfsync", fsync);
      c.start();
      URI uri = URI.create("redis://" + c.getHost() + ":" + c.getMappedPort(6379));
      return new RedisServer("Testcontainers redis:7.2", null, null, fsync, uri, c::stop);
    }
  }

  @Override
  public String toString() {
    return "RedisServer[" + how + ", " + uri() + "]";
  }
}
