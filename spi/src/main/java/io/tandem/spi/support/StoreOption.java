package io.tandem.spi.support;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * One declared option of a store: its name, type, default, description and whether its value is a
 * secret. A store declares each option once, in a {@link StoreOptions}; the same declaration reads
 * the URI and the properties, names the known options in errors, masks secrets and generates the
 * README's option table.
 *
 * <p>Names are camelCase ({@code connectTimeout}, {@code maxRangesPerCommit}): the spelling of the
 * builder method that sets the same option, and of the drivers' own URI options (MongoDB's {@code
 * replicaSet}, the JDBC drivers' {@code connectTimeout}).
 *
 * @param <T> the value type
 * @since 0.1
 */
public final class StoreOption<T> {

  private final String name;
  private final String type;
  private final T defaultValue;
  private final String defaultText;
  private final String description;
  private final boolean secret;
  private final Function<String, T> parser;
  private final List<String> formerNames;
  private final boolean inQuery;

  private StoreOption(
      String name,
      String type,
      T defaultValue,
      String defaultText,
      String description,
      boolean secret,
      Function<String, T> parser,
      List<String> formerNames,
      boolean inQuery) {
    this.name = Objects.requireNonNull(name, "name must not be null");
    if (!name.matches("[a-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*)*")) {
      throw new IllegalArgumentException("option name must be camelCase, got '" + name + "'");
    }
    this.type = Objects.requireNonNull(type, "type must not be null");
    this.defaultValue = defaultValue;
    this.defaultText = Objects.requireNonNull(defaultText, "defaultText must not be null");
    this.description = Objects.requireNonNull(description, "description must not be null");
    this.secret = secret;
    this.parser = Objects.requireNonNull(parser, "parser must not be null");
    this.formerNames = List.copyOf(formerNames);
    this.inQuery = inQuery;
  }

  /**
   * A text option.
   *
   * @param name the option's name, camelCase
   * @param defaultValue the default, or null for none
   * @param description what it does, one sentence
   * @return the option
   */
  public static StoreOption<String> text(String name, String defaultValue, String description) {
    return new StoreOption<>(
        name,
        "text",
        defaultValue,
        defaultValue == null ? "none" : "`" + defaultValue + "`",
        description,
        false,
        v -> v,
        List.of(),
        true);
  }

  /**
   * A secret text option (a password, a token): its value never appears in a message, a {@code
   * toString} or a log, and {@link StoreOptions#mask(String)} hides it in a URI.
   *
   * @param name the option's name, camelCase
   * @param description what it does, one sentence
   * @return the option, without a default
   */
  public static StoreOption<String> secret(String name, String description) {
    return new StoreOption<>(
        name, "secret", null, "none", description, true, v -> v, List.of(), true);
  }

  /**
   * An integer option.
   *
   * @param name the option's name, camelCase
   * @param defaultValue the default, or null when it is derived (then give {@link
   *     #defaultText(String)})
   * @param description what it does, one sentence
   * @return the option
   */
  public static StoreOption<Integer> integer(
      String name, Integer defaultValue, String description) {
    return new StoreOption<>(
        name,
        "integer",
        defaultValue,
        defaultValue == null ? "none" : "`" + defaultValue + "`",
        description,
        false,
        StoreOption::parseInt,
        List.of(),
        true);
  }

  /**
   * A {@code true}/{@code false} option (case-insensitive; nothing else is accepted).
   *
   * @param name the option's name, camelCase
   * @param defaultValue the default
   * @param description what it does, one sentence
   * @return the option
   */
  public static StoreOption<Boolean> bool(String name, boolean defaultValue, String description) {
    return new StoreOption<>(
        name,
        "boolean",
        defaultValue,
        "`" + defaultValue + "`",
        description,
        false,
        StoreOption::parseBoolean,
        List.of(),
        true);
  }

  /**
   * A duration option, read with {@link Durations#parse(String)}.
   *
   * @param name the option's name, camelCase
   * @param defaultValue the default, or null for none
   * @param description what it does, one sentence
   * @return the option
   */
  public static StoreOption<Duration> duration(
      String name, Duration defaultValue, String description) {
    return new StoreOption<>(
        name,
        "duration",
        defaultValue,
        defaultValue == null ? "none" : "`" + Durations.format(defaultValue) + "`",
        description,
        false,
        Durations::parse,
        List.of(),
        true);
  }

