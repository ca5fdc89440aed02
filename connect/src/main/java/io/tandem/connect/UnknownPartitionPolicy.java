package io.tandem.connect;

import java.util.Locale;

/**
 * Where a Tandem sink starts a partition that has no position in the store yet (option {@value
 * TandemSinkConfig#UNKNOWN_PARTITION}).
 *
 * @since 0.1
 */
public enum UnknownPartitionPolicy {
  /** At the partition's log start offset: everything still on the broker is written. */
  EARLIEST,
  /**
   * Where the connector's Kafka consumer group stands (its committed offset), else at the log
   * start: for moving a sink that Connect ran at-least-once onto Tandem without reprocessing.
   */
  KAFKA,
  /** Fail the task: an operator sets the positions first (REST {@code PATCH .../offsets}). */
  FAIL;

  /**
   * The option's value for this policy.
   *
   * @return the lower-case name
   */
  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }
}
