package io.tandem.spi;

/**
 * The {@link ResultWriter} threw; the commit was aborted and no offset moved. The cause is what the
 * writer threw.
 *
 * @since 0.1
 */
public class ResultWriteException extends OffsetStoreException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message which commit failed
   * @param cause what the writer threw
   */
  public ResultWriteException(String message, Throwable cause) {
    super(message, cause);
  }
}
