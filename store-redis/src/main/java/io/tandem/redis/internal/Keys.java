package io.tandem.redis.internal;

import io.tandem.spi.InvalidBatchException;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.Partition;
import java.util.Optional;

/**
 * Internal: may change in any release.
 *
 * <p>Where a group's positions live: one hash per group, key {@code <prefix>:{<group>}:offsets},
 * field {@code <topic>:<partition>}, value the position in decimal.
 *
 * <p>The key is injective in the group (a fixed prefix and suffix around it), and the braces make
 * the group the key's hash tag, so Redis Cluster would keep a group's hash in one slot. Only the
 * first {@code '}'} ends a hash tag, so a group containing {@code '}'} tags on its part before it:
 * the key stays distinct, only the slot is shared with similar names. The field is injective too:
 * the partition is the digits after the <em>last</em> colon, so a topic may contain colons or any
 * other character.
 */
public final class Keys {

  private static final String SUFFIX = "}:offsets";

  private final String prefix;

  /**
   * Creates the layout for a key prefix.
   *
   * @param prefix the key prefix, e.g. {@code tandem}
   */
  public Keys(String prefix) {
    this.prefix = prefix + ":{";
  }

  /**
   * The hash holding a group's positions.
   *
   * @param group the group
   * @return the key
   */
  public String offsets(String group) {
    checkEncodable("group", group);
    return prefix + group + SUFFIX;
  }

  /**
   * The SCAN pattern matching every group's hash.
   *
   * @return a glob pattern
   */
  public String pattern() {
    StringBuilder b = new StringBuilder();
    for (char c : prefix.toCharArray()) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
        b.append('\\');
      }
      b.append(c);
    }
    return b + "*" + SUFFIX;
  }

  /**
   * The group whose hash {@code key} is.
   *
   * @param key a key found by SCAN
   * @return the group, or empty if the key is not one of ours
   */
  public Optional<String> group(String key) {
    if (key.length() > prefix.length() + SUFFIX.length()
        && key.startsWith(prefix)
        && key.endsWith(SUFFIX)) {
      return Optional.of(key.substring(prefix.length(), key.length() - SUFFIX.length()));
    }
    return Optional.empty();
  }

  /**
   * The hash field of a partition.
   *
   * @param p the partition
   * @return {@code <topic>:<partition>}
   */
  public static String field(Partition p) {
    checkEncodable("topic", p.topic());
    return p.topic() + ":" + p.partition();
  }

  /**
   * The partition of a hash field.
   *
   * @param key the hash, for messages
   * @param field the field
   * @return the partition
   * @throws OffsetStoreException if the field is not {@code <topic>:<partition>}
   */
  public static Partition partition(String key, String field) {
    int colon = field.lastIndexOf(':');
    try {
      if (colon > 0) {
        return new Partition(
            field.substring(0, colon), Integer.parseInt(field.substring(colon + 1)));
      }
    } catch (IllegalArgumentException e) {
      // fall through to the message below
    }
    throw new OffsetStoreException(
        "Field '"
            + field
            + "' of hash '"
            + key
            + "' is not <topic>:<partition>: the hash holds data Tandem did not write."
            + " Remove the field or use another key prefix.");
  }

  /**
   * Parses a stored position.
   *
   * @param key the hash, for messages
   * @param field the field, for messages
   * @param value the stored value
   * @return the position
   * @throws OffsetStoreException if the value is not a non-negative integer
   */
  public static long position(String key, String field, String value) {
    try {
      long v = Long.parseLong(value);
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // fall through to the message below
    }
    throw new OffsetStoreException(
        "Field '"
            + field
            + "' of hash '"
            + key
            + "' holds '"
            + value
            + "', not a position (an integer >= 0): the hash holds data Tandem did not write."
            + " Overwrite the position or delete it.");
  }

  /**
   * Redis keys and fields are bytes; Jedis encodes strings as UTF-8, which replaces a lone
   * surrogate with '?'. Two different names would then share a key, so they are refused.
   */
  private static void checkEncodable(String what, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new InvalidBatchException(
            what
                + " must be valid UTF-16 (no lone surrogate), got a lone surrogate at index "
                + i
                + " in '"
                + s
                + "'");
      }
    }
  }
}
