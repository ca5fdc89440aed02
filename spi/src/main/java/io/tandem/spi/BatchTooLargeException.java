package io.tandem.spi;

/**
 * A batch is larger than the store accepts in one atomic step (too many ranges, or a request over
 * the server's size limit). Stores never split a batch, which would break atomicity: commit fewer
 * partitions or smaller results per call.
 *
 * @since 0.1
 */
public class BatchTooLargeException extends InvalidBatchException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message the limit, the size found, and what to do
   */
  public BatchTooLargeException(String message) {
    super(message);
  }
}
