package io.tandem.cli;

import io.tandem.spi.Partition;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * What the admin command asks Kafka: log start and end offsets, offsets by time, topic partitions,
 * a consumer group's committed offsets and live members, and writing a group's committed offsets.
 * One {@link Admin} per instance; the command closes it.
 */
final class KafkaOffsets implements AutoCloseable {

  /** Thrown when Kafka cannot be reached or refuses; exit status {@link Tandem#UNREACHABLE}. */
  static final class KafkaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    KafkaException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final String bootstrap;
  private final Admin admin;

  KafkaOffsets(String bootstrap) {
    this.bootstrap = bootstrap;
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    this.admin = Admin.create(props);
  }

  Map<Partition, Long> starts(Collection<Partition> ps) {
    return list(ps, OffsetSpec.earliest());
  }

  Map<Partition, Long> ends(Collection<Partition> ps) {
    return list(ps, OffsetSpec.latest());
  }

  /**
   * The offset of the first record at or after {@code epochMillis} in each partition; the log end
   * where no record is that recent (Kafka answers -1 then, as kafka-consumer-groups does).
   */
  Map<Partition, Long> atTime(Collection<Partition> ps, long epochMillis) {
    Map<Partition, Long> byTime = list(ps, OffsetSpec.forTimestamp(epochMillis));
    Map<Partition, Long> ends = null;
    Map<Partition, Long> out = new TreeMap<>();
    for (Map.Entry<Partition, Long> e : byTime.entrySet()) {
      long o = e.getValue();
      if (o < 0) {
        if (ends == null) {
          ends = ends(ps);
        }
        o = ends.get(e.getKey());
      }
      out.put(e.getKey(), o);
    }
    return out;
  }

  /** Every partition of a topic, or an empty list when Kafka does not know the topic. */
  List<Partition> partitionsOf(String topic) {
    try {
      TopicDescription d =
          admin.describeTopics(List.of(topic)).allTopicNames().get(15, TimeUnit.SECONDS).get(topic);
      return d.partitions().stream().map(p -> Partition.of(topic, p.partition())).toList();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return List.of();
      }
      throw failed("describing topic '" + topic + "'", e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw interrupted(e);
    }
  }

  /** The offsets Kafka keeps for a consumer group (what lag tools read). */
  Map<Partition, Long> committed(String group) {
    try {
      Map<TopicPartition, OffsetAndMetadata> m =
          admin
              .listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata()
              .get(15, TimeUnit.SECONDS);
      Map<Partition, Long> out = new TreeMap<>();
      m.forEach(
          (tp, om) -> {
            if (om != null) {
              out.put(Partition.of(tp.topic(), tp.partition()), om.offset());
            }
          });
      return out;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return Map.of();
      }
      throw failed("reading the committed offsets of group '" + group + "'", e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw interrupted(e);
    }
  }

  /**
   * The live members of the Kafka consumer group of the same name, each as {@code clientId/host}.
   * The Tandem runtime subscribes with its group name as {@code group.id} (unless the user set
   * another), so a running Tandem group shows here; a consumer with an explicit assignment joins no
   * group and is invisible.
   */
  List<String> members(String group) {
    try {
      ConsumerGroupDescription d =
          admin
              .describeConsumerGroups(List.of(group))
              .describedGroups()
              .get(group)
              .get(15, TimeUnit.SECONDS);
      return d.members().stream().map(m -> m.clientId() + m.host()).sorted().toList();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return List.of();
      }
      throw failed("describing group '" + group + "'", e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw interrupted(e);
    }
  }

  /** Writes a group's committed offsets (Kafka refuses while the group has members). */
  void commit(String group, Map<Partition, Long> positions) {
    Map<TopicPartition, OffsetAndMetadata> m =
        positions.entrySet().stream()
            .collect(
                Collectors.toMap(
                    e -> new TopicPartition(e.getKey().topic(), e.getKey().partition()),
                    e -> new OffsetAndMetadata(e.getValue())));
    try {
      admin.alterConsumerGroupOffsets(group, m).all().get(15, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw failed("writing the committed offsets of group '" + group + "'", e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw interrupted(e);
    }
  }

  private Map<Partition, Long> list(Collection<Partition> ps, OffsetSpec spec) {
    if (ps.isEmpty()) {
      return Map.of();
    }
    Map<TopicPartition, OffsetSpec> request =
        ps.stream()
            .collect(
                Collectors.toMap(
                    p -> new TopicPartition(p.topic(), p.partition()), p -> spec, (a, b) -> a));
    try {
      var result = admin.listOffsets(request).all().get(20, TimeUnit.SECONDS);
      Map<Partition, Long> out = new TreeMap<>();
      result.forEach(
          (tp, info) -> out.put(Partition.of(tp.topic(), tp.partition()), info.offset()));
      return out;
    } catch (ExecutionException e) {
      throw failed("listing offsets", e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw interrupted(e);
    }
  }

  private KafkaException failed(String what, Throwable cause) {
    return new KafkaException(
        "Kafka at " + bootstrap + " failed " + what + ": " + cause.getMessage(), cause);
  }

  private KafkaException interrupted(Exception e) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    return new KafkaException("Kafka at " + bootstrap + " did not answer in time", e);
  }

  @Override
  public void close() {
    admin.close(java.time.Duration.ofSeconds(5));
  }
}
