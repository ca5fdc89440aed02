package io.tandem.kafka;

import io.tandem.spi.Partition;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;

/**
 * A poison record handed to a {@link DeadLetterWriter}: its coordinates, its raw bytes as stored in
 * Kafka, the deserialized record when deserialization succeeded, and what failed.
 *
 * @param <K> the record key type
 * @param <V> the record value type
 * @since 0.1
 */
public final class DeadLetter<K, V> {

  /** The step at which the record failed. */
  public enum Stage {
    /** The key or value deserializer threw. */
    DESERIALIZATION,
    /** The processor or sink threw for this record alone. */
    PROCESSING
  }

  private final Partition partition;
  private final long offset;
  private final long timestamp;
  private final byte[] key;
  private final byte[] value;
  private final Headers headers;
  private final ConsumerRecord<K, V> record;
  private final Stage stage;
  private final Throwable error;

  /**
   * Creates a dead letter.
   *
   * @param partition the record's partition
   * @param offset the record's offset
   * @param timestamp the record's timestamp, epoch milliseconds
   * @param key the raw key bytes; null if the record had no key
   * @param value the raw value bytes; null for a tombstone
   * @param headers the record's headers
   * @param record the deserialized record; null if deserialization failed
   * @param stage where it failed
   * @param error what was thrown
   */
  public DeadLetter(
      Partition partition,
      long offset,
      long timestamp,
      byte[] key,
      byte[] value,
      Headers headers,
      ConsumerRecord<K, V> record,
      Stage stage,
      Throwable error) {
    this.partition = Objects.requireNonNull(partition, "partition must not be null");
    this.offset = offset;
    this.timestamp = timestamp;
    this.key = key == null ? null : key.clone();
    this.value = value == null ? null : value.clone();
    this.headers = Objects.requireNonNull(headers, "headers must not be null");
    this.record = record;
    this.stage = Objects.requireNonNull(stage, "stage must not be null");
    this.error = Objects.requireNonNull(error, "error must not be null");
  }

  /**
   * The record's partition.
   *
   * @return the partition
   */
  public Partition partition() {
    return partition;
  }

  /**
   * The record's offset.
   *
   * @return the offset
   */
  public long offset() {
    return offset;
  }

  /**
   * The record's timestamp.
   *
   * @return epoch milliseconds
   */
  public long timestamp() {
    return timestamp;
  }

  /**
   * The raw key bytes as stored in Kafka.
   *
   * @return a copy, or empty if the record had no key
   */
  public Optional<byte[]> key() {
    return Optional.ofNullable(key).map(byte[]::clone);
  }

  /**
   * The raw value bytes as stored in Kafka.
   *
   * @return a copy, or empty for a tombstone
   */
  public Optional<byte[]> value() {
    return Optional.ofNullable(value).map(byte[]::clone);
  }

  /**
   * The record's headers.
   *
   * @return the headers
   */
  public Headers headers() {
    return headers;
  }

  /**
   * The deserialized record.
   *
   * @return the record, or empty if deserialization failed ({@link Stage#DESERIALIZATION})
   */
  public Optional<ConsumerRecord<K, V>> record() {
    return Optional.ofNullable(record);
  }

  /**
   * Where the record failed.
   *
   * @return the stage
   */
  public Stage stage() {
    return stage;
  }

  /**
   * What was thrown: the deserializer's exception, or the processor's or sink's.
   *
   * @return the error
   */
  public Throwable error() {
    return error;
  }

  @Override
  public String toString() {
    return "DeadLetter[" + partition + "@" + offset + ", " + stage + ": " + error + "]";
  }
}
