package io.tandem.kafka;

/**
 * What to do when a stored position is no longer in the log, because retention or {@code
 * deleteRecords} removed records before they were processed.
 *
 * @since 0.1
 */
public enum OutOfRangePolicy {
  /**
   * Stop with a {@link PositionOutOfRangeException} naming the partition, the stored position and
   * the log's current start and end. Nothing is skipped silently. The default.
   */
  FAIL,
  /**
   * Move the stored position to the log start (a conditional commit with no results) and go on,
   * logging at ERROR the exact range of positions that was lost. A stored position beyond the log
   * end (the topic was recreated) still fails: it cannot be explained by retention.
   */
  SKIP
}
