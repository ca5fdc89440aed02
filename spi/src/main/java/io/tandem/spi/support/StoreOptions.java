package io.tandem.spi.support;

import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The declared options of one store, and the one reader of a URI query and a property map.
 *
 * <p>Reading rules, the same in every store:
 *
 * <ul>
 *   <li>Names are exact and camelCase. An unknown name, in the URI or the properties, is refused
 *       with a message naming every known option (and the new name of a renamed one).
 *   <li>A name given twice in the URI is refused with the same kind of message.
 *   <li>An option declared {@link StoreOption#propertiesOnly()} is refused in the URI query.
 *   <li>An option given both in the URI and in the properties is refused, whatever the values: one
 *       place per option keeps a configuration readable, and no precedence rule has to be learnt.
 *   <li>URI components are percent-decoded as RFC 3986 says ({@link StoreUris#decode(String)}: a
 *       {@code +} stays a {@code +}); property values are taken as they are.
 *   <li>Durations follow {@link Durations}; a value that does not parse is refused naming the
 *       option, the value (unless secret) and what is expected.
 *   <li>Secret values never appear in a message, a {@code toString} or a log; {@link #mask(String)}
 *       hides them in a URI.
 * </ul>
 *
 * Every failure is a {@link StoreConfigurationException}.
 *
 * @since 0.1
 */
public final class StoreOptions {

  private final String store;
  private final Map<String, StoreOption<?>> options;
  private final String note;

  private StoreOptions(String store, Map<String, StoreOption<?>> options, String note) {
    this.store = store;
    this.options = options;
    this.note = note;
  }

  /**
   * Declares a store's options.
   *
   * @param store the store's name for messages ({@code Redis})
   * @param options the options, in the order of the option table
   * @return the declaration
   * @throws IllegalArgumentException if two options share a name or a former name
   */
  public static StoreOptions of(String store, List<StoreOption<?>> options) {
    Objects.requireNonNull(store, "store must not be null");
    Map<String, StoreOption<?>> byName = new LinkedHashMap<>();
    for (StoreOption<?> o : options) {
      if (byName.put(o.name(), o) != null) {
        throw new IllegalArgumentException("option '" + o.name() + "' is declared twice");
      }
    }
    for (StoreOption<?> o : options) {
      for (String former : o.formerNames()) {
        if (byName.containsKey(former)) {
          throw new IllegalArgumentException(
              "former name '" + former + "' of '" + o.name() + "' is a current option");
        }
      }
    }
    return new StoreOptions(store, Collections.unmodifiableMap(byName), "");
  }

  /**
   * The same declaration with a sentence added to every unknown-option message, for names that pass
   * elsewhere ({@code driver options go in the connection string}).
   *
   * @param note the sentence
   * @return a new declaration
   */
  public StoreOptions withNote(String note) {
    return new StoreOptions(store, options, Objects.requireNonNull(note, "note must not be null"));
  }

  /**
   * The declared options, in order.
   *
   * @return the options
   */
  public List<StoreOption<?>> all() {
    return List.copyOf(options.values());
  }

  /**
   * The option of a name.
   *
   * @param name the name
   * @return the option, or empty if none is declared so
   */
  public Optional<StoreOption<?>> find(String name) {
    return Optional.ofNullable(options.get(name));
  }

  /**
   * Reads the URI's query ({@link #queryPairs(String)}) and the properties.
   *
   * @param uri the store URI, for messages (masked) and its query
   * @param properties options beside the URI
   * @return the values read
   * @throws StoreConfigurationException if a name is unknown or repeated, an option is given in
   *     both places, or a value does not parse
   */
  public OptionValues read(String uri, Map<String, String> properties) {
    return read(uri, queryPairs(uri), properties);
  }

  /**
   * Reads options a store took from its URI itself (such as JDBC's {@code tandem.}-prefixed
   * parameters) and the properties.
   *
   * @param uri the store URI, for messages (masked)
   * @param fromUri name and decoded value of each option in the URI, in order, repeats included
   * @param properties options beside the URI
   * @return the values read
   * @throws StoreConfigurationException if a name is unknown or repeated, an option is given in
   *     both places, or a value does not parse
   */
  public OptionValues read(
      String uri, List<Map.Entry<String, String>> fromUri, Map<String, String> properties) {
    Objects.requireNonNull(uri, "uri must not be null");
    Objects.requireNonNull(fromUri, "fromUri must not be null");
    Objects.requireNonNull(properties, "properties must not be null");
    Map<StoreOption<?>, Object> values = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : fromUri) {
      StoreOption<?> o = known(e.getKey(), uri);
      if (!o.inQuery()) {
        throw new StoreConfigurationException(
            "Option '"
                + o.name()
                + "' of the "
                + store
                + " store is not accepted in the URI query ('"
                + mask(uri)
                + "'); give it as a property.");
      }
      if (values.containsKey(o)) {
        throw new StoreConfigurationException(
            "Option '"
                + o.name()
                + "' is given twice in the "
                + store
                + " store URI '"
                + mask(uri)
                + "'; give it once. "
                + knownList());
      }
      values.put(o, parse(o, e.getValue(), uri));
    }
    for (Map.Entry<String, String> e : properties.entrySet()) {
      String key = Objects.requireNonNull(e.getKey(), "property name must not be null");
      StoreOption<?> o = known(key, uri);
      if (values.containsKey(o)) {
        throw new StoreConfigurationException(
            "Option '"
                + o.name()
                + "' is given both in the "
                + store
                + " store URI '"
                + mask(uri)
                + "' and in the properties; give it in one place.");
      }
      String value =
          Objects.requireNonNull(e.getValue(), () -> "property '" + key + "' must not be null");
      values.put(o, parse(o, value, uri));
    }
    return new OptionValues(values);
  }

  private StoreOption<?> known(String name, String uri) {
    StoreOption<?> o = options.get(name);
    if (o != null) {
      return o;
    }
    throw unknown(name, uri);
  }

  /**
   * The exception for an unknown option name, for stores that find one outside {@link #read}.
   *
   * @param name the unknown name
   * @param uri the store URI (masked in the message)
   * @return the exception, naming every known option
   */
  public StoreConfigurationException unknown(String name, String uri) {
    String hint = "";
    String squashed = squash(name);
    for (StoreOption<?> o : options.values()) {
      if (o.formerNames().contains(name)) {
        hint = " It is now called '" + o.name() + "'.";
        break;
      }
      if (squash(o.name()).equals(squashed)) {
        hint = " Did you mean '" + o.name() + "'? Options are camelCase.";
        break;
      }
    }
    return new StoreConfigurationException(
        "Unknown option '"
            + name
            + "' for the "
            + store
            + " store ('"
            + mask(uri)
            + "')."
            + hint
            + " "
            + knownList()
            + (note.isEmpty() ? "" : " " + note));
  }

  private String knownList() {
    return "Known options: " + String.join(", ", options.keySet()) + ".";
  }

  private static String squash(String name) {
    return name.replaceAll("[-_.]", "").toLowerCase(Locale.ROOT);
  }

  private Object parse(StoreOption<?> o, String value, String uri) {
    try {
      return o.parse(value);
    } catch (IllegalArgumentException e) {
      String message =
          "Option '"
              + o.name()
              + "' of the "
              + store
              + " store ('"
              + mask(uri)
              + "'): "
              + e.getMessage();
      // A secret's parse error carries no cause, so nothing in the chain repeats it.
      return throwConfig(message, o.secret() ? null : e);
    }
  }

  private static Object throwConfig(String message, Throwable cause) {
    throw cause == null
        ? new StoreConfigurationException(message)
        : new StoreConfigurationException(message, cause);
  }

  /**
   * The URI with every password hidden: user-info passwords and parameters {@link StoreUris#mask}
   * knows, and every option declared secret.
   *
   * @param uri the URI, may be null
   * @return the masked URI
   */
  public String mask(String uri) {
    String masked = StoreUris.mask(uri);
    for (StoreOption<?> o : options.values()) {
      if (o.secret()) {
        masked =
            Pattern.compile("([?&;]" + Pattern.quote(o.name()) + "=)[^&;#]*")
                .matcher(masked)
                .replaceAll("$1****");
      }
    }
    return masked;
  }

  /**
   * The option table of the store's README, in Markdown: one row per option, in declaration order,
   * with type, default and description. A store's unit test compares its README with it.
   *
   * @return the table, lines ending in {@code \n}
   */
  public String markdownTable() {
    StringBuilder out = new StringBuilder();
    out.append("| option | type | default | meaning |\n|---|---|---|---|\n");
    for (StoreOption<?> o : options.values()) {
      out.append("| `")
          .append(o.name())
          .append("` | ")
          .append(o.type())
          .append(" | ")
          .append(o.defaultText())
          .append(" | ")
          .append(o.description())
          .append(o.secret() ? "; masked in every message" : "")
          .append(o.inQuery() ? "" : "; properties only, not in the query")
          .append(" |\n");
    }
    return out.toString();
  }

  /**
   * The query parameters of a URI, in order, repeats kept, each name and value percent-decoded (RFC
   * 3986). A parameter without {@code =} has an empty value.
   *
   * @param uri the URI
   * @return the parameters
   * @throws StoreConfigurationException if a parameter has no name or bad percent-encoding
   */
  public static List<Map.Entry<String, String>> queryPairs(String uri) {
    Objects.requireNonNull(uri, "uri must not be null");
    List<Map.Entry<String, String>> out = new ArrayList<>();
    int q = uri.indexOf('?');
    if (q < 0) {
      return out;
    }
    String query = uri.substring(q + 1);
    int hash = query.indexOf('#');
    if (hash >= 0) {
      query = query.substring(0, hash);
    }
    for (String pair : query.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq), uri);
      if (name.isEmpty()) {
        throw new StoreConfigurationException(
            "Malformed store URI '" + StoreUris.mask(uri) + "': a query parameter has no name");
      }
      out.add(Map.entry(name, eq < 0 ? "" : decode(pair.substring(eq + 1), uri)));
    }
    return out;
  }

  private static String decode(String component, String uri) {
    try {
      return StoreUris.decode(component);
    } catch (IllegalArgumentException e) {
      throw new StoreConfigurationException(
          "Malformed store URI '" + StoreUris.mask(uri) + "': " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return store
        + " options "
        + options.values().stream().map(StoreOption::name).collect(Collectors.toList());
  }
}