  /**
   * An option of any type.
   *
   * @param <T> the value type
   * @param name the option's name, camelCase
   * @param type the type in words, for the option table ({@code open or creator})
   * @param parser reads a value; throws {@link IllegalArgumentException} with a message saying what
   *     is expected when the text is not one
   * @param defaultValue the default, or null for none
   * @param description what it does, one sentence
   * @return the option
   */
  public static <T> StoreOption<T> of(
      String name, String type, Function<String, T> parser, T defaultValue, String description) {
    return new StoreOption<>(
        name,
        type,
        defaultValue,
        defaultValue == null ? "none" : "`" + defaultValue + "`",
        description,
        false,
        parser,
        List.of(),
        true);
  }

  /**
   * The same option with another default text for the option table, for defaults that are derived
   * ({@code from the URL}) rather than fixed.
   *
   * @param text the default in words, Markdown
   * @return a new option
   */
  public StoreOption<T> defaultText(String text) {
    return new StoreOption<>(
        name, type, defaultValue, text, description, secret, parser, formerNames, inQuery);
  }

  /**
   * The same option, naming the spellings it had before: an unknown option of such a name is
   * refused with a hint at the new one.
   *
   * @param names former spellings
   * @return a new option
   */
  public StoreOption<T> formerly(String... names) {
    return new StoreOption<>(
        name,
        type,
        defaultValue,
        defaultText,
        description,
        secret,
        parser,
        List.of(names),
        inQuery);
  }

  /**
   * The same option, accepted in the properties only, never in the URI query: for credentials that
   * have their own place in the URI (its user info), so that there is one way to put them there.
   *
   * @return a new option
   */
  public StoreOption<T> propertiesOnly() {
    return new StoreOption<>(
        name, type, defaultValue, defaultText, description, secret, parser, formerNames, false);
  }

  /**
   * Whether the URI query may carry the option.
   *
   * @return false for {@link #propertiesOnly()} options
   */
  public boolean inQuery() {
    return inQuery;
  }

  /**
   * The option's name, as the URI query and the properties spell it.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * The type in words: {@code text}, {@code secret}, {@code integer}, {@code boolean}, {@code
   * duration} or the store's own.
   *
   * @return the type
   */
  public String type() {
    return type;
  }

  /**
   * The default value.
   *
   * @return the default, or empty when there is none or it is derived
   */
  public Optional<T> defaultValue() {
    return Optional.ofNullable(defaultValue);
  }

  /**
   * The default in words, for the option table.
   *
   * @return the default, Markdown
   */
  public String defaultText() {
    return defaultText;
  }

  /**
   * What the option does.
   *
   * @return the description
   */
  public String description() {
    return description;
  }

  /**
   * Whether the value is a secret, never shown.
   *
   * @return true for passwords and tokens
   */
  public boolean secret() {
    return secret;
  }

  /**
   * Former spellings of the name.
   *
   * @return the names, possibly empty
   */
  public List<String> formerNames() {
    return formerNames;
  }

  /**
   * Reads a value.
   *
   * @param text the text from the URI or the properties
   * @return the value
   * @throws IllegalArgumentException if the text is not a value of this option's type; the message
   *     repeats the text unless the option is secret
   */
  public T parse(String text) {
    Objects.requireNonNull(text, () -> "option '" + name + "' must not be null");
    try {
      return parser.apply(text);
    } catch (IllegalArgumentException e) {
      if (secret) {
        // No cause: its message would repeat the secret.
        throw new IllegalArgumentException("the value is not valid (not shown: a secret)");
      }
      throw e;
    }
  }

  /**
   * The value as messages show it: {@code ****} for a secret.
   *
   * @param value the value
   * @return the value or {@code ****}
   */
  public String show(Object value) {
    return secret ? "****" : String.valueOf(value);
  }

  @Override
  public String toString() {
    return name;
  }

  private static Integer parseInt(String text) {
    try {
      return Integer.valueOf(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected an integer, got '" + text + "'", e);
    }
  }

  private static Boolean parseBoolean(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> Boolean.TRUE;
      case "false" -> Boolean.FALSE;
      default -> throw new IllegalArgumentException("expected true or false, got '" + text + "'");
    };
  }
}
