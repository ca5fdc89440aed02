package io.tandem.mongo;

import com.mongodb.client.ClientSession;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.DeleteOneModel;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.UpdateOneModel;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.WriteModel;
import io.tandem.spi.Guarantee;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.bson.Document;

/**
 * The handle a {@link MongoOffsetStore} passes to {@link io.tandem.spi.ResultWriter}s: the
 * database, the commit's {@link ClientSession} when the store is {@link Guarantee#TRANSACTIONAL},
 * and helpers that queue keyed writes.
 *
 * <p>Queued writes ({@link #replace}, {@link #set}, {@link #increment}, {@link #delete}) are sent
 * after the writer returns, one ordered bulk write per collection, through the session when there
 * is one: in the commit's transaction (TRANSACTIONAL), or before the conditional offset update
 * (IDEMPOTENT). A writer may also write directly through {@link #collection(String)}; it must then
 * pass {@link #session()} to every call when present, or its writes fall outside the transaction.
 *
 * <p>Valid only during {@link io.tandem.spi.ResultWriter#write(Object)}. Not thread-safe.
 */
public final class MongoResults {

  private final MongoDatabase database;
  private final ClientSession session;
  private final Guarantee guarantee;
  private final String offsetsCollection;
  private final Map<String, List<WriteModel<Document>>> queued = new LinkedHashMap<>();
  private int count;

  MongoResults(
      MongoDatabase database,
      ClientSession session,
      Guarantee guarantee,
      String offsetsCollection) {
    this.database = database;
    this.session = session;
    this.guarantee = guarantee;
    this.offsetsCollection = offsetsCollection;
  }

  /**
   * The store's database, where the helpers write results.
   *
   * @return the database
   */
  public MongoDatabase database() {
    return database;
  }

  /**
   * The commit's session, present when the store is TRANSACTIONAL: every direct write must pass it
   * to be part of the commit.
   *
   * @return the session, or empty on a server without transactions
   */
  public Optional<ClientSession> session() {
    return Optional.ofNullable(session);
  }

  /**
   * The store's guarantee for this commit.
   *
   * @return TRANSACTIONAL when a session carries the commit, else IDEMPOTENT
   */
  public Guarantee guarantee() {
    return guarantee;
  }

  /**
   * A collection of {@link #database()}, for direct writes.
   *
   * @param name the collection name
   * @return the collection
   * @throws IllegalArgumentException if {@code name} is the offsets collection or invalid
   */
  public MongoCollection<Document> collection(String name) {
    return database.getCollection(checkCollection(name));
  }

  /**
   * Queues a replacement of the document with {@code _id = id} by {@code document}, inserting it if
   * absent. Idempotent: safe on every store.
   *
   * @param collection the collection
   * @param id the key
   * @param document the new content; its {@code _id}, if any, must equal {@code id}
   * @return this handle
   */
  public MongoResults replace(String collection, Object id, Document document) {
    Objects.requireNonNull(id, "id must not be null");
    Objects.requireNonNull(document, "document must not be null");
    Object ownId = document.get("_id");
    if (ownId != null && !ownId.equals(id)) {
      throw new IllegalArgumentException(
          "document _id " + ownId + " differs from the key " + id + " it is written under");
    }
    return queue(
        collection,
        new ReplaceOneModel<>(
            Filters.eq("_id", id), new Document(document), new ReplaceOptions().upsert(true)));
  }

  /**
   * Queues {@code $set} of some fields of the document with {@code _id = id}, inserting it if
   * absent. Idempotent: safe on every store.
   *
   * @param collection the collection
   * @param id the key
   * @param fields the fields to set; not empty
   * @return this handle
   */
  public MongoResults set(String collection, Object id, Document fields) {
    Objects.requireNonNull(id, "id must not be null");
    Objects.requireNonNull(fields, "fields must not be null");
    if (fields.isEmpty()) {
      throw new IllegalArgumentException("fields must not be empty (key " + id + ")");
    }
    if (fields.containsKey("_id")) {
      throw new IllegalArgumentException("fields must not set _id (key " + id + ")");
    }
    return queue(
        collection,
        new UpdateOneModel<>(
            Filters.eq("_id", id), new Document("$set", fields), new UpdateOptions().upsert(true)));
  }

  /**
   * Queues {@code $inc} of a numeric field of the document with {@code _id = id}, inserting it if
   * absent. A fold: replaying it counts twice, so it is allowed only when the commit is
   * TRANSACTIONAL (the increment and the offsets commit together or not at all).
   *
   * @param collection the collection
   * @param id the key
   * @param field the field
   * @param amount the amount to add
   * @return this handle
   * @throws UnsupportedOperationException if the store is IDEMPOTENT
   */
  public MongoResults increment(String collection, Object id, String field, long amount) {
    Objects.requireNonNull(id, "id must not be null");
    Objects.requireNonNull(field, "field must not be null");
    if (guarantee != Guarantee.TRANSACTIONAL) {
      throw new UnsupportedOperationException(
          "$inc of "
              + collection
              + "/"
              + id
              + "."
              + field
              + " refused: this MongoDB server has no transactions (standalone), so the store is"
              + " IDEMPOTENT and a replayed batch would count twice. Use a replica set or write"
              + " keyed values (replace/set) instead.");
    }
    if (field.isEmpty() || field.equals("_id")) {
      throw new IllegalArgumentException("field must be a non-empty name other than _id");
    }
    return queue(
        collection,
        new UpdateOneModel<>(
            Filters.eq("_id", id),
            new Document("$inc", new Document(field, amount)),
            new UpdateOptions().upsert(true)));
  }

  /**
   * Queues a delete of the document with {@code _id = id}. Idempotent: safe on every store.
   *
   * @param collection the collection
   * @param id the key
   * @return this handle
   */
  public MongoResults delete(String collection, Object id) {
    Objects.requireNonNull(id, "id must not be null");
    return queue(collection, new DeleteOneModel<>(Filters.eq("_id", id)));
  }

  /**
   * Queues any write model; the writer answers for its idempotence on an IDEMPOTENT store.
   *
   * @param collection the collection
   * @param write the write
   * @return this handle
   */
  public MongoResults queue(String collection, WriteModel<Document> write) {
    Objects.requireNonNull(write, "write must not be null");
    queued.computeIfAbsent(checkCollection(collection), c -> new ArrayList<>()).add(write);
    count++;
    return this;
  }

  /**
   * The number of writes queued so far.
   *
   * @return the count
   */
  public int queued() {
    return count;
  }

  /** Sends the queued writes: one ordered bulk write per collection, through the session. */
  void flush() {
    for (Map.Entry<String, List<WriteModel<Document>>> e : queued.entrySet()) {
      MongoCollection<Document> c = database.getCollection(e.getKey());
      BulkWriteOptions ordered = new BulkWriteOptions().ordered(true);
      if (session != null) {
        c.bulkWrite(session, e.getValue(), ordered);
      } else {
        c.bulkWrite(e.getValue(), ordered);
      }
    }
    queued.clear();
    count = 0;
  }

  private String checkCollection(String name) {
    Objects.requireNonNull(name, "collection must not be null");
    if (name.isEmpty() || name.indexOf('$') >= 0 || name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(
          "collection must be non-empty, without $ or NUL, got '" + name + "'");
    }
    if (name.equals(offsetsCollection)) {
      throw new IllegalArgumentException(
          "results must not go to the offsets collection '" + name + "'");
    }
    return name;
  }
}
