package io.tandem.mongo.internal;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

/**
 * Internal: may change in any release.
 *
 * <p>The layout of a group's document and the BSON built on it:
 *
 * <pre>
 * { _id: "&lt;group&gt;", revision: &lt;int64&gt;,
 *   partitions: [ { topic: "&lt;topic&gt;", partition: &lt;int32&gt;, position: &lt;int64&gt; }, ... ] }
 * </pre>
 *
 * <p>Why an array and not a field per partition: topic names may contain dots and start with {@code
 * $}, which a field path would read as nesting or an operator. In an array they are plain string
 * <em>values</em>, which no query or update operator interprets, so nothing needs escaping. A
 * commit selects entries with {@code $elemMatch} in the filter (every range's {@code from} must
 * match) and updates them through {@code arrayFilters} identifiers ({@code partitions.$[r0]}),
 * which both MongoDB and the emulators used in tests understand. {@code revision} grows by one on
 * every change, so read-modify-write administration (overwrite, delete of partitions) is a cheap
 * compare-and-set on it.
 */
public final class GroupDocuments {

  /** Field names of the layout. */
  public static final String ID = "_id";

  /** The array of entries. */
  public static final String PARTITIONS = "partitions";

  /** The change counter. */
  public static final String REVISION = "revision";

  /** Entry field: topic. */
  public static final String TOPIC = "topic";

  /** Entry field: partition number. */
  public static final String PARTITION = "partition";

  /** Entry field: position. */
  public static final String POSITION = "position";

  /** MongoDB's limit on a stored document and on one command's statement: 16 MiB. */
  public static final int MAX_BSON_BYTES = 16 * 1024 * 1024;

  /**
   * The most bytes one partition's entry can take in the group document: a topic of {@value
   * Partition#MAX_TOPIC_LENGTH} characters of 3 UTF-8 bytes each, at array index 99999.
   */
  public static final int WORST_ENTRY_BYTES;

  /**
   * The most bytes one range can add to a commit's update statement (filter, {@code $set}, array
   * filter), for the same worst-case topic.
   */
  public static final int WORST_RANGE_BYTES;

  /**
   * Partitions that always fit in one group document, whatever their topic names: the limit minus
   * room for a long group name, divided by {@link #WORST_ENTRY_BYTES}.
   */
  public static final int MAX_PARTITIONS_WORST_CASE;

  /** Ranges that always fit in one commit statement, whatever their topic names. */
  public static final int MAX_RANGES_PER_COMMIT;

  /** Room kept for the group name, the other fields and the command's envelope. */
  private static final int RESERVED_BYTES = 64 * 1024;

  static {
    // Java counts UTF-16 units: a BMP character above U+07FF takes 3 UTF-8 bytes for 1 unit, the
    // most bytes per unit (a surrogate pair is 4 bytes for 2 units).
    String worstTopic = "\u4E2D".repeat(Partition.MAX_TOPIC_LENGTH);
    Partition worst = new Partition(worstTopic, Integer.MAX_VALUE);
    BsonArray one = new BsonArray(List.of(entry(worst, Long.MAX_VALUE)));
    int emptyArray = size(new BsonDocument("a", new BsonArray()));
    int oneEntry = size(new BsonDocument("a", one));
    // Index "0" takes 2 bytes as a key; "99999" takes 6.
    WORST_ENTRY_BYTES = oneEntry - emptyArray + 4;
    MAX_PARTITIONS_WORST_CASE = (MAX_BSON_BYTES - RESERVED_BYTES) / WORST_ENTRY_BYTES;

    OffsetRange range = new OffsetRange(worst, Long.MAX_VALUE, Long.MAX_VALUE);
    BsonDocument empty = statement("g", List.of(), 0);
    BsonDocument single = statement("g", List.of(range), 99_999);
    WORST_RANGE_BYTES = size(single) - size(empty) + 16;
    MAX_RANGES_PER_COMMIT = (MAX_BSON_BYTES - RESERVED_BYTES) / WORST_RANGE_BYTES;
  }

  private GroupDocuments() {}

  /**
   * One array entry.
   *
   * @param p the partition
   * @param position its position
   * @return the entry
   */
  public static BsonDocument entry(Partition p, long position) {
    return new BsonDocument(TOPIC, new BsonString(p.topic()))
        .append(PARTITION, new BsonInt32(p.partition()))
        .append(POSITION, new BsonInt64(position));
  }

