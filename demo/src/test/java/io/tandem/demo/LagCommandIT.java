package io.tandem.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.cli.Tandem;
import io.tandem.kafka.TandemConsumer;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.PostgresServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * {@code tandem lag} for a running Tandem group (the runtime, on PostgreSQL and the real broker)
 * shows the same numbers as Kafka's own view of the group (its committed offsets, which the runtime
 * mirrors, and log end offsets: what kafka-consumer-groups --describe prints). Both views go to
 * {@code target/lag-transcript.txt}.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class LagCommandIT {

  @Test
  void lagOfARunningGroupMatchesKafkasView() throws Exception {
    KafkaBroker kafka = KafkaBroker.shared();
    PostgresServer pg = PostgresServer.shared();
    String uri =
        pg.jdbcUrl()
            + (pg.jdbcUrl().contains("?") ? "&" : "?")
            + "user="
            + pg.user()
            + (pg.password() == null ? "" : "&password=" + pg.password());
    String topic = "payments-" + UUID.randomUUID().toString().substring(0, 8);
    String group = "lag-it-" + UUID.randomUUID().toString().substring(0, 6);
    kafka.createTopic(topic, 3);
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      records.add(new ProducerRecord<>(topic, i % 3, "k" + i, "v" + i));
    }
    kafka.produce(records);

    AtomicBoolean hold = new AtomicBoolean();
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (OffsetStore<Connection> store = OffsetStores.open(uri, Map.of(), Connection.class)) {
      TandemConsumer<String, String, Connection> consumer =
          TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
              .bootstrapServers(kafka.bootstrapServers())
              .group(group)
              .topics(topic)
              .property("max.poll.records", 100)
              .pollTimeout(Duration.ofMillis(100))
              .processor(
                  (batch, tx) -> {
                    if (hold.get()) {
                      held.countDown();
                      if (!release.await(3, TimeUnit.MINUTES)) {
                        throw new IllegalStateException("never released");
                      }
                    }
                  })
              .build();
      Thread runner = new Thread(consumer::run, "lag-it-consumer");
      runner.start();
      try {
        // Run until about a third is committed, then hold the next batch: the group stays a live
        // member with a fixed stored position.
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (sum(positions(uri, group)) < 900 && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        hold.set(true);
        assertThat(held.await(2, TimeUnit.MINUTES)).isTrue();
        Map<Partition, Long> stored = positions(uri, group);
        assertThat(sum(stored)).isBetween(900L, 2999L);

        Map<Partition, Long> committed = Map.of();
        Map<Partition, Long> ends;
        ConsumerGroupDescription description;
        try (Admin admin = kafka.admin()) {
          // The mirror is asynchronous: wait until Kafka has the committed positions.
          while (System.nanoTime() < deadline) {
            committed = committed(admin, group);
            if (committed.equals(stored)) {
              break;
            }
            Thread.sleep(50);
          }
          Map<TopicPartition, OffsetSpec> latest =
              stored.keySet().stream()
                  .collect(
                      Collectors.toMap(
                          p -> new TopicPartition(p.topic(), p.partition()),
                          p -> OffsetSpec.latest()));
          ends = new TreeMap<>();
          for (var e : admin.listOffsets(latest).all().get().entrySet()) {
            ends.put(
                Partition.of(e.getKey().topic(), e.getKey().partition()), e.getValue().offset());
          }
          description = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
        }
        assertThat(committed).isEqualTo(stored);
        assertThat(description.members()).hasSize(1);

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Tandem.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int status =
            cli.execute(
                "lag",
                "--store",
                uri,
                "--group",
                group,
                "--bootstrap-server",
                kafka.bootstrapServers());
        assertThat(status).as(err.toString()).isZero();
        long totalLag = 0;
        for (Map.Entry<Partition, Long> e : stored.entrySet()) {
          long lag = ends.get(e.getKey()) - e.getValue();
          totalLag += lag;
          // TOPIC PARTITION POSITION LOG-START LOG-END LAG KAFKA-COMMITTED
          assertThat(out.toString())
              .containsPattern(
                  topic
                      + "\\s+"
                      + e.getKey().partition()
                      + "\\s+"
                      + e.getValue()
                      + "\\s+0\\s+"
                      + ends.get(e.getKey())
                      + "\\s+"
                      + lag
                      + "\\s+"
                      + committed.get(e.getKey()));
        }
        assertThat(out.toString()).contains("total lag of group '" + group + "': " + totalLag);

        // Kafka's own view, in kafka-consumer-groups --describe's columns.
        StringBuilder kafkaView = new StringBuilder();
        kafkaView.append(
            String.format(
                "%-12s %-18s %9s %14s %14s %5s  %s%n",
                "GROUP",
                "TOPIC",
                "PARTITION",
                "CURRENT-OFFSET",
                "LOG-END-OFFSET",
                "LAG",
                "CONSUMER-ID"));
        String member = description.members().iterator().next().consumerId();
        for (Map.Entry<Partition, Long> e : new TreeMap<>(committed).entrySet()) {
          long end = ends.get(e.getKey());
          kafkaView.append(
              String.format(
                  "%-12s %-18s %9d %14d %14d %5d  %s%n",
                  group,
                  topic,
                  e.getKey().partition(),
                  e.getValue(),
                  end,
                  end - e.getValue(),
                  member));
        }
        Files.createDirectories(Path.of("target"));
        Files.writeString(
            Path.of("target", "lag-transcript.txt"),
            "$ tandem lag --store "
                + uri.replaceAll("password=[^&]*", "password=***")
                + " --group "
                + group
                + " --bootstrap-server "
                + kafka.bootstrapServers()
                + "\n"
                + out
                + "\n# Kafka's view (AdminClient: listConsumerGroupOffsets, listOffsets latest,"
                + " describeConsumerGroups)\n"
                + kafkaView,
            StandardCharsets.UTF_8);
      } finally {
        release.countDown();
        consumer.close();
        runner.join(60_000);
      }
    }
  }

  static Map<Partition, Long> positions(String uri, String group) {
    try (OffsetStore<?> s = OffsetStores.open(uri)) {
      return new TreeMap<>(s.positions(group));
    }
  }

  static long sum(Map<Partition, Long> m) {
    return m.values().stream().mapToLong(Long::longValue).sum();
  }

  static Map<Partition, Long> committed(Admin admin, String group) throws Exception {
    Map<Partition, Long> out = new TreeMap<>();
    Map<TopicPartition, OffsetAndMetadata> m =
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
    m.forEach((tp, om) -> out.put(Partition.of(tp.topic(), tp.partition()), om.offset()));
    return out;
  }
}
