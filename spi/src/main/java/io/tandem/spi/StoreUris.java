package io.tandem.spi;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Small helpers for store URIs, shared by providers so that every store masks secrets and reads
 * parameters the same way.
 *
 * @since 0.1
 */
public final class StoreUris {

  private static final Pattern USER_INFO_PASSWORD = Pattern.compile("(//[^:/@?#]*:)[^@/?#]*@");
  private static final Pattern PASSWORD_PARAMETER =
      Pattern.compile("(?i)((?:password|pwd|secret|token)=)[^&;]*");
  private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*");

  private StoreUris() {}

  /**
   * The scheme of a URI: the part before the first colon, in lower case ({@code jdbc} for {@code
   * jdbc:postgresql://...}).
   *
   * @param uri the URI
   * @return the scheme
   * @throws NullPointerException if {@code uri} is null
   * @throws StoreConfigurationException if the URI has no valid scheme
   */
  public static String scheme(String uri) {
    Objects.requireNonNull(uri, "uri must not be null");
    int colon = uri.indexOf(':');
    String scheme = colon < 0 ? "" : uri.substring(0, colon);
    if (!SCHEME.matcher(scheme).matches()) {
      throw new StoreConfigurationException(
          "Malformed store URI '"
              + mask(uri)
              + "': expected <scheme>:..., such as jdbc:postgresql://host/db or redis://host:6379");
    }
    return scheme.toLowerCase(Locale.ROOT);
  }

  /**
   * The URI with passwords replaced by {@code ****}, for messages and logs.
   *
   * @param uri the URI, may be null
   * @return the masked URI
   */
  public static String mask(String uri) {
    if (uri == null) {
      return "null";
    }
    String masked = USER_INFO_PASSWORD.matcher(uri).replaceAll("$1****@");
    return PASSWORD_PARAMETER.matcher(masked).replaceAll("$1****");
  }

  /**
   * The query parameters of a URI ({@code ?a=1&b=2}), in order, percent-decoded as RFC 3986 says
   * ({@link #decode(String)}: a {@code +} stays a {@code +}). A parameter without {@code =} has an
   * empty value.
   *
   * @param uri the URI
   * @return the parameters, possibly empty
   * @throws StoreConfigurationException if a parameter is given twice or is malformed
   */
  public static Map<String, String> query(String uri) {
    Objects.requireNonNull(uri, "uri must not be null");
    Map<String, String> out = new LinkedHashMap<>();
    int q = uri.indexOf('?');
    if (q < 0 || q == uri.length() - 1) {
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
      String key = decode(eq < 0 ? pair : pair.substring(0, eq), uri);
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1), uri);
      if (key.isEmpty()) {
        throw new StoreConfigurationException(
            "Malformed store URI '" + mask(uri) + "': a query parameter has no name");
      }
      if (out.put(key, value) != null) {
        throw new StoreConfigurationException(
            "Malformed store URI '" + mask(uri) + "': parameter '" + key + "' is given twice");
      }
    }
    return out;
  }

  private static String decode(String s, String uri) {
    try {
      return decode(s);
    } catch (IllegalArgumentException e) {
      throw new StoreConfigurationException(
          "Malformed store URI '" + mask(uri) + "': " + e.getMessage(), e);
    }
  }

  /**
   * Percent-decodes one URI component as RFC 3986 defines it: {@code %XX} sequences are UTF-8
   * bytes, every other character stands for itself. Unlike {@link java.net.URLDecoder} (HTML form
   * encoding), a {@code +} stays a {@code +}, so a password such as {@code a+b} survives a URI.
   *
   * @param component the raw component (user info, path segment, query name or value)
   * @return the decoded text
   * @throws NullPointerException if {@code component} is null
   * @throws IllegalArgumentException if a {@code %} is not followed by two hex digits, or the bytes
   *     are not UTF-8; the message never repeats the component, which may be a password
   */
  public static String decode(String component) {
    Objects.requireNonNull(component, "component must not be null");
    int first = component.indexOf('%');
    if (first < 0) {
      return component;
    }
    StringBuilder out = new StringBuilder(component.length());
    out.append(component, 0, first);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    int i = first;
    while (i < component.length()) {
      char c = component.charAt(i);
      if (c != '%') {
        out.append(c);
        i++;
        continue;
      }
      bytes.reset();
      while (i < component.length() && component.charAt(i) == '%') {
        if (i + 2 >= component.length()) {
          throw new IllegalArgumentException(
              "bad percent-encoding: '%' at position " + i + " is not followed by two hex digits");
        }
        int hi = Character.digit(component.charAt(i + 1), 16);
        int lo = Character.digit(component.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new IllegalArgumentException(
              "bad percent-encoding: '%' at position " + i + " is not followed by two hex digits");
        }
        bytes.write(hi << 4 | lo);
        i += 3;
      }
      try {
        out.append(
            java.nio.charset.StandardCharsets.UTF_8
                .newDecoder()
                .decode(java.nio.ByteBuffer.wrap(bytes.toByteArray())));
      } catch (java.nio.charset.CharacterCodingException e) {
        throw new IllegalArgumentException("bad percent-encoding: the bytes are not UTF-8", e);
      }
    }
    return out.toString();
  }
}
