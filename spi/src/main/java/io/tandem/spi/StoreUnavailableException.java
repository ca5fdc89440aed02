package io.tandem.spi;

/**
 * The store could not be reached or did not answer in time. Retriable: re-read positions, then
 * retry. The outcome of a commit that failed so may be unknown; positions read afterwards tell.
 *
 * @since 0.1
 */
public class StoreUnavailableException extends OffsetStoreException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what failed and where (passwords masked)
   * @param cause the driver's exception
   */
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
