package io.tandem.zookeeper.internal;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Turns any non-empty string (group, topic, result key) into one legal znode name and back.
 *
 * <p>Internal: may change in any release.
 *
 * <p>ZooKeeper refuses {@code /} inside a name, the names {@code .} and {@code ..}, the null
 * character and several ranges of control and private-use characters ({@code PathUtils}), and
 * reserves {@code /zookeeper} at the root. The encoding keeps {@code [A-Za-z0-9_-]} and {@code .}
 * (readable names stay readable in {@code zkCli}), writes every other character as the {@code %XX}
 * escapes of its UTF-8 bytes (upper-case hex), and escapes a leading dot, so no encoded name is
 * {@code .} or {@code ..}. Decoding accepts only the canonical form, so two different names never
 * share a node, and nodes that Tandem did not create are recognised as foreign.
 */
public final class NodeNames {

  private NodeNames() {}

  /**
   * Encodes a name.
   *
   * @param name the name; not empty, no unpaired surrogate
   * @return the znode name
   * @throws IllegalArgumentException if {@code name} is empty or not valid UTF-16
   */
  public static String encode(String name) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a node name must not be empty");
    }
    if (allPlain(name)) {
      // The common case (a sink writes one name per result key): nothing to escape, no copy.
      return name;
    }
    ByteBuffer bytes;
    try {
      bytes =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(name));
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(
          "name contains an unpaired surrogate and cannot be stored: " + name, e);
    }
    StringBuilder out = new StringBuilder(bytes.remaining() + 8);
    boolean first = true;
    while (bytes.hasRemaining()) {
      int b = bytes.get() & 0xff;
      if (plain(b) && !(first && b == '.')) {
        out.append((char) b);
      } else {
        out.append('%').append(HEX[b >>> 4]).append(HEX[b & 0xf]);
      }
      first = false;
    }
    return out.toString();
  }

  /**
   * Decodes a znode name written by {@link #encode(String)}.
   *
   * @param node the znode name
   * @return the name, or empty if {@code node} is not a canonical encoding (a foreign node)
   */
  public static Optional<String> decode(String node) {
    if (node.isEmpty()) {
      return Optional.empty();
    }
    byte[] bytes = new byte[node.length()];
    int n = 0;
    for (int i = 0; i < node.length(); i++) {
      char c = node.charAt(i);
      if (c == '%') {
        if (i + 2 >= node.length()) {
          return Optional.empty();
        }
        int hi = hex(node.charAt(i + 1));
        int lo = hex(node.charAt(i + 2));
        if (hi < 0 || lo < 0) {
          return Optional.empty();
        }
        bytes[n++] = (byte) (hi << 4 | lo);
        i += 2;
      } else if (c < 128 && plain(c) && !(i == 0 && c == '.')) {
        bytes[n++] = (byte) c;
      } else {
        return Optional.empty();
      }
    }
    String name;
    try {
      name =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes, 0, n))
              .toString();
    } catch (CharacterCodingException e) {
      return Optional.empty();
    }
    // Canonical only: "%41" decodes to "A" but is not how "A" is stored.
    return encode(name).equals(node) ? Optional.of(name) : Optional.empty();
  }

  private static boolean allPlain(String name) {
    if (name.charAt(0) == '.') {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if (!plain(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private static boolean plain(int c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '_'
        || c == '.';
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
