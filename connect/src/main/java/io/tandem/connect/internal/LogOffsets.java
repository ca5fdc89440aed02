package io.tandem.connect.internal;

import java.util.Collection;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * What a sink task asks Kafka about its partitions' logs: where they start, and what the
 * connector's consumer group has committed. Separate from the task so that its logic can be tested
 * without a broker.
 *
 * <p>Internal: may change in any release.
 */
public interface LogOffsets extends AutoCloseable {

  /**
   * The log start offset of each partition (the first offset still on the broker).
   *
   * @param partitions the partitions
   * @return the log start offset of every partition asked
   * @throws org.apache.kafka.connect.errors.ConnectException if Kafka does not answer in time
   */
  Map<TopicPartition, Long> earliest(Collection<TopicPartition> partitions);

  /**
   * The offsets a consumer group has committed to Kafka.
   *
   * @param group the consumer group
   * @param partitions the partitions
   * @return the committed offset of each partition that has one; others are absent
   * @throws org.apache.kafka.connect.errors.ConnectException if Kafka does not answer in time
   */
  Map<TopicPartition, Long> committed(String group, Collection<TopicPartition> partitions);

  @Override
  void close();
}
