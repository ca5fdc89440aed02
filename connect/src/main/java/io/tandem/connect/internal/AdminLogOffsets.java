package io.tandem.connect.internal;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * {@link LogOffsets} through a Kafka {@link Admin} client.
 *
 * <p>Internal: may change in any release.
 */
public final class AdminLogOffsets implements LogOffsets {

  private final Admin admin;
  private final Duration timeout;

  /**
   * Creates the admin client.
   *
   * @param properties admin client configuration ({@code bootstrap.servers} at least)
   * @param timeout how long one request may take
   */
  public AdminLogOffsets(Map<String, Object> properties, Duration timeout) {
    this.admin = Admin.create(properties);
    this.timeout = timeout;
  }

  @Override
  public Map<TopicPartition, Long> earliest(Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return Map.of();
    }
    Map<TopicPartition, OffsetSpec> request =
        partitions.stream().collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.earliest()));
    Map<TopicPartition, ListOffsetsResultInfo> answer =
        get(admin.listOffsets(request).all(), "the log start offsets of " + partitions);
    Map<TopicPartition, Long> out = new HashMap<>();
    answer.forEach((tp, info) -> out.put(tp, info.offset()));
    return out;
  }

  @Override
  public Map<TopicPartition, Long> committed(String group, Collection<TopicPartition> partitions) {
    if (partitions.isEmpty()) {
      return Map.of();
    }
    ListConsumerGroupOffsetsSpec spec =
        new ListConsumerGroupOffsetsSpec().topicPartitions(List.copyOf(partitions));
    Map<TopicPartition, OffsetAndMetadata> answer =
        get(
            admin.listConsumerGroupOffsets(Map.of(group, spec)).partitionsToOffsetAndMetadata(),
            "the committed offsets of group '" + group + "'");
    Map<TopicPartition, Long> out = new HashMap<>();
    answer.forEach(
        (tp, om) -> {
          if (om != null) {
            out.put(tp, om.offset());
          }
        });
    return out;
  }

  private <V> V get(org.apache.kafka.common.KafkaFuture<V> future, String what) {
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new ConnectException("Cannot read " + what + " from Kafka: " + e.getCause(), e);
    } catch (TimeoutException e) {
      throw new ConnectException(
          "Reading " + what + " from Kafka took more than " + timeout.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConnectException("Interrupted while reading " + what + " from Kafka", e);
    }
  }

  @Override
  public void close() {
    admin.close(Duration.ofSeconds(5));
  }
}
