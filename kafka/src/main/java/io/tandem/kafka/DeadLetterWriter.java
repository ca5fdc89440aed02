package io.tandem.kafka;

/**
 * Writes a poison record (one that cannot be deserialized or whose processing fails on its own)
 * through the store's handle, inside the commit that moves the offsets past it. The record is thus
 * either dead-lettered and skipped, or neither: never lost, never both.
 *
 * @param <K> the record key type
 * @param <V> the record value type
 * @param <T> the store's handle type
 * @since 0.1
 */
@FunctionalInterface
public interface DeadLetterWriter<K, V, T> {

  /**
   * Records the poison record through {@code handle}, for example as a row in a dead-letter table.
   * Anything thrown is fatal: the consumer stops with it, no offset moves.
   *
   * @param letter the record, its raw bytes and what failed
   * @param handle the store's handle, valid only during this call
   * @throws Exception anything; it stops the consumer
   */
  void write(DeadLetter<K, V> letter, T handle) throws Exception;
}
