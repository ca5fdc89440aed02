package io.tandem.connect.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scenarios on a real Kafka Connect cluster: three forked distributed workers, a 6-partition topic
 * per scenario, the JDBC sink on PostgreSQL. After each scenario the invariant holds: per
 * partition, the rows hold exactly the distinct source offsets below the stored position. The
 * broker and the workers start once per class; {@code -Dtandem.connect.records=N} sizes the runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ConnectClusterScenarios {

  static final Logger log = LoggerFactory.getLogger(ConnectClusterScenarios.class);
  static final int PARTITIONS = 6;
  static final int TASKS = 3;
  static final int RECORDS = Integer.getInteger("tandem.connect.records", 3000);
  static final Duration CATCH_UP =
      Duration.ofSeconds(Integer.getInteger("tandem.connect.catchup.seconds", 120));
  static final AtomicInteger SEQ = new AtomicInteger();

  KafkaBroker broker;
  ConnectCluster cluster;
  OffsetStore<?> store;
  final List<String> report = new ArrayList<>();

  /** Worker properties that distinguish the subclass's cluster (rebalance protocol). */
  abstract Map<String, String> workerProperties();

  /** A short label for names and the report. */
  abstract String label();

  /** The plugin path the workers load; null: the build's plugin folder. */
  Path plugins() throws Exception {
    return null;
  }

  @BeforeAll
  void startCluster() throws Exception {
    broker = KafkaBroker.shared();
    PostgresServer pg = PostgresServer.shared();
    store =
        OffsetStores.open(
            pg.jdbcUrl(), Map.of("user", pg.user(), "password", pg.password()), Connection.class);
    Map<String, String> extra = new HashMap<>(workerProperties());
    extra.put("connector.client.config.override.policy", "All");
    Path dir = Path.of("target", "connect-" + label()).toAbsolutePath();
    Files.createDirectories(dir);
    cluster =
        new ConnectCluster(
            broker.bootstrapServers(),
            dir,
            "tandem-connect-" + label() + "-" + System.nanoTime(),
            extra);
    Path plugins = plugins();
    if (plugins != null) {
      cluster.withPluginPath(plugins);
    }
    cluster.start(3);
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
    if (store != null) {
      store.close();
    }
    log.info("Connect cluster scenarios ({}):\n  {}", label(), String.join("\n  ", report));
  }

  /** A scenario's topic, table, connector name and ledger. */
  final class Run {
    final String name;
    final String topic;
    final String table;
    final String group;
    final Ledger ledger;

    Run(String scenario, Map<String, String> topicConfig) throws Exception {
      int n = SEQ.incrementAndGet();
      this.name = label() + "-" + scenario + "-" + n;
      this.topic =
          "t_"
              + label()
              + "_"
              + scenario.replace('-', '_')
              + "_"
              + n
              + "_"
              + System.nanoTime() % 100000;
      this.table = "r_" + label() + "_" + scenario.replace('-', '_') + "_" + n;
      this.group = "connect-" + name;
      this.ledger = new Ledger(topic, PARTITIONS);
      broker.createTopic(topic, PARTITIONS, topicConfig);
      try (Connection c = PostgresServer.shared().connect();
          Statement s = c.createStatement()) {
        s.execute(
            "CREATE TABLE "
                + table
                + " (kafka_topic VARCHAR(255) NOT NULL, kafka_partition INT NOT NULL,"
                + " kafka_offset BIGINT NOT NULL, id BIGINT, payload VARCHAR(200))");
      }
    }

    Map<String, String> connectorConfig() {
      PostgresServer pg = PostgresServer.shared();
      Map<String, String> c = new LinkedHashMap<>();
      c.put("connector.class", "io.tandem.connect.TandemJdbcSinkConnector");
      c.put("tasks.max", Integer.toString(TASKS));
      c.put("topics", topic);
      c.put("tandem.store.uri", pg.jdbcUrl());
      c.put("tandem.store.user", pg.user());
      c.put("tandem.store.password", pg.password());
      c.put("tandem.store.poolSize", "2");
      c.put("tandem.kafka.bootstrap.servers", broker.bootstrapServers());
      c.put("table", table);
      c.put("insert.mode", "insert");
      c.put("kafka.columns", "kafka_topic,kafka_partition,kafka_offset");
      c.put("fields", "id,payload");
      return c;
    }

    void start() throws Exception {
      start(connectorConfig());
    }

    void start(Map<String, String> config) throws Exception {
      cluster.putConnector(name, config);
      cluster.awaitRunning(name, TASKS, Duration.ofSeconds(90));
    }

    /** Produces {@code count} records (idempotent producer), spread over the partitions. */
    void produce(int count) throws Exception {
      Map<String, Object> props = broker.producerProperties();
      props.put(ProducerConfig.LINGER_MS_CONFIG, 10);
      try (KafkaProducer<String, String> p =
          new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
        List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          long id = ledger.producedCount() + i;
          sent.add(
              p.send(
                  new ProducerRecord<>(
                      topic, (int) (id % PARTITIONS), "k" + (id % 50), value(id))));
        }
        for (var f : sent) {
          RecordMetadata m = f.get(120, TimeUnit.SECONDS);
          ledger.produced(m.partition(), m.offset());
        }
      }
    }

    /** Produces in the background at about {@code perSecond} records, until stopped. */
    Producing produceInBackground(int total, int perSecond) {
      Producing p = new Producing(this, total, perSecond);
      p.thread.start();
      return p;
    }

    void awaitCaughtUp() throws Exception {
      ledger.awaitCaughtUp(store, group, CATCH_UP, cluster);
    }

    Ledger.Counts verify(String scenario, Map<Integer, Set<Long>> readable) throws Exception {
      Ledger.Counts counts = ledger.verify(scenario, store, group, table, readable);
      report.add(counts.toString());
      log.info("{}", counts);
      assertThat(counts.clean()).as(counts.toString()).isTrue();
      return counts;
    }

    Map<Partition, Long> positions() {
      return new TreeMap<>(store.positions(group));
    }

    void delete() throws Exception {
      cluster.deleteConnector(name);
    }
  }

  static String value(long id) {
    return "{\"id\":" + id + ",\"payload\":\"p-" + id + "\"}";
  }

  /** A background producer. */
  static final class Producing {
    final Thread thread;
    final AtomicBoolean stop = new AtomicBoolean();
    volatile Exception failure;

    Producing(Run run, int total, int perSecond) {
      thread =
          new Thread(
              () -> {
                try {
                  int chunk = Math.max(1, perSecond / 10);
                  int done = 0;
                  while (done < total && !stop.get()) {
                    int n = Math.min(chunk, total - done);
                    run.produce(n);
                    done += n;
                    TimeUnit.MILLISECONDS.sleep(100);
                  }
                } catch (Exception e) {
                  failure = e;
                }
              },
              "producer-" + run.topic);
    }

    void await() throws Exception {
      thread.join(TimeUnit.MINUTES.toMillis(5));
      if (failure != null) {
        throw failure;
      }
    }
  }

  /** The workers that run at least one task of a connector, by REST port. */
  List<ConnectCluster.Worker> workersWithTasks(String name) throws Exception {
    String status = cluster.status(name);
    List<ConnectCluster.Worker> out = new ArrayList<>();
    for (ConnectCluster.Worker w : cluster.workers()) {
      if (w.alive()
          && status.contains("\"worker_id\":\"127.0.0.1:" + w.port + "\"")
          && status.indexOf("\"tasks\"") < status.lastIndexOf("127.0.0.1:" + w.port)) {
        out.add(w);
      }
    }
    return out;
  }

  /** Offsets readable now, read_committed, per partition: the truth on a compacted topic. */
  Map<Integer, Set<Long>> readable(String topic) {
    Map<String, Object> props = new HashMap<>(broker.clientProperties());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<Integer, Set<Long>> out = new TreeMap<>();
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < PARTITIONS; p++) {
        tps.add(new TopicPartition(topic, p));
        out.put(p, new TreeSet<>());
      }
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
          out.get(r.partition()).add(r.offset());
        }
        boolean done = true;
        for (TopicPartition tp : tps) {
          if (c.position(tp) < end.get(tp)) {
            done = false;
          }
        }
        if (done) {
          break;
        }
      }
    }
    return out;
  }

  Admin admin() {
    return broker.admin();
  }

  static void deleteRecords(Admin admin, TopicPartition tp, long before) throws Exception {
    admin
        .deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(before)))
        .all()
        .get(30, TimeUnit.SECONDS);
  }

  static Map<TopicPartition, OffsetAndMetadata> kafkaOffsets(Admin admin, String group)
      throws Exception {
    return admin
        .listConsumerGroupOffsets(group)
        .partitionsToOffsetAndMetadata()
        .get(30, TimeUnit.SECONDS);
  }

  // ---------------------------------------------------------------- scenarios

  /** Waits until the sink has written at least {@code rows} records in total. */
  void awaitProgress(Run run, long rows) throws Exception {
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    while (System.nanoTime() < deadline) {
      long sum = 0;
      for (long p : run.positions().values()) {
        sum += p;
      }
      if (sum >= rows) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    throw new AssertionError(run.name + " wrote fewer than " + rows + " records in " + CATCH_UP);
  }

  /** Kill -9 of a worker mid-flush, a worker added, a worker stopped cleanly, another added. */
  void killAddRemove(boolean alsoStopCleanly) throws Exception {
    Run run = new Run("kill", Map.of());
    run.start();
    Producing producing = run.produceInBackground(RECORDS, Math.max(100, RECORDS / 12));
    awaitProgress(run, RECORDS / 5);
    List<ConnectCluster.Worker> busy = workersWithTasks(run.name);
    assertThat(busy).as("workers running tasks of " + run.name).isNotEmpty();
    ConnectCluster.Worker victim = busy.get(0);
    cluster.kill(victim);
    int kills = 1;
    awaitProgress(run, RECORDS / 2);
    cluster.addWorker();
    int added = 1;
    int stopped = 0;
    if (alsoStopCleanly) {
      ConnectCluster.Worker leaving = workersWithTasks(run.name).get(0);
      cluster.stop(leaving);
      stopped++;
      cluster.addWorker();
      added++;
    }
    producing.await();
    run.awaitCaughtUp();
    run.delete();
    Ledger.Counts c = run.verify("kill -9 mid-flush, workers added/removed", null);
    report.add(
        "  kills "
            + kills
            + ", workers added "
            + added
            + ", stopped cleanly "
            + stopped
            + ", conflicts logged "
            + ConnectCluster.count(cluster.logs(), "by another task or an operator")
            + " (cluster-wide so far)");
    assertThat(c.rows()).isEqualTo(RECORDS);
  }

  /** A worker frozen (SIGSTOP) across a rebalance, then thawed: its late commits are rejected. */
  void pausedAcrossRebalance() throws Exception {
    Run run = new Run("pause", Map.of());
    run.start();
    Producing producing = run.produceInBackground(RECORDS, Math.max(100, RECORDS / 15));
    awaitProgress(run, RECORDS / 5);
    ConnectCluster.Worker frozen = workersWithTasks(run.name).get(0);
    int before = ConnectCluster.count(frozen.log(), "by another task or an operator");
    Map<Partition, Long> atPause = run.positions();
    cluster.pause(frozen);
    try {
      // Every partition moves again: the frozen worker's partitions went to other tasks.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (true) {
        Map<Partition, Long> now = run.positions();
        boolean allMoved =
            atPause.entrySet().stream().allMatch(e -> now.get(e.getKey()) > e.getValue());
        if (allMoved || System.nanoTime() > deadline) {
          assertThat(allMoved).as("every partition advanced while a worker was frozen").isTrue();
          break;
        }
        TimeUnit.MILLISECONDS.sleep(300);
      }
    } finally {
      cluster.resume(frozen);
    }
    producing.await();
    run.awaitCaughtUp();
    // Let the thawed worker finish its rebalance and log what it did.
    TimeUnit.SECONDS.sleep(3);
    int rejected = ConnectCluster.count(frozen.log(), "by another task or an operator") - before;
    run.delete();
    run.verify("task paused across a rebalance", null);
    report.add("  zombie commits rejected after SIGCONT: " + rejected);
  }

  /** The connector group's Kafka offsets reset to 0 while it is stopped: the store wins. */
  void kafkaOffsetsResetBehindItsBack() throws Exception {
    Run run = new Run("kreset", Map.of());
    run.start();
    run.produce(RECORDS / 2);
    run.awaitCaughtUp();
    cluster.stopConnector(run.name);
    Map<TopicPartition, OffsetAndMetadata> zero = new HashMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      zero.put(new TopicPartition(run.topic, p), new OffsetAndMetadata(0));
    }
    try (Admin admin = admin()) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        try {
          admin.alterConsumerGroupOffsets(run.group, zero).all().get(30, TimeUnit.SECONDS);
          break;
        } catch (java.util.concurrent.ExecutionException e) {
          // The group still has members for a moment after the stop.
          if (System.nanoTime() > deadline) {
            throw e;
          }
          TimeUnit.MILLISECONDS.sleep(500);
        }
      }
      assertThat(kafkaOffsets(admin, run.group).values()).allMatch(o -> o.offset() == 0);
      cluster.resumeConnector(run.name);
      cluster.awaitRunning(run.name, TASKS, Duration.ofSeconds(90));
      run.produce(RECORDS - RECORDS / 2);
      run.awaitCaughtUp();
      // preCommit hands the store's positions to Connect: Kafka's offsets follow the store.
      Map<Partition, Long> stored = run.positions();
      long deadline2 = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      Map<TopicPartition, OffsetAndMetadata> k = Map.of();
      while (System.nanoTime() < deadline2) {
        k = kafkaOffsets(admin, run.group);
        boolean same = true;
        for (var e : stored.entrySet()) {
          OffsetAndMetadata om =
              k.get(new TopicPartition(e.getKey().topic(), e.getKey().partition()));
          same &= om != null && om.offset() == e.getValue();
        }
        if (same) {
          break;
        }
        TimeUnit.MILLISECONDS.sleep(300);
      }
      assertThat(k).as("Kafka offsets mirror the store").hasSize(PARTITIONS);
    }
    run.delete();
    run.verify("Kafka offsets reset to 0 behind its back", null);
  }

  /** PATCH and DELETE of /connectors/{name}/offsets change the store's positions. */
  void offsetsResetThroughRest() throws Exception {
    Run run = new Run("rest", Map.of());
    run.start();
    run.produce(RECORDS / 2);
    run.awaitCaughtUp();
    cluster.stopConnector(run.name);
    Partition p0 = new Partition(run.topic, 0);
    long k = run.positions().get(p0) / 2;
    // An operator replays partition 0 from k: remove its rows from k on, move the position.
    try (Connection c = PostgresServer.shared().connect();
        Statement s = c.createStatement()) {
      s.execute("DELETE FROM " + run.table + " WHERE kafka_partition = 0 AND kafka_offset >= " + k);
    }
    cluster.expect(
        200,
        "PATCH",
        "/connectors/" + run.name + "/offsets",
        "{\"offsets\":[{\"partition\":{\"kafka_topic\":\""
            + run.topic
            + "\",\"kafka_partition\":0},\"offset\":{\"kafka_offset\":"
            + k
            + "}}]}");
    assertThat(run.positions().get(p0)).as("store position after PATCH").isEqualTo(k);
    cluster.resumeConnector(run.name);
    cluster.awaitRunning(run.name, TASKS, Duration.ofSeconds(90));
    run.awaitCaughtUp();
    cluster.stopConnector(run.name);
    run.verify("offsets PATCH through the REST API", null);
    // Full reset: the operator empties the table, DELETE resets every position.
    try (Connection c = PostgresServer.shared().connect();
        Statement s = c.createStatement()) {
      s.execute("DELETE FROM " + run.table);
    }
    cluster.expect(200, "DELETE", "/connectors/" + run.name + "/offsets", null);
    assertThat(run.positions()).as("store positions after DELETE").isEmpty();
    cluster.resumeConnector(run.name);
    cluster.awaitRunning(run.name, TASKS, Duration.ofSeconds(90));
    run.produce(RECORDS - RECORDS / 2);
    run.awaitCaughtUp();
    run.delete();
    Ledger.Counts c = run.verify("offsets DELETE through the REST API", null);
    assertThat(c.rows()).isEqualTo(RECORDS);
  }

  /** A transactional producer with aborts, on a compacted topic: gaps everywhere. */
  void transactionsAndCompaction() throws Exception {
    Run run =
        new Run(
            "txn",
            Map.of(
                "cleanup.policy", "compact",
                "segment.ms", "1000",
                "min.cleanable.dirty.ratio", "0.01",
                "delete.retention.ms", "100"));
    Map<String, String> config = run.connectorConfig();
    config.put("consumer.override.isolation.level", "read_committed");
    run.start(config);
    Map<String, Object> props = broker.producerProperties();
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + run.topic);
    int aborted = 0;
    int id = 0;
    try (KafkaProducer<String, String> p =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      p.initTransactions();
      for (int txn = 0; id < RECORDS; txn++) {
        boolean abort = txn % 4 == 3;
        p.beginTransaction();
        List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
        for (int i = 0; i < 60 && id < RECORDS; i++, id++) {
          sent.add(
              p.send(new ProducerRecord<>(run.topic, id % PARTITIONS, "k" + (id % 40), value(id))));
        }
        p.flush();
        if (abort) {
          p.abortTransaction();
          aborted += sent.size();
        } else {
          p.commitTransaction();
          for (var f : sent) {
            RecordMetadata m = f.get();
            run.ledger.produced(m.partition(), m.offset());
          }
        }
      }
    }
    run.awaitCaughtUp();
    run.delete();
    run.verify("transactional producer with aborts, compacted topic", readable(run.topic));
    report.add("  aborted records " + aborted);
  }

  /** RegexRouter renames the topic: offsets stay keyed on the original one. */
  void topicRenamingTransform() throws Exception {
    Run run = new Run("route", Map.of());
    Map<String, String> config = run.connectorConfig();
    config.put("transforms", "route");
    config.put("transforms.route.type", "org.apache.kafka.connect.transforms.RegexRouter");
    config.put("transforms.route.regex", "(.*)");
    config.put("transforms.route.replacement", "renamed_$1");
    run.start(config);
    run.produce(RECORDS / 2);
    awaitProgress(run, RECORDS / 4);
    cluster.expect(202, "POST", "/connectors/" + run.name + "/restart?includeTasks=true", null);
    run.produce(RECORDS - RECORDS / 2);
    run.awaitCaughtUp();
    run.delete();
    assertThat(store.positions(run.group).keySet()).allMatch(p -> p.topic().equals(run.topic));
    run.verify("topic-renaming transform (RegexRouter)", null);
  }

  /** Retention deletes records past the stored position: the task fails loudly, writes nothing. */
  void retentionPastStoredPosition() throws Exception {
    Run run = new Run("retention", Map.of());
    run.start();
    run.produce(600);
    run.awaitCaughtUp();
    cluster.stopConnector(run.name);
    run.produce(600);
    Partition p0 = new Partition(run.topic, 0);
    long stored = run.positions().get(p0);
    TopicPartition tp0 = new TopicPartition(run.topic, 0);
    try (Admin admin = admin()) {
      deleteRecords(admin, tp0, stored + 20);
    }
    cluster.resumeConnector(run.name);
    String status =
        cluster.awaitStatus(
            run.name,
            s -> s.contains("\"state\":\"FAILED\""),
            "a FAILED task",
            Duration.ofSeconds(90));
    assertThat(status).contains("Retention deleted records of " + tp0);
    run.delete();
    TimeUnit.SECONDS.sleep(2);
    assertThat(run.positions().get(p0)).as("the lost partition's position").isEqualTo(stored);
    run.verify("retention past the stored position (task failed)", null);
    report.add(
        "  failed task status: " + status.replaceAll(".*(Retention deleted[^.]*\\.).*", "$1"));
  }

  /**
   * The Redis sink on the same cluster, through the same base: a worker killed mid-flush, one
   * added. Keys are the records' coordinates, so a repeat would overwrite itself; what the check
   * proves is that no key stands without its position (none at or beyond it) and none below it is
   * missing.
   */
  void redisSinkSurvivesAKill() throws Exception {
    io.tandem.testing.RedisServer redis = io.tandem.testing.RedisServer.shared();
    Run run = new Run("redis", Map.of());
    String prefix = "r:" + run.name + ":";
    Map<String, String> config = new LinkedHashMap<>();
    config.put("connector.class", "io.tandem.connect.TandemRedisSinkConnector");
    config.put("tasks.max", Integer.toString(TASKS));
    config.put("topics", run.topic);
    config.put("tandem.store.uri", redis.uri());
    config.put("tandem.kafka.bootstrap.servers", broker.bootstrapServers());
    config.put("redis.key", "kafka");
    config.put("redis.key.prefix", prefix);
    try (OffsetStore<?> redisStore = OffsetStores.open(redis.uri(), Map.of())) {
      run.start(config);
      Producing producing = run.produceInBackground(RECORDS, Math.max(100, RECORDS / 10));
      long deadline = System.nanoTime() + CATCH_UP.toNanos();
      while (sum(redisStore.positions(run.group)) < RECORDS / 4 && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(200);
      }
      cluster.kill(workersWithTasks(run.name).get(0));
      cluster.addWorker();
      producing.await();
      run.ledger.awaitCaughtUp(redisStore, run.group, CATCH_UP, cluster);
      run.delete();
      Map<Partition, Long> positions = redisStore.positions(run.group);
      Map<Integer, TreeSet<Long>> keys = new TreeMap<>();
      try (redis.clients.jedis.Jedis j =
          new redis.clients.jedis.Jedis(redis.host(), redis.port())) {
        String cursor = "0";
        do {
          var page =
              j.scan(
                  cursor,
                  new redis.clients.jedis.params.ScanParams().match(prefix + "*").count(1000));
          for (String k : page.getResult()) {
            String[] parts = k.substring(prefix.length()).split(":");
            keys.computeIfAbsent(Integer.parseInt(parts[1]), x -> new TreeSet<>())
                .add(Long.parseLong(parts[2]));
          }
          cursor = page.getCursor();
        } while (!cursor.equals("0"));
      }
      long total = 0;
      long beyond = 0;
      long losses = 0;
      long unexpected = 0;
      for (int p = 0; p < PARTITIONS; p++) {
        long position = positions.getOrDefault(new Partition(run.topic, p), 0L);
        TreeSet<Long> written = keys.getOrDefault(p, new TreeSet<>());
        total += written.size();
        beyond += written.tailSet(position, true).size();
        for (long o : run.ledger.produced.get(p)) {
          if (o < position && !written.contains(o)) {
            losses++;
          }
        }
        for (long o : written) {
          if (!run.ledger.produced.get(p).contains(o)) {
            unexpected++;
          }
        }
      }
      Ledger.Counts c =
          new Ledger.Counts(
              "Redis sink, kill -9 mid-flush + worker added",
              run.ledger.producedCount(),
              total,
              0,
              losses,
              beyond,
              unexpected);
      report.add(c + " (duplicates cannot show: keyed writes)");
      log.info("{}", c);
      assertThat(c.clean()).as(c.toString()).isTrue();
      assertThat(total).isEqualTo(RECORDS);
    }
  }

  static long sum(Map<Partition, Long> positions) {
    return positions.values().stream().mapToLong(Long::longValue).sum();
  }
}
