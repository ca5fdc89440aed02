package io.tandem.spi;

/**
 * Root of every exception a store throws. Unchecked: callers catch the subtype they can act on.
 *
 * @since 0.1
 */
public class OffsetStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what was expected, what was found and what to do
   */
  public OffsetStoreException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message what was expected, what was found and what to do
   * @param cause the driver's or writer's exception
   */
  public OffsetStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
