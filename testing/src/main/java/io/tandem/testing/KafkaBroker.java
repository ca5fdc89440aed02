package io.tandem.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka broker for tests and demos: {@link #shared()} for a test run, {@link #start(Path)} for a
 * program that wants its own.
 *
 * <p>{@link #shared()} follows the launcher order: the address in {@value #ENV} (a user's own
 * cluster), else a Testcontainers {@code apache/kafka} container when a Docker engine answers, else
 * an in-process KRaft combined node ({@code kafka_2.13}) on random free loopback ports (in a forked
 * JVM when {@code kafka_2.13} is not on the class path, or {@value #FORK_PROPERTY} is set). The
 * embedded node is configured for one machine: every replication factor and {@code
 * min.insync.replicas} 1, no initial rebalance delay, session timeouts down to {@value
 * #MIN_SESSION_TIMEOUT_MS} ms allowed, so tests can provoke rebalances quickly.
 *
 * <p>This class has no JUnit dependency: the CLI demo starts a broker from a plain {@code main}.
 * The embedded path needs {@code org.apache.kafka:kafka_2.13} on the class path (optional in this
 * module: declare it where you use it); every path needs {@code kafka-clients}.
 */
public final class KafkaBroker implements AutoCloseable {

  /**
   * Environment variable naming an existing cluster's bootstrap servers ({@code host:port,...}).
   */
  public static final String ENV = "TANDEM_KAFKA_BOOTSTRAP";

  /**
   * System property: {@code true} runs the shared embedded broker in a forked JVM (its class path
   * resolved by Maven) even when {@code kafka_2.13} is on the class path. Without {@code
   * kafka_2.13} on the class path the broker is always forked.
   */
  public static final String FORK_PROPERTY = "tandem.kafka.fork";

  /** The smallest consumer session timeout the embedded broker accepts, in milliseconds. */
  public static final int MIN_SESSION_TIMEOUT_MS = 500;

  private static final Logger log = LoggerFactory.getLogger(KafkaBroker.class);

  private final String bootstrapServers;
  private final String description;
  private final AutoCloseable server;
  private final AtomicBoolean closed = new AtomicBoolean();

  private KafkaBroker(String bootstrapServers, String description, AutoCloseable server) {
    this.bootstrapServers = bootstrapServers;
    this.description = description;
    this.server = server;
  }

  /** The kafka-clients version on the class path, from the properties file inside its jar. */
  static String clientVersion() {
    try (InputStream in = Admin.class.getResourceAsStream("/kafka/kafka-version.properties")) {
      Properties props = new Properties();
      if (in != null) {
        props.load(in);
      }
      return props.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  static KafkaBroker containerized(String bootstrapServers, String description, Runnable stop) {
    return new KafkaBroker(bootstrapServers, description, stop::run);
  }

  private static final class Shared {
    static final KafkaBroker INSTANCE = create();

    private static KafkaBroker create() {
      KafkaBroker broker = startShared();
      ServerLog.using("Kafka", broker.description());
      Runtime.getRuntime()
          .addShutdownHook(new Thread(broker::close, "tandem-kafka-broker-shutdown"));
      return broker;
    }
  }

  /**
   * The broker of this JVM, started on first use and stopped by a shutdown hook. Do not close it.
   *
   * @return the shared broker
   * @throws IllegalStateException if no broker could be started
   */
  public static KafkaBroker shared() {
    return Shared.INSTANCE;
  }

  private static KafkaBroker startShared() {
    String env = System.getenv(ENV);
    if (env != null && !env.isBlank()) {
      return new KafkaBroker(env.trim(), "from " + ENV + " (" + env.trim() + ")", () -> {});
    }
    if (Docker.available()) {
      return KafkaContainers.start();
    }
    try {
      Path dir = Files.createTempDirectory("tandem-kafka-");
      if (forkRequired()) {
        return forked(dir);
      }
      return start(dir, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory for Kafka", e);
    }
  }

  /**
   * Whether the shared broker runs in a forked JVM: asked by {@value #FORK_PROPERTY}{@code =true},
   * or forced when {@code kafka_2.13} is not on this class path (a module whose framework brings
   * its own kafka-clients, such as Spark, keeps the broker off its class path).
   */
  private static boolean forkRequired() {
    if (Boolean.getBoolean(FORK_PROPERTY)) {
      return true;
    }
    try {
      Class.forName("kafka.server.KafkaRaftServer", false, KafkaBroker.class.getClassLoader());
      return false;
    } catch (ClassNotFoundException e) {
      return true;
    }
  }

  private static KafkaBroker forked(Path dir) {
    ForkedKafka fork = ForkedKafka.start(dir, true);
    return new KafkaBroker(
        fork.bootstrapServers(),
        "forked KRaft kafka_2.13 "
            + ForkedKafka.version()
            + " on "
            + fork.bootstrapServers()
            + " (pid "
            + fork.pid()
            + ", dir "
            + dir
            + ")",
        fork);
  }

  /**
   * Starts a new in-process KRaft broker in a fresh temporary directory, deleted on {@link
   * #close()}.
   *
   * @return the running broker; the caller closes it
   * @throws IllegalStateException if the broker does not start
   */
  public static KafkaBroker start() {
    try {
      return start(Files.createTempDirectory("tandem-kafka-"), true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory for Kafka", e);
    }
  }

  /**
   * Starts a new in-process KRaft broker whose log lives in {@code dir}: formatted first if it
   * holds no Kafka log yet, reused (topics and records kept) if it does. Ports are new at every
   * start.
   *
   * @param dir the log directory; created if missing, kept on {@link #close()}
   * @return the running broker; the caller closes it
   * @throws IllegalStateException if the broker does not start
   */
  public static KafkaBroker start(Path dir) {
    return start(dir, false);
  }

  private static KafkaBroker start(Path dir, boolean deleteOnClose) {
    Objects.requireNonNull(dir, "dir must not be null");
    EmbeddedKafka embedded = EmbeddedKafka.start(dir.toAbsolutePath(), deleteOnClose);
    return new KafkaBroker(
        embedded.bootstrapServers(),
        "embedded KRaft kafka_2.13 "
            + EmbeddedKafka.version()
            + " on "
            + embedded.bootstrapServers()
            + " (log "
            + dir.toAbsolutePath()
            + ")",
        embedded);
  }

  /**
   * The address clients use.
   *
   * @return {@code host:port[,host:port...]}
   */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /**
   * Which broker this is, for logs.
   *
   * @return e.g. {@code embedded KRaft kafka_2.13 4.4.0 on 127.0.0.1:40123 (log /tmp/...)}
   */
  public String description() {
    return description;
  }

  /**
   * The minimal client configuration: {@code bootstrap.servers}.
   *
   * @return a new mutable map
   */
  public Map<String, Object> clientProperties() {
    Map<String, Object> props = new HashMap<>();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return props;
  }

  /**
   * Client properties for a producer whose input a test relies on: idempotent, {@code acks=all},
   * one request in flight and patient timeouts. On a starved machine (2 cores, several servers) a
   * timed-out request with several in flight made the idempotent producer restart its sequence
   * numbers; the broker then refused every batch with OutOfOrderSequenceException until they
   * expired, two minutes later. With one in flight a retry resends the same sequence.
   *
   * @return new mutable properties; add serializers or pass them to the constructor
   */
  public Map<String, Object> producerProperties() {
    Map<String, Object> props = clientProperties();
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 60_000);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 180_000);
    return props;
  }

  /**
   * A new admin client on this broker.
   *
   * @return the client; the caller closes it
   */
  public Admin admin() {
    return Admin.create(clientProperties());
  }

  /**
   * Creates a topic and waits until it exists. An existing topic is left as it is.
   *
   * @param name the topic
   * @param partitions the number of partitions
   * @throws IllegalStateException if the broker refuses or does not answer within 30 s
   */
  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, Map.of());
  }

  /**
   * Creates a topic with topic configuration (for example {@code retention.ms}) and waits until it
   * exists. An existing topic is left as it is.
   *
   * @param name the topic
   * @param partitions the number of partitions
   * @param configs topic configuration entries
   * @throws IllegalStateException if the broker refuses or does not answer within 30 s
   */
  public void createTopic(String name, int partitions, Map<String, String> configs) {
    NewTopic topic = new NewTopic(name, partitions, (short) 1).configs(configs);
    try (Admin admin = admin()) {
      admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
      // Metadata reaches the broker a moment after the controller answers: wait until it
      // describes every partition, so the first produce does not race topic creation.
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (true) {
        int seen = 0;
        try {
          // Count only partitions with a leader: a produce before that gets
          // NOT_LEADER_OR_FOLLOWER and retries, slowly on a loaded machine.
          seen =
              (int)
                  admin
                      .describeTopics(List.of(name))
                      .allTopicNames()
                      .get(30, TimeUnit.SECONDS)
                      .get(name)
                      .partitions()
                      .stream()
                      .filter(p -> p.leader() != null && !p.leader().isEmpty())
                      .count();
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
            throw e;
          }
        }
        if (seen == partitions) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "topic "
                  + name
                  + " has "
                  + seen
                  + " partitions with a leader after 30 s, expected "
                  + partitions);
        }
        TimeUnit.MILLISECONDS.sleep(20);
      }
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TopicExistsException) {
        return;
      }
      throw new IllegalStateException(
          "cannot create topic " + name + " on " + bootstrapServers, e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "creating topic " + name + " on " + bootstrapServers + " took more than 30 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topic " + name, e);
    }
  }

  /**
   * Produces string records and waits for every acknowledgement (a test must never miss a failed
   * send), with {@link #producerProperties()}.
   *
   * @param records the records, each naming its topic (and partition, if it matters)
   * @throws IllegalStateException if a send fails or is not acknowledged within 2 minutes
   */
  public void produce(List<ProducerRecord<String, String>> records) {
    try (KafkaProducer<String, String> p =
        new KafkaProducer<>(producerProperties(), new StringSerializer(), new StringSerializer())) {
      List<java.util.concurrent.Future<?>> acks = new java.util.ArrayList<>(records.size());
      for (ProducerRecord<String, String> r : records) {
        acks.add(p.send(r));
      }
      p.flush();
      for (java.util.concurrent.Future<?> ack : acks) {
        ack.get(2, TimeUnit.MINUTES);
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("producing to " + bootstrapServers + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while producing to " + bootstrapServers, e);
    }
  }

  /** Stops the broker if this instance started it. Idempotent; never hangs for long. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      server.close();
    } catch (Exception e) {
      log.warn("stopping Kafka ({}) failed", description, e);
    }
  }

  @Override
  public String toString() {
    return "KafkaBroker[" + description + "]";
  }
}
