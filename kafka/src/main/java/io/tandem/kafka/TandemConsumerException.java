package io.tandem.kafka;

/**
 * Root of the failures that stop a {@link TandemConsumer}, apart from the store's own {@link
 * io.tandem.spi.OffsetStoreException}s and Kafka's exceptions, which {@link TandemConsumer#run()}
 * throws unchanged.
 *
 * @since 0.1
 */
public class TandemConsumerException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what happened and what to do
   * @param cause the underlying failure, or null
   */
  public TandemConsumerException(String message, Throwable cause) {
    super(message, cause);
  }
}
