package io.tandem.spark.internal;

import java.io.Serializable;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.streaming.kafka010.ConsumerStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Internal: may change in any release.
 *
 * <p>The direct stream's driver consumer subscribed to topics, which seeks only partitions the
 * group has assigned to it. Spark's own {@code ConsumerStrategies.Subscribe} polls once, then seeks
 * every partition it was given (the start offsets, or on recovery from a checkpoint the offsets the
 * checkpoint holds) and fails with "No current assignment for partition" when the poll returned
 * before the group assigned all of them to this consumer (e.g. while the group still lists another
 * member: a killed driver until its session expires, or another job with the same {@code
 * group.id}). This strategy polls (its partitions paused on assignment, so nothing is consumed)
 * until every partition to seek is assigned, then seeks and pauses them like Spark's. If the group
 * keeps some of them past the wait, it fails naming them.
 *
 * <p>It is checkpointed with the stream (serializable): the topics, parameters and start offsets
 * are kept; Spark passes the checkpoint's offsets to {@link #onStart} on recovery.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class SubscribeAssigned<K, V> extends ConsumerStrategy<K, V> implements Serializable {

  private static final long serialVersionUID = 1L;
  private static final Logger log = LoggerFactory.getLogger(SubscribeAssigned.class);
  private static final Duration POLL = Duration.ofMillis(200);

  private final List<String> topics;
  private final HashMap<String, Object> kafkaParams;
  private final HashMap<TopicPartition, Long> offsets;
  private final long waitMs;

  /**
   * A strategy.
   *
   * @param topics the topics
   * @param kafkaParams the consumer's configuration (driver and executors)
   * @param offsets where each partition starts on a first start (without checkpoint)
   * @param wait how long to wait for the group to assign every partition to seek
   */
  public SubscribeAssigned(
      Collection<String> topics,
      Map<String, Object> kafkaParams,
      Map<TopicPartition, Long> offsets,
      Duration wait) {
    this.topics = List.copyOf(topics);
    this.kafkaParams = new HashMap<>(kafkaParams);
    this.offsets = new HashMap<>(offsets);
    this.waitMs = wait.toMillis();
  }

  /**
   * The wait for the assignment: a killed member of the group keeps its partitions until its
   * session expires ({@code session.timeout.ms}, 45 s by default), then the group rebalances.
   *
   * @param kafkaParams the consumer's configuration
   * @return twice the session timeout plus 30 s
   */
  public static Duration defaultWait(Map<String, Object> kafkaParams) {
    Object session = kafkaParams.get(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG);
    long ms = session == null ? 45_000 : Long.parseLong(session.toString());
    return Duration.ofMillis(2 * ms + 30_000);
  }

  @Override
  public Map<String, Object> executorKafkaParams() {
    return kafkaParams;
  }

  @Override
  public Consumer<K, V> onStart(Map<TopicPartition, Long> currentOffsets) {
    Map<TopicPartition, Long> toSeek = currentOffsets.isEmpty() ? offsets : currentOffsets;
    KafkaConsumer<K, V> consumer =
        new KafkaConsumer<>(setAuthenticationConfigIfNeeded(kafkaParams));
    try {
      consumer.subscribe(
          topics,
          new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
              // Nothing is consumed on the driver: it only asks for positions and log ends.
              consumer.pause(partitions);
            }

            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}
          });
      long deadline = System.nanoTime() + waitMs * 1_000_000;
      while (true) {
        try {
          consumer.poll(POLL);
        } catch (NoOffsetForPartitionException e) {
          // auto.offset.reset=none and no committed offset (KAFKA-3370, as Spark's Subscribe):
          // the partitions are assigned by then, and the seeks below give their positions.
          log.debug("no committed offset yet for {}; seeking", e.partitions());
        }
        Set<String> missing = new TreeSet<>();
        toSeek.keySet().stream()
            .filter(tp -> !consumer.assignment().contains(tp))
            .forEach(tp -> missing.add(tp.toString()));
        if (missing.isEmpty() && !consumer.assignment().isEmpty()) {
          break;
        }
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException(
              "group '"
                  + kafkaParams.get(ConsumerConfig.GROUP_ID_CONFIG)
                  + "' did not assign "
                  + (missing.isEmpty() ? "any partition of " + topics : missing)
                  + " to this driver within "
                  + waitMs
                  + " ms (assigned: "
                  + consumer.assignment()
                  + "): another consumer of the group holds them. Give each job its own"
                  + " group.id");
        }
      }
      log.info(
          "group '{}': assigned {}; seeking {}",
          kafkaParams.get(ConsumerConfig.GROUP_ID_CONFIG),
          consumer.assignment(),
          toSeek);
      toSeek.forEach(consumer::seek);
      consumer.pause(consumer.assignment());
      return consumer;
    } catch (RuntimeException e) {
      consumer.close(Duration.ZERO);
      throw e;
    }
  }
}
