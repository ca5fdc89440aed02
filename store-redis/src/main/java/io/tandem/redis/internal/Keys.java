package io.tandem.redis.internal;

import io.tandem.spi.InvalidBatchException;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.Partition;
import java.util.Optional;

/**
 * Internal: may change in any release.
 *
 * <p>Where a group's positions live: one string key per partition, {@code
 * <prefix>:{<group>}:offset:<topic>:<partition>}, value the position in decimal; and one set per
 * group, {@code <prefix>:{<group>}:partitions}, whose members are the {@code <topic>:<partition>}
 * strings ({@link #field(Partition)}) of the partitions that have a position key.
 *
 * <p>The group is every key's hash tag, so Redis Cluster would keep a group's keys in one slot.
 * Only the first {@code '}'} ends a hash tag, so a group containing {@code '}'} tags on its part
 * before it: the keys stay distinct, only the slot is shared with similar names.
 *
 * <p>Every key is injective. The index key has a fixed prefix and suffix around the group. A
 * position key has the group <em>and</em> a topic of any characters, so {@code '}'} in the group is
 * written twice there: reading left to right, {@code "}}"} is a {@code '}'} of the group and a
 * single {@code '}'} ends it (group {@code a}:offset:x} with topic {@code t} and group {@code a}
 * with topic {@code x}:offset:t} would otherwise share a key). Doubling keeps the hash tag: it ends
 * at the same first {@code '}'}. The member {@code <topic>:<partition>} is injective because the
 * partition is the digits after the <em>last</em> colon, so a topic may contain colons or any other
 * character. A position key ends in digits and an index key in {@code partitions}, so they never
 * meet.
 */
public final class Keys {

  private static final String INDEX_SUFFIX = "}:partitions";
  private static final String OFFSET_INFIX = "}:offset:";

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
   * The set listing a group's partitions (members are {@link #field(Partition)} strings).
   *
   * @param group the group
   * @return the key
   */
  public String index(String group) {
    checkEncodable("group", group);
    return prefix + group + INDEX_SUFFIX;
  }

  /**
   * The string key holding one partition's position.
   *
   * @param group the group
   * @param field the partition's {@link #field(Partition)}
   * @return the key
   */
  public String offset(String group, String field) {
    checkEncodable("group", group);
    return prefix + group.replace("}", "}}") + OFFSET_INFIX + field;
  }

  /**
   * The string key holding one partition's position.
   *
   * @param group the group
   * @param p the partition
   * @return the key
   */
  public String offset(String group, Partition p) {
    return offset(group, field(p));
  }

  /**
   * The SCAN pattern matching every group's index set.
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
    return b + "*" + INDEX_SUFFIX;
  }

  /**
   * The group whose index set {@code key} is.
   *
   * @param key a key found by SCAN
   * @return the group, or empty if the key is not one of our index sets
   */
  public Optional<String> group(String key) {
    if (key.length() > prefix.length() + INDEX_SUFFIX.length()
        && key.startsWith(prefix)
        && key.endsWith(INDEX_SUFFIX)) {
      return Optional.of(key.substring(prefix.length(), key.length() - INDEX_SUFFIX.length()));
    }
    return Optional.empty();
  }

  /**
   * The index member (and position key suffix) of a partition.
   *
   * @param p the partition
   * @return {@code <topic>:<partition>}
   */
  public static String field(Partition p) {
    checkEncodable("topic", p.topic());
    return p.topic() + ":" + p.partition();
  }

  /**
   * The partition of an index member.
   *
   * @param index the index set, for messages
   * @param field the member
   * @return the partition
   * @throws OffsetStoreException if the member is not {@code <topic>:<partition>}
   */
  public static Partition partition(String index, String field) {
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
        "Member '"
            + field
            + "' of set '"
            + index
            + "' is not <topic>:<partition>: the set holds data Tandem did not write."
            + " Remove the member or use another key prefix.");
  }

  /**
   * Parses a stored position.
   *
   * @param key the position key, for messages
   * @param value the stored value
   * @return the position
   * @throws OffsetStoreException if the value is not a non-negative integer
   */
  public static long position(String key, String value) {
    try {
      long v = Long.parseLong(value);
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // fall through to the message below
    }
    throw new OffsetStoreException(
        "Key '"
            + key
            + "' holds '"
            + value
            + "', not a position (an integer >= 0): the key holds data Tandem did not write."
            + " Overwrite the position or delete it.");
  }

  /**
   * Redis keys and members are bytes; Jedis encodes strings as UTF-8, which replaces a lone
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
