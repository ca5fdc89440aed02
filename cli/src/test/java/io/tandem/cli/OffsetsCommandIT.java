package io.tandem.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.CassandraServer;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.MongoServer;
import io.tandem.testing.PostgresServer;
import io.tandem.testing.RedisServer;
import io.tandem.testing.ZooKeeperTestServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * The admin command end to end through its main entry against real PostgreSQL, Redis, ZooKeeper and
 * Cassandra servers, a MongoDB emulator (mongo-java-server) and a KRaft broker: show, reset (dry
 * run, then execute), export, import into another store, history; refusals and exit statuses. Each
 * command and its output is appended to {@code target/offsets-transcript.txt}.
 */
class OffsetsCommandIT {
  private static final Path TRANSCRIPT = Path.of("target", "offsets-transcript.txt");
  private static final String TOPIC = "orders-" + UUID.randomUUID().toString().substring(0, 8);
  private static KafkaBroker kafka;

  @TempDir Path dir;

  record Result(int status, String out, String err) {}

  @BeforeAll
  static void topic() throws IOException {
    kafka = KafkaBroker.shared();
    kafka.createTopic(TOPIC, 2);
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    IntStream.range(0, 100)
        .forEach(i -> records.add(new ProducerRecord<>(TOPIC, i % 2, "k" + i, "v" + i)));
    kafka.produce(records);
    Files.createDirectories(TRANSCRIPT.getParent());
    Files.deleteIfExists(TRANSCRIPT);
  }

  static Stream<Arguments> stores() {
    String pg = postgres();
    String redis = RedisServer.shared().uri();
    String zk = "zookeeper://" + ZooKeeperTestServer.shared().connectString() + "/tandem-cli-it";
    // Each store's group moves to the next one by export/import.
    return Stream.of(
        Arguments.of("postgresql", pg, redis),
        Arguments.of("redis", redis, zk),
        Arguments.of("zookeeper", zk, pg));
  }

  /**
   * The IDEMPOTENT stores: Cassandra (forked, about a minute to start) and MongoDB (the in-process
   * standalone server). Cassandra's group moves to MongoDB, MongoDB's to PostgreSQL.
   */
  static Stream<Arguments> idempotentStores() {
    String mongo = mongo();
    return Stream.of(
        Arguments.of("cassandra", cassandra(), mongo), Arguments.of("mongodb", mongo, postgres()));
  }

  /** The shared Cassandra, keyspace tandem_cli_it (replication 1, created by the first open). */
  static String cassandra() {
    CassandraServer server = CassandraServer.shared();
    return "cassandra://"
        + server.contactString()
        + "/tandem_cli_it?localDatacenter="
        + server.localDatacenter()
        + "&createSchema=SimpleStrategy:1";
  }

  static String mongo() {
    String uri = MongoServer.inProcess().uri();
    int hosts = uri.indexOf("://") + 3;
    int end = uri.indexOf('/', hosts);
    return (end < 0 ? uri : uri.substring(0, end)) + "/tandem_cli_it";
  }

