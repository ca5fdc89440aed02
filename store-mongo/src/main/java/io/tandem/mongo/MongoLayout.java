package io.tandem.mongo;

import java.util.Locale;

/** How a {@link MongoOffsetStore} lays out a group's positions in its offsets collection. */
public enum MongoLayout {
  /**
   * A document per (group, topic, partition): {@code {_id: {g: group, t: topic, p: partition},
   * position}}. Members of a group that own disjoint partitions write different documents, so they
   * never meet in a write conflict. On a replica set a commit moves its documents in one
   * transaction (atomic across partitions); on a standalone server each range is its own
   * conditional update (not atomic across partitions; the runtime commits one partition per call).
   * Chosen for groups of several members.
   */
  PARTITION,

  /**
   * One document per group holding every position: one single-document update moves any number of
   * positions atomically, but every member of the group writes that one document. The default, and
   * the layout of collections written before the option existed.
   */
  GROUP;

  /**
   * The layout named {@code text}, case-insensitive.
   *
   * @param text {@code partition} or {@code group}
   * @return the layout
   * @throws IllegalArgumentException naming the accepted values otherwise
   */
  public static MongoLayout parse(String text) {
    for (MongoLayout l : values()) {
      if (l.name().equalsIgnoreCase(text.trim())) {
        return l;
      }
    }
    throw new IllegalArgumentException(
        "'" + text + "' is not a layout; expected partition or group");
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
