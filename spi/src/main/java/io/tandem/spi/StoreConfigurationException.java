package io.tandem.spi;

/**
 * A store could not be opened as configured: a malformed URI, an unknown or invalid option, no
 * provider for the scheme, or several providers where one is needed.
 *
 * @since 0.1
 */
public class StoreConfigurationException extends OffsetStoreException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message the option or URI part at fault, the value (passwords masked), what to do
   */
  public StoreConfigurationException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message the option or URI part at fault, the value (passwords masked), what to do
   * @param cause the underlying failure
   */
  public StoreConfigurationException(String message, Throwable cause) {
    super(message, cause);
  }
}