  /**
   * The positions held by a group document.
   *
   * @param doc the document, may be null
   * @return positions by partition, empty for null
   */
  public static Map<Partition, Long> positions(BsonDocument doc) {
    Map<Partition, Long> out = new TreeMap<>();
    if (doc == null) {
      return out;
    }
    BsonValue array = doc.get(PARTITIONS);
    if (array == null || !array.isArray()) {
      return out;
    }
    for (BsonValue v : array.asArray()) {
      BsonDocument e = v.asDocument();
      out.put(
          new Partition(e.getString(TOPIC).getValue(), e.get(PARTITION).asNumber().intValue()),
          e.get(POSITION).asNumber().longValue());
    }
    return out;
  }

  /**
   * The revision of a group document, 0 when absent.
   *
   * @param doc the document
   * @return its revision
   */
  public static long revision(BsonDocument doc) {
    BsonValue v = doc.get(REVISION);
    return v == null || !v.isNumber() ? 0L : v.asNumber().longValue();
  }

  /**
   * A whole group document.
   *
   * @param group the group
   * @param revision the revision
   * @param positions the positions
   * @return the document
   */
  public static BsonDocument document(String group, long revision, Map<Partition, Long> positions) {
    return new BsonDocument(ID, new BsonString(group))
        .append(REVISION, new BsonInt64(revision))
        .append(PARTITIONS, array(positions));
  }

  /**
   * The entries array for some positions.
   *
   * @param positions the positions
   * @return the array
   */
  public static BsonArray array(Map<Partition, Long> positions) {
    List<BsonValue> entries = new ArrayList<>(positions.size());
    positions.forEach((p, pos) -> entries.add(entry(p, pos)));
    return new BsonArray(entries);
  }

  /**
   * The filter part selecting one partition's entry with a given position.
   *
   * @param p the partition
   * @param position the position it must have
   * @return {@code {partitions: {$elemMatch: {topic, partition, position}}}}
   */
  public static BsonDocument entryAt(Partition p, long position) {
    return new BsonDocument(PARTITIONS, new BsonDocument("$elemMatch", entry(p, position)));
  }

  /**
   * The filter part requiring a partition to have no entry.
   *
   * @param p the partition
   * @return {@code {partitions: {$not: {$elemMatch: {topic, partition}}}}}
   */
  public static BsonDocument noEntry(Partition p) {
    return new BsonDocument(
        PARTITIONS,
        new BsonDocument(
            "$not",
            new BsonDocument(
                "$elemMatch",
                new BsonDocument(TOPIC, new BsonString(p.topic()))
                    .append(PARTITION, new BsonInt32(p.partition())))));
  }

  /**
   * The conditional update of a commit, as one statement: {@code q} requires every range's entry at
   * its {@code from}, {@code u} moves each to {@code until} and bumps the revision, {@code
   * arrayFilters} binds identifier {@code r<i>} to range i's entry.
   *
   * @param group the group
   * @param ranges the ranges
   * @param firstIndex the first identifier number (only to size the worst case)
   * @return a document with fields {@code q}, {@code u}, {@code arrayFilters}
   */
  public static BsonDocument statement(String group, List<OffsetRange> ranges, int firstIndex) {
    BsonArray and = new BsonArray();
    BsonDocument set = new BsonDocument();
    BsonArray arrayFilters = new BsonArray();
    int i = firstIndex;
    for (OffsetRange r : ranges) {
      and.add(entryAt(r.partition(), r.from()));
      // Identifiers must start with a lower-case letter and be alphanumeric.
      String id = "r" + i++;
      set.append(PARTITIONS + ".$[" + id + "]." + POSITION, new BsonInt64(r.until()));
      // A plain document, not {$and: [...]}: mongo-java-server rejects an array filter whose
      // top-level field is an operator ("The top-level field name must be an alphanumeric string
      // beginning with a lowercase letter, found '$and'"), MongoDB accepts both.
      arrayFilters.add(
          new BsonDocument(id + "." + TOPIC, new BsonString(r.partition().topic()))
              .append(id + "." + PARTITION, new BsonInt32(r.partition().partition())));
    }
    BsonDocument q = new BsonDocument(ID, new BsonString(group));
    if (!and.isEmpty()) {
      q.append("$and", and);
    }
    BsonDocument u = new BsonDocument("$inc", new BsonDocument(REVISION, new BsonInt64(1)));
    if (!set.isEmpty()) {
      u.append("$set", set);
    }
    return new BsonDocument("q", q).append("u", u).append("arrayFilters", arrayFilters);
  }

  /**
   * The encoded size of a document, as MongoDB counts it.
   *
   * @param doc the document
   * @return its BSON size in bytes
   */
  public static int size(BsonDocument doc) {
    return new RawBsonDocument(doc, new BsonDocumentCodec()).getByteBuffer().remaining();
  }
}
