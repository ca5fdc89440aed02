package io.tandem.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void plainNumberIsMilliseconds() {
    assertThat(Durations.parse("1500")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Durations.parse(" 0 ")).isEqualTo(Duration.ZERO);
  }

  @Test
  void unitsAreMillisecondsSecondsMinutesHours() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("5S")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Durations.parse("10 s")).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void isoEightySixOhOneIsAccepted() {
    assertThat(Durations.parse("PT5S")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Durations.parse("pt1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.parse("PT0.25S")).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void anythingElseIsRefusedNamingTheGrammar() {
    for (String bad : new String[] {"", "5x", "-5", "1.5s", "PT-5S", "five", "5 ms s", "PTS"}) {
      assertThatThrownBy(() -> Durations.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + bad + "'")
          .satisfiesAnyOf(
              e -> assertThat(e).hasMessageContaining("500ms, 5s, 2m, 1h"),
              e -> assertThat(e).hasMessageContaining("must not be negative"));
    }
  }

  @Test
  void overflowIsRefused() {
    assertThatThrownBy(() -> Durations.parse("999999999999999999h"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("too long");
  }

  @Test
  void formatIsTheInverseOfParse() {
    assertThat(Durations.format(Duration.ofSeconds(30))).isEqualTo("30s");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
    assertThat(Durations.format(Duration.ofMinutes(2))).isEqualTo("2m");
    assertThat(Durations.format(Duration.ofHours(3))).isEqualTo("3h");
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0ms");
    for (Duration d : new Duration[] {Duration.ofMillis(7), Duration.ofSeconds(61)}) {
      assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
    }
  }
}
