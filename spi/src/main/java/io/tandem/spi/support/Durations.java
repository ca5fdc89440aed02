package io.tandem.spi.support;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one duration grammar of every store option: a plain number is milliseconds ({@code 1500}); a
 * number with a unit is {@code 500ms}, {@code 5s}, {@code 2m} or {@code 1h}; anything starting with
 * {@code P} is ISO-8601 ({@code PT5S}, {@code PT1M30S}). Negative durations are refused.
 *
 * @since 0.1
 */
public final class Durations {

  /** The grammar in words, for messages and documentation. */
  public static final String GRAMMAR =
      "milliseconds (1500), a number with a unit (500ms, 5s, 2m, 1h) or ISO-8601 (PT5S)";

  private static final Pattern WITH_UNIT = Pattern.compile("(\\d{1,18})\\s*(ms|s|m|h)?");

  private Durations() {}

  /**
   * Parses a duration.
   *
   * @param text the text, surrounding blanks ignored, units case-insensitive
   * @return the duration, zero or positive
   * @throws NullPointerException if {@code text} is null
   * @throws IllegalArgumentException if the text is not a duration of this grammar or is negative
   */
  public static Duration parse(String text) {
    Objects.requireNonNull(text, "duration must not be null");
    String v = text.trim();
    if (v.regionMatches(true, 0, "P", 0, 1)) {
      Duration d;
      try {
        d = Duration.parse(v.toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(
            "expected a duration: " + GRAMMAR + ", got '" + text + "'", e);
      }
      if (d.isNegative()) {
        throw new IllegalArgumentException("a duration must not be negative, got '" + text + "'");
      }
      return d;
    }
    Matcher m = WITH_UNIT.matcher(v.toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "expected a duration: " + GRAMMAR + ", got '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "ms" : m.group(2);
    try {
      return switch (unit) {
        case "h" -> Duration.ofHours(n);
        case "m" -> Duration.ofMinutes(n);
        case "s" -> Duration.ofSeconds(n);
        default -> Duration.ofMillis(n);
      };
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("duration '" + text + "' is too long", e);
    }
  }

  /**
   * Formats a duration in this grammar, in the largest unit that keeps it exact ({@code 30s},
   * {@code 1500ms}, {@code 2m}); the inverse of {@link #parse(String)} for whole milliseconds.
   *
   * @param duration the duration
   * @return the text
   * @throws NullPointerException if {@code duration} is null
   */
  public static String format(Duration duration) {
    Objects.requireNonNull(duration, "duration must not be null");
    if (duration.getNano() % 1_000_000 != 0 || duration.isNegative()) {
      return duration.toString();
    }
    long ms = duration.toMillis();
    if (ms != 0 && ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms != 0 && ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms != 0 && ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
