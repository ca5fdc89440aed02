package io.tandem.spring;

/**
 * A listener container or application set up in a way Tandem cannot make exactly-once; thrown at
 * startup, before any record is consumed. The message says what to change.
 *
 * @since 0.1
 */
public class TandemConfigurationException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what is wrong and what to do
   */
  public TandemConfigurationException(String message) {
    super(message);
  }
}
