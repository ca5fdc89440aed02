package io.tandem.kafka;

import io.tandem.spi.Partition;

/**
 * A record could not be deserialized or processed, and no {@link DeadLetterWriter} was configured.
 * The consumer stopped without moving the stored position past it.
 *
 * @since 0.1
 */
public final class PoisonRecordException extends TandemConsumerException {
  private static final long serialVersionUID = 1L;

  private final Partition partition;
  private final long offset;
  private final DeadLetter.Stage stage;

  /**
   * Creates an exception.
   *
   * @param group the Tandem group
   * @param partition the record's partition
   * @param offset the record's offset
   * @param stage where it failed
   * @param cause what the deserializer, processor or sink threw
   */
  public PoisonRecordException(
      String group, Partition partition, long offset, DeadLetter.Stage stage, Throwable cause) {
    super(
        (stage == DeadLetter.Stage.DESERIALIZATION ? "Cannot deserialize" : "Processing failed for")
            + " record "
            + partition
            + "@"
            + offset
            + " in group '"
            + group
            + "': "
            + cause
            + ". Records before it were committed; the stored position was not moved past it. Fix"
            + " the "
            + (stage == DeadLetter.Stage.DESERIALIZATION ? "deserializer or the data" : "processor")
            + ", configure deadLetters(...) to set such records aside, or skip it with an offset"
            + " overwrite.",
        cause);
    this.partition = partition;
    this.offset = offset;
    this.stage = stage;
  }

  /**
   * The partition of the failed record (the first partition of the failed batch, when the record is
   * not known).
   *
   * @return the partition
   */
  public Partition partition() {
    return partition;
  }

  /**
   * The failed record's offset.
   *
   * @return the offset
   */
  public long offset() {
    return offset;
  }

  /**
   * Where it failed.
   *
   * @return the stage
   */
  public DeadLetter.Stage stage() {
    return stage;
  }
}
