package io.tandem.spi;

/**
 * The caller broke a rule of the contract (an empty group, duplicate partitions, a negative
 * position, a batch larger than the store accepts). Thrown before anything is written; retrying the
 * same call fails the same way.
 *
 * @since 0.1
 */
public class InvalidBatchException extends OffsetStoreException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message the rule, the bad value, and what to do instead
   */
  public InvalidBatchException(String message) {
    super(message);
  }
}
