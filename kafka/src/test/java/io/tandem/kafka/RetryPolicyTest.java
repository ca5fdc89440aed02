package io.tandem.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  private final RetryPolicy noJitter =
      RetryPolicy.exponential(Duration.ofMillis(100), Duration.ofSeconds(1)).withJitter(0);

  @Test
  void delayDoublesFromTheInitialDelayUpToTheMaximum() {
    assertThat(noJitter.delay(1, 0.5)).isEqualTo(Duration.ofMillis(100));
    assertThat(noJitter.delay(2, 0.5)).isEqualTo(Duration.ofMillis(200));
    assertThat(noJitter.delay(4, 0.5)).isEqualTo(Duration.ofMillis(800));
    assertThat(noJitter.delay(5, 0.5)).isEqualTo(Duration.ofSeconds(1));
    assertThat(noJitter.delay(10_000, 0.5)).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void jitterSpreadsTheDelayAndNeverExceedsTheMaximum() {
    RetryPolicy p = noJitter.withJitter(0.5);
    assertThat(p.delay(1, 0.0)).isEqualTo(Duration.ofMillis(50));
    assertThat(p.delay(1, 0.5)).isEqualTo(Duration.ofMillis(100));
    assertThat(p.delay(1, 0.999_999)).isBetween(Duration.ofMillis(149), Duration.ofMillis(150));
    assertThat(p.delay(20, 0.999_999)).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.delay(20, 0.0)).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void attemptsAreLimitedOrUnlimited() {
    assertThat(RetryPolicy.defaults().maxAttempts()).isEqualTo(RetryPolicy.UNLIMITED);
    assertThat(RetryPolicy.defaults().allowsAnother(1_000_000)).isTrue();
    RetryPolicy three = noJitter.withMaxAttempts(3);
    assertThat(three.allowsAnother(1)).isTrue();
    assertThat(three.allowsAnother(2)).isTrue();
    assertThat(three.allowsAnother(3)).isFalse();
    assertThat(noJitter.withMaxAttempts(1).allowsAnother(1)).isFalse();
  }

  @Test
  void constantDelayWithMultiplierOne() {
    RetryPolicy constant = noJitter.withMultiplier(1);
    assertThat(constant.delay(7, 0.3)).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void badSettingsAreRefusedNamingTheValue() {
    assertThatThrownBy(() -> RetryPolicy.exponential(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("initialDelay=PT0S");
    assertThatThrownBy(() -> RetryPolicy.exponential(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("maxDelay=PT1S");
    assertThatThrownBy(() -> noJitter.withMultiplier(0.5)).hasMessageContaining("multiplier=0.5");
    assertThatThrownBy(() -> noJitter.withMultiplier(Double.NaN))
        .hasMessageContaining("multiplier=NaN");
    assertThatThrownBy(() -> noJitter.withJitter(1.5)).hasMessageContaining("jitter=1.5");
    assertThatThrownBy(() -> noJitter.withMaxAttempts(-1)).hasMessageContaining("maxAttempts=-1");
    assertThatThrownBy(() -> noJitter.delay(0, 0.5)).hasMessageContaining("retry=0");
    assertThatThrownBy(() -> noJitter.delay(1, 1.0)).hasMessageContaining("random=1.0");
  }
}
