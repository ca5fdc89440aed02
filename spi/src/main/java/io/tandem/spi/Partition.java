package io.tandem.spi;

import java.util.Objects;

/**
 * One partition of a topic: the unit whose position a store keeps.
 *
 * <p>This is Tandem's own type, not Kafka's {@code TopicPartition}, so that logs other than Kafka
 * can use the stores. Topic names are not restricted to Kafka's character set: stores must keep any
 * non-empty name (unicode, slashes, quotes, dots) of at most {@value #MAX_TOPIC_LENGTH} characters
 * exactly as given.
 *
 * @param topic the topic name; not empty, at most {@value #MAX_TOPIC_LENGTH} characters
 * @param partition the partition number; {@code >= 0}
 * @since 0.1
 */
public record Partition(String topic, int partition) implements Comparable<Partition> {

  /** The longest topic name accepted, as in Kafka. */
  public static final int MAX_TOPIC_LENGTH = 249;

  /**
   * Checks every field against the rules above.
   *
   * @param topic see the record's description
   * @param partition see the record's description
   * @throws IllegalArgumentException if {@code topic} is empty or too long, or {@code partition} is
   *     negative
   */
  public Partition {
    Objects.requireNonNull(topic, "topic must not be null");
    if (topic.isEmpty()) {
      throw new IllegalArgumentException("topic must not be empty (partition " + partition + ")");
    }
    if (topic.length() > MAX_TOPIC_LENGTH) {
      throw new IllegalArgumentException(
          "topic must be at most "
              + MAX_TOPIC_LENGTH
              + " characters, got "
              + topic.length()
              + " ("
              + topic.substring(0, 20)
              + "...)");
    }
    if (partition < 0) {
      throw new IllegalArgumentException(
          "partition must be >= 0, got partition=" + partition + " (topic " + topic + ")");
    }
  }

  /**
   * Shorthand for {@code new Partition(topic, partition)}.
   *
   * @param topic the topic name
   * @param partition the partition number
   * @return the partition
   */
  public static Partition of(String topic, int partition) {
    return new Partition(topic, partition);
  }

  /** Orders by topic, then partition number: the order stores lock and write in. */
  @Override
  public int compareTo(Partition other) {
    int byTopic = topic.compareTo(other.topic);
    return byTopic != 0 ? byTopic : Integer.compare(partition, other.partition);
  }

  /** Returns {@code topic-partition}, as Kafka prints it. */
  @Override
  public String toString() {
    return topic + "-" + partition;
  }
}
