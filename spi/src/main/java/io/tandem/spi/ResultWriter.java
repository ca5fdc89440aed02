package io.tandem.spi;

/**
 * The user's part of a commit: writes a batch's results through the store's unit-of-work handle.
 *
 * <p>For a {@link Guarantee#TRANSACTIONAL} store the handle belongs to the commit's transaction
 * (for example the JDBC {@code Connection} inside it) and whatever is written through it commits or
 * rolls back with the offsets. Writes that bypass the handle are outside the guarantee.
 *
 * @param <T> the store's handle type
 * @since 0.1
 */
@FunctionalInterface
public interface ResultWriter<T> {

  /**
   * Writes results through {@code handle}. Anything thrown aborts the commit: no offset moves and,
   * for a transactional store, no result stays; the store rethrows it as the cause of a {@link
   * ResultWriteException}.
   *
   * <p>A writer may run more than once for one batch (after a conflict or an outage the runtime
   * replays the batch), so it must not keep state of its own across calls.
   *
   * @param handle the store's unit-of-work handle, valid only during this call
   * @throws Exception anything; it aborts the commit
   */
  void write(T handle) throws Exception;

  /**
   * A writer that writes nothing: the commit moves offsets only.
   *
   * @param <T> the store's handle type
   * @return a writer that does nothing
   */
  static <T> ResultWriter<T> none() {
    return handle -> {};
  }
}
