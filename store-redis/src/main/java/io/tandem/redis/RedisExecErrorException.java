package io.tandem.redis;

import io.tandem.spi.OffsetStoreException;
import java.util.List;

/**
 * A commit was <em>applied</em> (its positions moved) but some of the writer's commands failed
 * inside {@code EXEC} with a run-time error, such as {@code WRONGTYPE} or {@code ERR value is not
 * an integer}. Redis does not roll a transaction back: the other commands and the positions took
 * effect, the failed commands did nothing. The batch will not be replayed (its positions moved), so
 * the failed commands' results are missing until someone repairs them.
 *
 * <p>This is a data error that needs a human: the same batch would fail the same way again. Fix the
 * keys the errors name (their type or value), then repair the missing results. See {@link
 * RedisOffsetStore} for why a Redis transaction cannot do better.
 */
public final class RedisExecErrorException extends OffsetStoreException {
  private static final long serialVersionUID = 1L;

  private final transient List<String> errors;

  RedisExecErrorException(String message, List<String> errors) {
    super(message);
    this.errors = List.copyOf(errors);
  }

  /**
   * The failed commands: {@code command #<index in the writer's order>: <Redis error>}.
   *
   * @return the errors, not empty
   */
  public List<String> errors() {
    return errors == null ? List.of() : errors;
  }
}
