package io.tandem.cassandra;

import java.util.Locale;

/**
 * How a {@link CassandraOffsetStore} lays out a group's positions in its offsets table.
 *
 * <p>The table's primary key differs between layouts, so one table holds one layout; the store
 * checks the table it finds against the configured layout and refuses a mismatch by name.
 */
public enum CassandraLayout {
  /**
   * Each Kafka partition's position is its own Cassandra partition (partition key {@code (group_id,
   * topic, partition_id)}): a commit is one lightweight transaction per range, so members of a
   * group that own disjoint partitions never meet in one Paxos round. A commit of several ranges is
   * not atomic across them ({@code atomicAcrossPartitions} is false; the consumer runtime then
   * commits one partition per call). Chosen for groups of several members.
   */
  PARTITION,

  /**
   * A group's positions are the rows of one Cassandra partition (partition key {@code group_id}):
   * one conditional batch moves any number of them atomically, but every member of the group
   * competes for that partition's Paxos round. The default: one Paxos round per commit whatever its
   * size, and the layout of tables created before the option existed.
   */
  GROUP;

  /**
   * The layout named {@code text}, case-insensitive.
   *
   * @param text {@code partition} or {@code group}
   * @return the layout
   * @throws IllegalArgumentException naming the accepted values otherwise
   */
  public static CassandraLayout parse(String text) {
    for (CassandraLayout l : values()) {
      if (l.name().equalsIgnoreCase(text.trim())) {
        return l;
      }
    }
    throw new IllegalArgumentException(
        "'" + text + "' is not a layout; expected partition or group");
  }

  /**
   * The name used in options and messages.
   *
   * @return {@code partition} or {@code group}
   */
  public String optionValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return optionValue();
  }
}
