package io.tandem.testing;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KRaft combined node (broker and controller, node id 1) in a forked JVM with its own class path
 * ({@code kafka_2.13} and its dependencies, resolved by {@link MavenClassPath}), for test JVMs
 * whose class path must not carry the broker: a framework that brings its own, older {@code
 * kafka-clients} (Spark) cannot share a class path with {@code kafka_2.13} 4.x. Same configuration
 * as {@link EmbeddedKafka}. The fork runs under {@link ForkWatchdog}, so it dies with the test JVM.
 */
final class ForkedKafka implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ForkedKafka.class);
  private static final long START_TIMEOUT_SECONDS = 180;
  private static final long STOP_GRACE_SECONDS = 30;
  // Logged by KafkaRaftServer when the broker is unfenced and its listeners are open (RECIPES.md).
  private static final String READY_LINE = "Kafka Server started";

  private final Process process;
  private final String bootstrapServers;
  private final Path dir;
  private final boolean deleteOnClose;

  private ForkedKafka(Process process, String bootstrapServers, Path dir, boolean deleteOnClose) {
    this.process = process;
    this.bootstrapServers = bootstrapServers;
    this.dir = dir;
    this.deleteOnClose = deleteOnClose;
  }

  /** The kafka_2.13 version to fork: {@code -Dtandem.kafka.version}, else this build's. */
  static String version() {
    String v = System.getProperty("tandem.kafka.version");
    if (v != null && !v.isBlank()) {
      return v.trim();
    }
    try (InputStream in = ForkedKafka.class.getResourceAsStream("versions.properties")) {
      Properties props = new Properties();
      if (in == null) {
        throw new IllegalStateException("io/tandem/testing/versions.properties is missing");
      }
      props.load(in);
      return props.getProperty("kafka.version");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read io/tandem/testing/versions.properties", e);
    }
  }

  private static String slf4jVersion() {
    try (InputStream in = ForkedKafka.class.getResourceAsStream("versions.properties")) {
      Properties props = new Properties();
      props.load(in);
      return props.getProperty("slf4j.version");
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("cannot read io/tandem/testing/versions.properties", e);
    }
  }

  static ForkedKafka start(Path dir, boolean deleteOnClose) {
    return start(dir, deleteOnClose, FreePorts.next(), FreePorts.next());
  }

  /** Starts on the given ports: a restart on the same log keeps the address clients know. */
  static ForkedKafka start(Path dir, boolean deleteOnClose, int brokerPort, int controllerPort) {
    String version = version();
    String slf4j = slf4jVersion();
    String classPath =
        MavenClassPath.of(
                "kafka_2.13-" + version,
                List.of(
                    "org.apache.kafka:kafka_2.13:" + version,
                    "org.slf4j:slf4j-api:" + slf4j,
                    "org.slf4j:slf4j-simple:" + slf4j))
            + File.pathSeparator
            + ownLocation();
    try {
      Files.createDirectories(dir);
      Path config = dir.resolve("server.properties");
      Properties props = new Properties();
      props.putAll(KafkaNodeConfig.properties(dir.resolve("log"), brokerPort, controllerPort));
      try (Writer w = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
        props.store(w, "tandem-testing forked KRaft node");
      }
      long t0 = System.nanoTime();
      if (!Files.exists(dir.resolve("log").resolve("meta.properties"))) {
        format(classPath, config, dir);
      }
      List<String> cmd = new ArrayList<>();
      cmd.add(java());
      cmd.add("-Xms128m");
      cmd.add("-Xmx512m");
      cmd.add("-XX:+UseSerialGC");
      cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=info");
      cmd.add("-D" + ForkWatchdog.PARENT_PID + "=" + ProcessHandle.current().pid());
      cmd.add(
          "-D"
              + ForkWatchdog.MAX_LIFETIME
              + "="
              + System.getProperty("tandem.kafka.maxLifetime", "PT90M"));
      cmd.add("-cp");
      cmd.add(classPath);
      cmd.add(ForkWatchdog.class.getName());
      cmd.add("kafka.Kafka");
      cmd.add(config.toString());
      Path logFile = dir.resolve("broker.log");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      CountDownLatch ready = new CountDownLatch(1);
      Thread pump = new Thread(() -> pump(p, logFile, ready), "tandem-kafka-fork-log");
      pump.setDaemon(true);
      pump.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
      while (!ready.await(200, TimeUnit.MILLISECONDS)) {
        if (!p.isAlive() || System.nanoTime() > deadline) {
          p.destroyForcibly();
          throw new IllegalStateException(
              "forked Kafka "
                  + version
                  + " did not start ("
                  + (p.isAlive() ? "no '" + READY_LINE + "' in time" : "exited")
                  + "); log: "
                  + logFile
                  + "\n"
                  + tail(logFile));
        }
      }
      String bootstrap = "127.0.0.1:" + brokerPort;
      log.info(
          "forked Kafka {} started on {} in {} ms (pid {}, dir {})",
          version,
          bootstrap,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
          p.pid(),
          dir);
      return new ForkedKafka(p, bootstrap, dir, deleteOnClose);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fork Kafka in " + dir, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting Kafka", e);
    }
  }

  private static void format(String classPath, Path config, Path dir)
      throws IOException, InterruptedException {
    List<String> cmd =
        List.of(
            java(),
            "-Xmx256m",
            "-cp",
            classPath,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            clusterId(),
            "-c",
            config.toString());
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("format.log").toFile())
            .start();
    if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "formatting the Kafka log directory failed; see " + dir.resolve("format.log"));
    }
  }

  /** A random cluster id as Kafka writes one: 16 random bytes, URL-safe base64, no padding. */
  private static String clusterId() {
    SecureRandom random = new SecureRandom();
    while (true) {
      byte[] bytes = new byte[16];
      random.nextBytes(bytes);
      String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
      // Kafka's Uuid.randomUuid() rejects ids that start with '-' (they read as CLI options).
      if (!id.startsWith("-")) {
        return id;
      }
    }
  }

  private static void pump(Process p, Path logFile, CountDownLatch ready) {
    try (BufferedReader r =
            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        Writer out =
            Files.newBufferedWriter(
                logFile,
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
      String line;
      while ((line = r.readLine()) != null) {
        out.write(line);
        out.write('\n');
        out.flush();
        if (line.contains(READY_LINE)) {
          ready.countDown();
        }
      }
    } catch (IOException e) {
      // The process is gone; start() sees it exit.
    }
  }

  private static String tail(Path logFile) {
    try (Stream<String> lines = Files.lines(logFile)) {
      List<String> all = lines.toList();
      return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(no log: " + e + ")";
    }
  }

  String bootstrapServers() {
    return bootstrapServers;
  }

  long pid() {
    return process.pid();
  }

  /** SIGKILL: the broker gets no chance to flush or to close its log cleanly. */
  void kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("forked Kafka (pid " + pid() + ") survived SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGTERM (a clean stop, exit status 143), SIGKILL after a grace period; deletes its data. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(STOP_GRACE_SECONDS, TimeUnit.SECONDS)) {
        log.warn(
            "forked Kafka (pid {}) did not stop in {} s; killing it", pid(), STOP_GRACE_SECONDS);
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    if (deleteOnClose) {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      } catch (IOException | UncheckedIOException e) {
        log.debug("cannot delete {}: {}", dir, e.toString());
      }
    }
  }

  private static String java() {
    return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Where this class was loaded from (a jar or a classes directory): it holds ForkWatchdog. */
  private static String ownLocation() {
    try {
      return Paths.get(
              ForkedKafka.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