  static String postgres() {
    PostgresServer pg = PostgresServer.shared();
    String url = pg.jdbcUrl();
    return url
        + (url.contains("?") ? "&" : "?")
        + "user="
        + pg.user()
        + (pg.password() == null ? "" : "&password=" + pg.password());
  }

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Tandem.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int status = cli.execute(args);
    String shown =
        "$ tandem "
            + String.join(" ", args).replaceAll("password=[^&\\s]*", "password=***")
            + "\n"
            + out
            + err
            + "(exit "
            + status
            + ")\n\n";
    try {
      Files.writeString(
          TRANSCRIPT,
          shown,
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return new Result(status, out.toString(), err.toString());
  }

  static Map<Partition, Long> positions(String uri, String group) {
    try (OffsetStore<?> s = OffsetStores.open(uri)) {
      return s.positions(group);
    }
  }

  static void seed(String uri, String group) {
    try (OffsetStore<?> s = OffsetStores.open(uri)) {
      s.initialize(group, Map.of(Partition.of(TOPIC, 0), 0L, Partition.of(TOPIC, 1), 0L));
      s.commit(group, List.of(OffsetRange.of(TOPIC, 0, 0, 30)), ResultWriter.none());
      s.commit(group, List.of(OffsetRange.of(TOPIC, 1, 0, 20)), ResultWriter.none());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("idempotentStores")
  void showResetExportImportHistoryOnIdempotentStores(String name, String uri, String other) {
    showResetExportImportHistory(name, uri, other);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("idempotentStores")
  void storeCheckAndInitOnIdempotentStores(String name, String uri, String other) {
    Result init = run("store", "init", "--store", uri);
    assertThat(init.status()).as(init.err()).isZero();
    Result check = run("store", "check", "--store", uri, "--output", "json");
    assertThat(check.status()).as(check.err()).isZero();
    assertThat(check.out()).contains("\"reachable\": true", "\"guarantee\": \"IDEMPOTENT\"");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stores")
  void showResetExportImportHistory(String name, String uri, String other) {
    String group = "cli-it-" + name + "-" + UUID.randomUUID().toString().substring(0, 6);
    seed(uri, group);
    String broker = kafka.bootstrapServers();
    Partition p0 = Partition.of(TOPIC, 0);
    Partition p1 = Partition.of(TOPIC, 1);

    Result show =
        run("offsets", "show", "--store", uri, "--group", group, "--bootstrap-server", broker);
    assertThat(show.status()).isZero();
    // 100 records, 50 per partition: lag 20 and 30.
    assertThat(show.out())
        .containsPattern(TOPIC + "\\s+0\\s+30\\s+0\\s+50\\s+20")
        .containsPattern(TOPIC + "\\s+1\\s+20\\s+0\\s+50\\s+30")
        .contains("total lag of group '" + group + "': 50");

    Result dry =
        run(
            "offsets",
            "reset",
            "--store",
            uri,
            "--group",
            group,
            "--to-latest",
            "--bootstrap-server",
            broker);
    assertThat(dry.status()).isZero();
    assertThat(dry.out()).containsPattern(TOPIC + "\\s+0\\s+30\\s+50\\s+20").contains("dry run");
    assertThat(positions(uri, group)).containsEntry(p0, 30L).containsEntry(p1, 20L);

    Result exec =
        run(
            "offsets",
            "reset",
            "--store",
            uri,
            "--group",
            group,
            "--partition",
            TOPIC + "-1",
            "--to-earliest",
            "--bootstrap-server",
            broker,
            "--execute",
            "--reason",
            "replay p1");
    assertThat(exec.status()).as(exec.err()).isZero();
    assertThat(positions(uri, group)).containsEntry(p0, 30L).containsEntry(p1, 0L);

    Path file = dir.resolve(group + ".json");
    Result export =
        run("offsets", "export", "--store", uri, "--group", group, "--file", file.toString());
    assertThat(export.status()).isZero();

    Result imp =
        run(
            "offsets",
            "import",
            "--store",
            other,
            "--file",
            file.toString(),
            "--execute",
            "--bootstrap-server",
            broker,
            "--reason",
            "moved from " + name);
    assertThat(imp.status()).as(imp.err()).isZero();
    assertThat(positions(other, group)).isEqualTo(Map.of(p0, 30L, p1, 0L));

    Result history = run("offsets", "history", "--store", uri, "--group", group);
    assertThat(history.status()).isZero();
    assertThat(history.out())
        .containsPattern("reset\\s+" + group + "\\s+" + TOPIC + "-1\\s+20\\s+0\\s+replay p1");
    Result json = run("offsets", "history", "--store", other, "--group", group, "--output", "json");
    assertThat(json.status()).isZero();
    assertThat(json.out())
        .contains("\"action\": \"import\"", "\"reason\": \"moved from " + name + "\"");

    // list hides the history group; delete needs --yes, then removes the group.
    assertThat(run("offsets", "list", "--store", uri).out())
        .contains(group)
        .doesNotContain(History.GROUP);
    assertThat(run("offsets", "delete", "--store", uri, "--group", group, "--force").status())
        .isEqualTo(Tandem.REFUSED);
    assertThat(
            run("offsets", "delete", "--store", uri, "--group", group, "--yes", "--force").status())
        .isZero();
    assertThat(positions(uri, group)).isEmpty();
    assertThat(run("offsets", "show", "--store", uri, "--group", group).status())
        .isEqualTo(Tandem.NOT_FOUND);
  }

  @Test
  void aResetIsRefusedWhileKafkaShowsLiveMembersUnlessForced() throws Exception {
    String uri = postgres();
    String group = "cli-it-live-" + UUID.randomUUID().toString().substring(0, 6);
    seed(uri, group);
    Properties props = new Properties();
    props.putAll(kafka.clientProperties());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    try (KafkaConsumer<String, String> member =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      member.subscribe(List.of(TOPIC));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (member.assignment().isEmpty() && System.nanoTime() < deadline) {
        member.poll(Duration.ofMillis(200));
      }
      assertThat(member.assignment()).isNotEmpty();
      String[] reset = {
        "offsets",
        "reset",
        "--store",
        uri,
        "--group",
        group,
        "--to-offset",
        "5",
        "--bootstrap-server",
        kafka.bootstrapServers(),
        "--execute"
      };
      Result refused = run(reset);
      assertThat(refused.status()).isEqualTo(Tandem.REFUSED);
      assertThat(refused.err()).contains("live member", "--force");
      assertThat(positions(uri, group)).containsEntry(Partition.of(TOPIC, 0), 30L);
      // Without a broker it cannot know: refused too.
      assertThat(
              run(
                      "offsets",
                      "reset",
                      "--store",
                      uri,
                      "--group",
                      group,
                      "--to-offset",
                      "5",
                      "--execute")
                  .status())
          .isEqualTo(Tandem.REFUSED);
      String[] forced =
          Stream.concat(Stream.of(reset), Stream.of("--force")).toArray(String[]::new);
      assertThat(run(forced).status()).isZero();
      assertThat(positions(uri, group)).containsEntry(Partition.of(TOPIC, 0), 5L);
    }
  }

  @Test
  void importFromKafkaAdoptsAGroupAndExportToKafkaLeavesIt() {
    String uri = RedisServer.shared().uri();
    String group = "cli-it-kafka-" + UUID.randomUUID().toString().substring(0, 6);
    seed(uri, group);
    String broker = kafka.bootstrapServers();
    assertThat(
            run(
                    "offsets",
                    "export",
                    "--store",
                    uri,
                    "--group",
                    group,
                    "--to-kafka",
                    "--bootstrap-server",
                    broker)
                .status())
        .isZero();
    try (KafkaOffsets k = new KafkaOffsets(broker)) {
      assertThat(k.committed(group))
          .isEqualTo(Map.of(Partition.of(TOPIC, 0), 30L, Partition.of(TOPIC, 1), 20L));
    }
    String adopted = group + "-adopted";
    Result imp =
        run(
            "offsets",
            "import",
            "--store",
            uri,
            "--from-kafka",
            "--group",
            group,
            "--as",
            adopted,
            "--bootstrap-server",
            broker,
            "--execute");
    assertThat(imp.status()).as(imp.err()).isZero();
    assertThat(positions(uri, adopted))
        .isEqualTo(Map.of(Partition.of(TOPIC, 0), 30L, Partition.of(TOPIC, 1), 20L));
  }

  @Test
  void storeCheckAndInitOnEachServer() {
    for (String uri : stores().map(a -> (String) a.get()[1]).toList()) {
      Result init = run("store", "init", "--store", uri);
      assertThat(init.status()).as(init.err()).isZero();
      Result check = run("store", "check", "--store", uri, "--output", "json");
      assertThat(check.status()).as(check.err()).isZero();
      assertThat(check.out()).contains("\"reachable\": true", "\"guarantee\": \"TRANSACTIONAL\"");
    }
  }

  @Test
  void unreachableStoresUnknownGroupsAndBadUrisAreOneLineAndTheirStatus() {
    Result redis = run("offsets", "list", "--store", "redis://127.0.0.1:1");
    assertThat(redis.status()).isEqualTo(Tandem.UNREACHABLE);
    assertThat(redis.err().strip().lines()).hasSize(1);
    Result pg = run("offsets", "list", "--store", "jdbc:postgresql://127.0.0.1:1/x");
    assertThat(pg.status()).isEqualTo(Tandem.UNREACHABLE);
    assertThat(pg.err().strip().lines()).hasSize(1);
    Result bad = run("offsets", "list", "--store", "not a uri");
    assertThat(bad.status()).isEqualTo(Tandem.USAGE);
    assertThat(bad.err().strip().lines()).hasSize(1);
    Result unknown =
        run("offsets", "show", "--store", RedisServer.shared().uri(), "--group", "no-such-group");
    assertThat(unknown.status()).isEqualTo(Tandem.NOT_FOUND);
    assertThat(unknown.err()).contains("unknown group 'no-such-group'");
  }
}
