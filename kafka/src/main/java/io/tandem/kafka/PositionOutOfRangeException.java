package io.tandem.kafka;

import io.tandem.spi.Partition;

/**
 * A stored position is outside the log: retention or {@code deleteRecords} removed records before
 * they were processed (position before the log start), or the topic was recreated (position after
 * the log end). Under {@link OutOfRangePolicy#FAIL} the consumer stops with this exception and
 * nothing is skipped.
 *
 * @since 0.1
 */
public final class PositionOutOfRangeException extends TandemConsumerException {
  private static final long serialVersionUID = 1L;

  private final Partition partition;
  private final long position;
  private final long logStart;
  private final long logEnd;

  /**
   * Creates an exception.
   *
   * @param group the Tandem group
   * @param partition the partition
   * @param position the stored position the consumer tried to read from
   * @param logStart the log start offset when checked, or -1 if unknown
   * @param logEnd the log end offset when checked, or -1 if unknown
   * @param cause Kafka's exception
   */
  public PositionOutOfRangeException(
      String group,
      Partition partition,
      long position,
      long logStart,
      long logEnd,
      Throwable cause) {
    super(message(group, partition, position, logStart, logEnd), cause);
    this.partition = partition;
    this.position = position;
    this.logStart = logStart;
    this.logEnd = logEnd;
  }

  private static String message(
      String group, Partition partition, long position, long logStart, long logEnd) {
    String where = "[" + logStart + ", " + logEnd + ")";
    if (logStart >= 0 && position < logStart) {
      return "Stored position "
          + position
          + " of "
          + partition
          + " (group '"
          + group
          + "') is before the log start: the log now holds "
          + where
          + ", so records at positions ["
          + position
          + ", "
          + logStart
          + ") were deleted by retention before they were processed. Nothing was skipped."
          + " To accept the loss, use OutOfRangePolicy.SKIP or overwrite the position.";
    }
    if (logEnd >= 0 && position > logEnd) {
      return "Stored position "
          + position
          + " of "
          + partition
          + " (group '"
          + group
          + "') is beyond the log end "
          + logEnd
          + " (the log holds "
          + where
          + "): the topic was deleted and re-created, the cluster replaced, or the position set"
          + " too far. Nothing was read or skipped. Overwrite the group's positions to go on.";
    }
    return "Stored position "
        + position
        + " of "
        + partition
        + " (group '"
        + group
        + "') is outside the log "
        + where
        + ". Was the topic deleted and recreated? Overwrite the group's positions to go on.";
  }

  /**
   * The partition.
   *
   * @return the partition
   */
  public Partition partition() {
    return partition;
  }

  /**
   * The stored position.
   *
   * @return the position
   */
  public long position() {
    return position;
  }

  /**
   * The log start offset when checked.
   *
   * @return the offset, or -1 if unknown
   */
  public long logStart() {
    return logStart;
  }

  /**
   * The log end offset when checked.
   *
   * @return the offset, or -1 if unknown
   */
  public long logEnd() {
    return logEnd;
  }
}
