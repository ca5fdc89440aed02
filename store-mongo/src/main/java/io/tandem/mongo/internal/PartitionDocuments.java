package io.tandem.mongo.internal;

import io.tandem.spi.Partition;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * Internal: may change in any release.
 *
 * <p>The partition layout: one document per (group, topic, partition),
 *
 * <pre>
 * { _id: { g: "&lt;group&gt;", t: "&lt;topic&gt;", p: &lt;int32&gt; }, position: &lt;int64&gt; }
 * </pre>
 *
 * The key is the {@code _id} itself, so a position is found and conditionally updated through the
 * {@code _id} index alone and no other index is needed. An embedded {@code _id} matches by exact
 * value, field order included: every {@code _id} is built by {@link #id} only. Topic and group are
 * string values, never field names, so dots and dollars need no escaping. A group-layout document
 * ({@code _id} a string, field {@code partitions}) in the same collection never matches these
 * filters.
 */
public final class PartitionDocuments {

  /**
   * The ranges one commit may name in this layout. No document limit applies (each range is its own
   * document), but each range is one update: a conditional update per range on a standalone server,
   * a document written by the transaction on a replica set. A thousand keeps a commit's round trips
   * (standalone) and a transaction's size and lifetime (replica set, 60 s by default) modest; the
   * runtime commits a poll's partitions together only where it may.
   */
  public static final int MAX_RANGES_PER_COMMIT = 1_000;

  /** The position field. */
  public static final String POSITION = "position";

  /** {@code _id} field: group. */
  public static final String GROUP = "g";

  /** {@code _id} field: topic. */
  public static final String TOPIC = "t";

  /** {@code _id} field: partition number. */
  public static final String PARTITION = "p";

  private PartitionDocuments() {}

  /**
   * The {@code _id} of a partition's document.
   *
   * @param group the group
   * @param p the partition
   * @return the id, fields in the fixed order g, t, p
   */
  public static BsonDocument id(String group, Partition p) {
    return new BsonDocument(GROUP, new BsonString(group))
        .append(TOPIC, new BsonString(p.topic()))
        .append(PARTITION, new BsonInt32(p.partition()));
  }

  /**
   * A partition's whole document.
   *
   * @param group the group
   * @param p the partition
   * @param position its position
   * @return the document
   */
  public static BsonDocument document(String group, Partition p, long position) {
    return new BsonDocument(GroupDocuments.ID, id(group, p))
        .append(POSITION, new BsonInt64(position));
  }

  /**
   * The filter of every partition document of a group. It reads a field inside {@code _id}, which
   * the {@code _id} index does not serve: a collection scan, for administration only (the runtime
   * reads named partitions, by {@code _id}).
   *
   * @param group the group
   * @return the filter
   */
  public static BsonDocument filterGroup(String group) {
    return new BsonDocument(GroupDocuments.ID + "." + GROUP, new BsonString(group))
        .append(POSITION, new BsonDocument("$exists", org.bson.BsonBoolean.TRUE));
  }

  /**
   * The group of a partition document, or null for a document of another shape.
   *
   * @param d a document with its {@code _id}
   * @return the group or null
   */
  public static String group(BsonDocument d) {
    BsonValue id = d.get(GroupDocuments.ID);
    if (id == null || !id.isDocument()) {
      return null;
    }
    BsonValue g = id.asDocument().get(GROUP);
    return g != null && g.isString() ? g.asString().getValue() : null;
  }

  /**
   * Adds a partition document's position to {@code out}; documents of another shape are skipped.
   *
   * @param out the positions read so far
   * @param d the document
   */
  public static void put(Map<Partition, Long> out, BsonDocument d) {
    BsonValue id = d.get(GroupDocuments.ID);
    BsonValue position = d.get(POSITION);
    if (id == null || !id.isDocument() || position == null || !position.isNumber()) {
      return;
    }
    BsonDocument key = id.asDocument();
    BsonValue t = key.get(TOPIC);
    BsonValue p = key.get(PARTITION);
    if (t == null || !t.isString() || p == null || !p.isNumber()) {
      return;
    }
    out.put(
        new Partition(t.asString().getValue(), p.asNumber().intValue()),
        position.asNumber().longValue());
  }
}
