package io.tandem.spring;

import java.util.Optional;

/**
 * The store's unit-of-work handle of the commit that is running a listener on this thread: a JDBC
 * {@code Connection}, a Redis transaction, ... Results written through it commit together with the
 * batch's offsets. A {@code @KafkaListener} method can also declare a parameter of the handle's
 * type (with the starter, or {@link StoreHandleArgumentResolver} registered).
 *
 * @since 0.1
 */
public final class StoreHandles {

  private static final ThreadLocal<Object> CURRENT = new ThreadLocal<>();

  private StoreHandles() {}

  /**
   * The handle of the commit running on this thread.
   *
   * @param <T> the handle type
   * @param type the store's handle type, such as {@code io.tandem.redis.RedisTransaction}
   * @return the handle
   * @throws IllegalStateException outside a Tandem listener, or if the store's handle is of another
   *     type
   */
  public static <T> T current(Class<T> type) {
    return find(type)
        .orElseThrow(
            () ->
                new IllegalStateException(
                    CURRENT.get() == null
                        ? "No Tandem commit runs on this thread: the store handle exists only while"
                            + " a Tandem-managed listener runs"
                        : "The Tandem store's handle is a "
                            + CURRENT.get().getClass().getName()
                            + ", not a "
                            + type.getName()));
  }

  /**
   * The handle of the commit running on this thread, if there is one of this type.
   *
   * @param <T> the handle type
   * @param type the expected type
   * @return the handle, or empty
   */
  public static <T> Optional<T> find(Class<T> type) {
    Object h = CURRENT.get();
    return type.isInstance(h) ? Optional.of(type.cast(h)) : Optional.empty();
  }

  static Object set(Object handle) {
    Object before = CURRENT.get();
    CURRENT.set(handle);
    return before;
  }

  static void restore(Object before) {
    if (before == null) {
      CURRENT.remove();
    } else {
      CURRENT.set(before);
    }
  }
}
