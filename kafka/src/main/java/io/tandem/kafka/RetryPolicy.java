package io.tandem.kafka;

import java.time.Duration;
import java.util.Objects;

/**
 * How the runtime retries while the store is unavailable ({@link
 * io.tandem.spi.StoreUnavailableException}): bounded exponential backoff with jitter, a limited
 * number of attempts or forever. Before every retry the runtime re-reads the stored positions, so a
 * commit whose outcome was unknown is never applied twice.
 *
 * <p>The delay before retry {@code n} (1-based) is {@code min(maxDelay, initialDelay *
 * multiplier^(n-1))}, then scaled by a random factor in {@code [1 - jitter, 1 + jitter]} and capped
 * at {@code maxDelay} again.
 *
 * @param initialDelay the delay before the first retry; positive
 * @param maxDelay the longest delay; {@code >= initialDelay}
 * @param multiplier the growth factor per retry; {@code >= 1}
 * @param jitter the random spread, in {@code [0, 1]}; spreads the retries of many consumers
 * @param maxAttempts the most store calls for one step, the first included; {@link #UNLIMITED} to
 *     retry forever
 * @since 0.1
 */
public record RetryPolicy(
    Duration initialDelay, Duration maxDelay, double multiplier, double jitter, int maxAttempts) {

  /** {@link #maxAttempts()} value meaning: retry forever. */
  public static final int UNLIMITED = 0;

  /**
   * Checks every field against the rules above.
   *
   * @param initialDelay see the record's description
   * @param maxDelay see the record's description
   * @param multiplier see the record's description
   * @param jitter see the record's description
   * @param maxAttempts see the record's description
   * @throws IllegalArgumentException if a field breaks its rule
   */
  public RetryPolicy {
    Objects.requireNonNull(initialDelay, "initialDelay must not be null");
    Objects.requireNonNull(maxDelay, "maxDelay must not be null");
    if (initialDelay.isNegative() || initialDelay.isZero()) {
      throw new IllegalArgumentException(
          "initialDelay must be positive, got initialDelay=" + initialDelay);
    }
    if (maxDelay.compareTo(initialDelay) < 0) {
      throw new IllegalArgumentException(
          "maxDelay must be >= initialDelay, got maxDelay="
              + maxDelay
              + ", initialDelay="
              + initialDelay);
    }
    if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException(
          "multiplier must be a finite number >= 1, got multiplier=" + multiplier);
    }
    if (!(jitter >= 0.0 && jitter <= 1.0)) {
      throw new IllegalArgumentException("jitter must be in [0, 1], got jitter=" + jitter);
    }
    if (maxAttempts < 0) {
      throw new IllegalArgumentException(
          "maxAttempts must be >= 1, or UNLIMITED (0), got maxAttempts=" + maxAttempts);
    }
  }

  /**
   * The default: 100 ms doubling up to 10 s, jitter 0.2, forever. A consumer outlives a store
   * restart instead of dying with it; each retry is logged at WARN.
   *
   * @return the default policy
   */
  public static RetryPolicy defaults() {
    return new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(10), 2.0, 0.2, UNLIMITED);
  }

  /**
   * Exponential backoff doubling from {@code initialDelay} up to {@code maxDelay}, jitter 0.2,
   * forever.
   *
   * @param initialDelay the delay before the first retry
   * @param maxDelay the longest delay
   * @return the policy
   * @throws IllegalArgumentException if a delay breaks its rule
   */
  public static RetryPolicy exponential(Duration initialDelay, Duration maxDelay) {
    return new RetryPolicy(initialDelay, maxDelay, 2.0, 0.2, UNLIMITED);
  }

  /**
   * This policy with a limit on attempts.
   *
   * @param attempts the most store calls for one step, the first included; {@code >= 1}, or {@link
   *     #UNLIMITED}
   * @return a new policy
   * @throws IllegalArgumentException if {@code attempts} is negative
   */
  public RetryPolicy withMaxAttempts(int attempts) {
    return new RetryPolicy(initialDelay, maxDelay, multiplier, jitter, attempts);
  }

  /**
   * This policy with another jitter.
   *
   * @param spread the random spread in {@code [0, 1]}; 0 for fixed delays
   * @return a new policy
   * @throws IllegalArgumentException if {@code spread} is outside {@code [0, 1]}
   */
  public RetryPolicy withJitter(double spread) {
    return new RetryPolicy(initialDelay, maxDelay, multiplier, spread, maxAttempts);
  }

  /**
   * This policy with another growth factor.
   *
   * @param factor the growth factor per retry, {@code >= 1}; 1 for a constant delay
   * @return a new policy
   * @throws IllegalArgumentException if {@code factor < 1}
   */
  public RetryPolicy withMultiplier(double factor) {
    return new RetryPolicy(initialDelay, maxDelay, factor, jitter, maxAttempts);
  }

  /**
   * Whether another attempt is allowed after {@code attemptsMade} failed ones.
   *
   * @param attemptsMade the attempts made so far, {@code >= 1}
   * @return true if the runtime may try again
   */
  boolean allowsAnother(int attemptsMade) {
    return maxAttempts == UNLIMITED || attemptsMade < maxAttempts;
  }

  /**
   * The delay before retry number {@code retry}, as described in the class documentation.
   *
   * @param retry the retry number, 1 for the first retry
   * @param random a number in {@code [0, 1)} choosing the point within the jitter spread
   * @return the delay; between {@code initialDelay * (1 - jitter)} and {@code maxDelay}
   * @throws IllegalArgumentException if {@code retry < 1} or {@code random} is outside {@code [0,
   *     1)}
   */
  Duration delay(int retry, double random) {
    if (retry < 1) {
      throw new IllegalArgumentException("retry must be >= 1, got retry=" + retry);
    }
    if (!(random >= 0.0 && random < 1.0)) {
      throw new IllegalArgumentException("random must be in [0, 1), got random=" + random);
    }
    double max = maxDelay.toNanos();
    // pow may overflow to infinity for large retry counts; min() then caps it at max.
    double base = Math.min(max, initialDelay.toNanos() * Math.pow(multiplier, retry - 1.0));
    double factor = 1.0 - jitter + 2.0 * jitter * random;
    return Duration.ofNanos((long) Math.min(max, base * factor));
  }
}
