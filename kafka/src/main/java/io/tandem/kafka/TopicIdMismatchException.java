package io.tandem.kafka;

import io.tandem.spi.Partition;
import java.util.Map;
import java.util.TreeMap;

/**
 * The topic a group's positions were stored for is gone: a topic of the same name has another Kafka
 * topic ID, because the topic was deleted and re-created or the cluster was re-created. Offsets of
 * the new topic have nothing to do with the stored positions, so reading from them would skip or
 * repeat records; the consumer stops before reading anything.
 *
 * <p>To go on, either delete the group's positions of the topic (the reset policy then starts it
 * afresh and the new topic ID is recorded by itself), or set the positions wanted for the new topic
 * and start once with {@link TandemConsumer.Builder#adoptTopicIds(String...)}.
 *
 * @since 0.1
 */
public final class TopicIdMismatchException extends TandemConsumerException {
  private static final long serialVersionUID = 1L;

  private final String topic;
  private final String storedTopicId;
  private final String currentTopicId;

  /**
   * Creates an exception.
   *
   * @param group the Tandem group
   * @param topic the topic name
   * @param storedTopicId the topic ID recorded with the group's positions
   * @param currentTopicId the topic ID the cluster has for the name now
   * @param positions the group's stored positions of the topic
   */
  public TopicIdMismatchException(
      String group,
      String topic,
      String storedTopicId,
      String currentTopicId,
      Map<Partition, Long> positions) {
    super(message(group, topic, storedTopicId, currentTopicId, positions), null);
    this.topic = topic;
    this.storedTopicId = storedTopicId;
    this.currentTopicId = currentTopicId;
  }

  private static String message(
      String group, String topic, String stored, String current, Map<Partition, Long> positions) {
    return "Topic '"
        + topic
        + "' now has topic ID "
        + current
        + ", but group '"
        + group
        + "' stored its positions "
        + new TreeMap<>(positions)
        + " for topic ID "
        + stored
        + ": the topic was deleted and re-created under the same name (or the cluster was"
        + " re-created), and its offsets have nothing to do with the stored positions. Nothing was"
        + " read. To go on, delete the group's positions of '"
        + topic
        + "' (the reset policy then starts it afresh), or set the positions wanted for the new"
        + " topic and start once with adoptTopicIds(\""
        + topic
        + "\").";
  }

  /**
   * The topic name.
   *
   * @return the topic
   */
  public String topic() {
    return topic;
  }

  /**
   * The topic ID recorded with the stored positions.
   *
   * @return the ID, as Kafka prints it
   */
  public String storedTopicId() {
    return storedTopicId;
  }

  /**
   * The topic ID the cluster has for the topic name now.
   *
   * @return the ID, as Kafka prints it
   */
  public String currentTopicId() {
    return currentTopicId;
  }
}
