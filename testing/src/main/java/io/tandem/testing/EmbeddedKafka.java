package io.tandem.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process KRaft combined node (broker and controller, node id 1) on two free loopback ports.
 * Loaded only on the embedded path, so the other paths need no {@code kafka_2.13}.
 */
final class EmbeddedKafka implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
  private static final int START_ATTEMPTS = 3;
  private static final long STOP_TIMEOUT_SECONDS = 30;

  private final KafkaRaftServer server;
  private final String bootstrapServers;
  private final Path dir;
  private final boolean deleteOnClose;

  private EmbeddedKafka(
      KafkaRaftServer server, String bootstrapServers, Path dir, boolean deleteOnClose) {
    this.server = server;
    this.bootstrapServers = bootstrapServers;
    this.dir = dir;
    this.deleteOnClose = deleteOnClose;
  }

  static String version() {
    return KafkaBroker.clientVersion();
  }

  static EmbeddedKafka start(Path dir, boolean deleteOnClose) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create Kafka log directory " + dir, e);
    }
    RuntimeException last = null;
    // A free port can be taken by another process between FreePorts.next() and the bind:
    // retry with new ports rather than fail the run.
    for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      int brokerPort = FreePorts.next();
      int controllerPort = FreePorts.next();
      Map<String, String> props = KafkaNodeConfig.properties(dir, brokerPort, controllerPort);
      long t0 = System.nanoTime();
      try {
        format(dir);
      } catch (Exception e) {
        throw new IllegalStateException("cannot format the Kafka log directory " + dir, e);
      }
      KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
      try {
        server.startup();
        String bootstrap = "127.0.0.1:" + brokerPort;
        log.info(
            "embedded Kafka started on {} in {} ms (log {})",
            bootstrap,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
            dir);
        return new EmbeddedKafka(server, bootstrap, dir, deleteOnClose);
      } catch (RuntimeException e) {
        last = e;
        log.warn("embedded Kafka start attempt {} failed; stopping its threads", attempt, e);
        // A failed start leaves non-daemon threads: stop them or the JVM never exits.
        stop(server);
      }
    }
    throw new IllegalStateException(
        "embedded Kafka did not start after " + START_ATTEMPTS + " attempts (log " + dir + ")",
        last);
  }

  private static void format(Path dir) throws Exception {
    if (Files.exists(dir.resolve("meta.properties"))) {
      return; // formatted by an earlier start: keep its data
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      new Formatter()
          .setPrintStream(print)
          .setNodeId(1)
          .setClusterId(Uuid.randomUuid().toString())
          .setDirectories(List.of(dir.toString()))
          .setMetadataLogDirectory(dir.toString())
          .setControllerListenerName("CONTROLLER")
          .setReleaseVersion(MetadataVersion.latestProduction())
          .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
          .run();
    }
    log.debug("formatted {}: {}", dir, out.toString(StandardCharsets.UTF_8).trim());
  }

  String bootstrapServers() {
    return bootstrapServers;
  }

  @Override
  public void close() {
    stop(server);
    if (deleteOnClose) {
      deleteTree(dir);
    }
  }

  /** Shuts the server down on a daemon thread, so a stuck shutdown cannot hang the caller. */
  private static void stop(KafkaRaftServer server) {
    Thread stopper =
        new Thread(
            () -> {
              try {
                server.shutdown();
                server.awaitShutdown();
              } catch (RuntimeException e) {
                log.warn("embedded Kafka shutdown failed", e);
              }
            },
            "tandem-kafka-stop");
    stopper.setDaemon(true);
    stopper.start();
    try {
      stopper.join(TimeUnit.SECONDS.toMillis(STOP_TIMEOUT_SECONDS));
      if (stopper.isAlive()) {
        log.warn("embedded Kafka did not stop within {} s; abandoning it", STOP_TIMEOUT_SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  log.debug("cannot delete {}", p, e);
                }
              });
    } catch (IOException e) {
      log.debug("cannot walk {}", root, e);
    }
  }
}
