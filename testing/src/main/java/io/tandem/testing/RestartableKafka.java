package io.tandem.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A one-node KRaft broker in a forked JVM of its own that a test may kill (SIGKILL), stop cleanly
 * (SIGTERM) and start again on the same log directory and the same ports, so that clients keep
 * their bootstrap address across the bounce. Its class path is resolved from the local Maven
 * repository ({@code kafka_2.13}), so the test JVM needs no broker jar. Not the shared broker:
 * every instance is private to its caller, who closes it (which deletes its log).
 */
public final class RestartableKafka implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RestartableKafka.class);

  private final Path dir;
  private final int brokerPort;
  private final int controllerPort;
  private ForkedKafka fork;
  private int bounces;

  private RestartableKafka(Path dir, int brokerPort, int controllerPort) {
    this.dir = dir;
    this.brokerPort = brokerPort;
    this.controllerPort = controllerPort;
  }

  /**
   * Formats a fresh log directory and starts the broker on free loopback ports.
   *
   * @return the running broker; the caller closes it
   * @throws IllegalStateException if it does not start
   */
  public static RestartableKafka start() {
    Path dir;
    try {
      dir = Files.createTempDirectory("tandem-kafka-bounce-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory for Kafka", e);
    }
    RestartableKafka k = new RestartableKafka(dir, FreePorts.next(), FreePorts.next());
    k.startFork();
    ServerLog.using("Kafka (restartable)", k.description());
    return k;
  }

  private void startFork() {
    // A port freed by the killed broker is normally bindable again at once (SO_REUSEADDR is
    // Kafka's default); a few attempts cover a slow release.
    IllegalStateException last = null;
    for (int attempt = 1; attempt <= 3; attempt++) {
      try {
        fork = ForkedKafka.start(dir, false, brokerPort, controllerPort);
        return;
      } catch (IllegalStateException e) {
        last = e;
        log.warn("forked Kafka did not start on {} (attempt {}): {}", dir, attempt, e.toString());
      }
    }
    throw last;
  }

  /**
   * The address clients use; the same across restarts.
   *
   * @return {@code 127.0.0.1:port}
   */
  public String bootstrapServers() {
    return "127.0.0.1:" + brokerPort;
  }

  /**
   * How it runs, for logs and reports.
   *
   * @return one line
   */
  public synchronized String description() {
    return "forked KRaft kafka_2.13 "
        + ForkedKafka.version()
        + " on "
        + bootstrapServers()
        + " (log "
        + dir
        + (fork != null && fork.alive() ? ", pid " + fork.pid() : ", not running")
        + ")";
  }

  /** Kills the broker JVM with SIGKILL: no flush, no controlled shutdown. */
  public synchronized void kill() {
    requireRunning().kill();
    fork = null;
    bounces++;
  }

  /** Stops the broker cleanly (SIGTERM: controlled shutdown, logs closed). */
  public synchronized void stop() {
    ForkedKafka f = requireRunning();
    // close() of a fork that does not delete its log is a clean stop only.
    f.close();
    fork = null;
    bounces++;
  }

  /** Starts a stopped or killed broker on the same log directory and ports. */
  public synchronized void restart() {
    if (fork != null) {
      throw new IllegalStateException("the broker is running: " + description());
    }
    startFork();
  }

  /**
   * How many times it was killed or stopped.
   *
   * @return the count
   */
  public synchronized int bounces() {
    return bounces;
  }

  private ForkedKafka requireRunning() {
    if (fork == null) {
      throw new IllegalStateException("the broker is not running: " + description());
    }
    return fork;
  }

  /** Stops the broker if it runs and deletes its log directory; idempotent. */
  @Override
  public synchronized void close() {
    if (fork != null) {
      fork.close();
      fork = null;
    }
    try (Stream<Path> walk = Files.exists(dir) ? Files.walk(dir) : Stream.empty()) {
      walk.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      log.debug("cannot delete {}: {}", dir, e.toString());
    }
  }

  @Override
  public String toString() {
    return description();
  }
}
