package io.tandem.spi.support;

import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The option values {@link StoreOptions} read from a URI and properties, typed. Its {@code
 * toString} masks secrets.
 *
 * @since 0.1
 */
public final class OptionValues {

  private final Map<StoreOption<?>, Object> values;

  OptionValues(Map<StoreOption<?>, Object> values) {
    this.values = Collections.unmodifiableMap(values);
  }

  /**
   * The value given for an option.
   *
   * @param <T> the value type
   * @param option the option
   * @return the value, or empty if the option was not given
   */
  public <T> Optional<T> get(StoreOption<T> option) {
    @SuppressWarnings("unchecked") // put by read() only after option.parse(..) made a T
    T value = (T) values.get(option);
    return Optional.ofNullable(value);
  }

  /**
   * Runs an action with the value of an option, if it was given; the usual way to copy values into
   * a builder: {@code values.ifPresent(POOL_SIZE, b::poolSize)}.
   *
   * @param <T> the value type
   * @param option the option
   * @param action what to do with the value
   */
  public <T> void ifPresent(StoreOption<T> option, Consumer<? super T> action) {
    get(option).ifPresent(action);
  }

  /**
   * Whether an option was given.
   *
   * @param option the option
   * @return true if given in the URI or the properties
   */
  public boolean has(StoreOption<?> option) {
    return values.containsKey(option);
  }

  @Override
  public String toString() {
    return values.entrySet().stream()
        .map(e -> e.getKey().name() + "=" + e.getKey().show(e.getValue()))
        .collect(Collectors.joining(", ", "{", "}"));
  }
}
