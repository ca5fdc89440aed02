package io.tandem.spark.internal;

import io.tandem.spark.Reset;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Internal: may change in any release.
 *
 * <p>The positions a job starts from, read on the driver: the store's, missing ones initialized by
 * the reset policy (existing positions win, so two drivers starting at once agree), each checked
 * against the log's current start and end. A stored position outside the log fails the start
 * loudly: before the log start, retention deleted records the group never processed; past the end,
 * the topic was recreated or the store belongs to another cluster.
 */
public final class KafkaPositions {

  private static final Logger log = LoggerFactory.getLogger(KafkaPositions.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private KafkaPositions() {}

  /**
   * Lists the partitions of topics.
   *
   * @param topics the topics
   * @param kafkaParams consumer configuration (bootstrap servers, security)
   * @return the partitions, sorted
   * @throws IllegalArgumentException if a topic does not exist
   */
  public static List<Partition> partitionsOf(
      Collection<String> topics, Map<String, Object> kafkaParams) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafkaParams)) {
      List<Partition> out = new ArrayList<>();
      for (String topic : new TreeSet<>(topics)) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, TIMEOUT);
        if (infos == null || infos.isEmpty()) {
          throw new IllegalArgumentException(
              "topic '" + topic + "' does not exist (or has no partitions) on the cluster");
        }
        infos.forEach(i -> out.add(new Partition(i.topic(), i.partition())));
      }
      out.sort(null);
      return out;
    }
  }

  /**
   * The positions to start from.
   *
   * @param store the store
   * @param group the store group
   * @param partitions the partitions to read
   * @param kafkaParams consumer configuration (bootstrap servers, security)
   * @param reset where a partition without a stored position starts
   * @return every partition's position, sorted
   * @throws IllegalStateException if a position is missing under {@link Reset#NONE}, or a stored
   *     position lies outside the log
   */
  public static Map<Partition, Long> start(
      OffsetStore<?> store,
      String group,
      Collection<Partition> partitions,
      Map<String, Object> kafkaParams,
      Reset reset) {
    Map<Partition, Long> positions = new TreeMap<>(store.positions(group, partitions));
    List<TopicPartition> all =
        partitions.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafkaParams)) {
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(all, TIMEOUT);
      Map<TopicPartition, Long> end = consumer.endOffsets(all, TIMEOUT);
      List<Partition> missing =
          partitions.stream().filter(p -> !positions.containsKey(p)).sorted().toList();
      if (!missing.isEmpty()) {
        if (reset == Reset.NONE) {
          throw new IllegalStateException(
              "group '"
                  + group
                  + "' has no stored position for "
                  + missing
                  + " and the reset policy is NONE: initialize them (tandem offsets) or start with"
                  + " Reset.EARLIEST or Reset.LATEST");
        }
        Map<Partition, Long> starts = new HashMap<>();
        for (Partition p : missing) {
          TopicPartition tp = new TopicPartition(p.topic(), p.partition());
          starts.put(p, reset == Reset.EARLIEST ? begin.get(tp) : end.get(tp));
        }
        Map<Partition, Long> standing = store.initialize(group, starts);
        log.info("group '{}': initialized {} by {} to {}", group, missing, reset, standing);
        positions.putAll(standing);
      }
      for (Partition p : partitions) {
        TopicPartition tp = new TopicPartition(p.topic(), p.partition());
        long at = positions.get(p);
        if (at < begin.get(tp)) {
          throw new IllegalStateException(
              "group '"
                  + group
                  + "' stands at position "
                  + at
                  + " of "
                  + p
                  + ", before the log start "
                  + begin.get(tp)
                  + ": retention deleted records this group never processed. Decide what to do"
                  + " with the loss, then move the position (tandem offsets set)");
        }
        if (at > end.get(tp)) {
          throw new IllegalStateException(
              "group '"
                  + group
                  + "' stands at position "
                  + at
                  + " of "
                  + p
                  + ", past the log end "
                  + end.get(tp)
                  + ": the topic was recreated, or the store belongs to another cluster");
        }
      }
    }
    log.info(
        "group '{}' starts at {}",
        group,
        positions.entrySet().stream()
            .map(e -> e.getKey() + "@" + e.getValue())
            .collect(Collectors.joining(", ")));
    return positions;
  }

  private static KafkaConsumer<byte[], byte[]> consumer(Map<String, Object> kafkaParams) {
    Map<String, Object> props = new HashMap<>(kafkaParams);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    // Offsets are read and listed only: no group membership.
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    return new KafkaConsumer<>(props);
  }
}
