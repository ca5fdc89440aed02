package io.tandem.mongo;

import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.ResultWriter;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.bson.Document;

/**
 * A ready {@link ResultWriter} for the common case: one keyed write per record, into one
 * collection, keyed by {@code _id}. Configure it once, then make a writer per batch:
 *
 * <pre>{@code
 * MongoSink<Order> sink = MongoSink.replace("orders", Order::id, o -> new Document("total", o.total()));
 * store.commit(group, ranges, sink.writer(batch));
 * }</pre>
 *
 * <p>{@link #replace} and {@link #set} are idempotent (a replay writes the same values again) and
 * work on every store. {@link #increment} is a fold ({@code $inc}): a replay would count twice, so
 * it needs a TRANSACTIONAL store, where the increments commit with the offsets; it is refused with
 * the reason on an IDEMPOTENT one, by {@link #checkFor} up front and by the handle at commit time.
 *
 * @param <R> the record type
 */
public final class MongoSink<R> {

  private interface Op<R> {
    void apply(MongoResults results, String collection, Object id, R record);
  }

  private final String collection;
  private final Function<? super R, ?> id;
  private final Op<R> op;
  private final boolean fold;

  private MongoSink(String collection, Function<? super R, ?> id, Op<R> op, boolean fold) {
    this.collection = Objects.requireNonNull(collection, "collection must not be null");
    this.id = Objects.requireNonNull(id, "id must not be null");
    this.op = op;
    this.fold = fold;
  }

  /**
   * Replaces (or inserts) the document {@code _id = id(record)} by {@code document(record)}.
   *
   * @param <R> the record type
   * @param collection the collection
   * @param id the key of a record
   * @param document the document of a record
   * @return the sink
   */
  public static <R> MongoSink<R> replace(
      String collection, Function<? super R, ?> id, Function<? super R, Document> document) {
    Objects.requireNonNull(document, "document must not be null");
    return new MongoSink<>(
        collection, id, (tx, c, key, r) -> tx.replace(c, key, document.apply(r)), false);
  }

  /**
   * Sets ({@code $set}) some fields of the document {@code _id = id(record)}, inserting it if
   * absent; other fields are kept.
   *
   * @param <R> the record type
   * @param collection the collection
   * @param id the key of a record
   * @param fields the fields to set for a record
   * @return the sink
   */
  public static <R> MongoSink<R> set(
      String collection, Function<? super R, ?> id, Function<? super R, Document> fields) {
    Objects.requireNonNull(fields, "fields must not be null");
    return new MongoSink<>(
        collection, id, (tx, c, key, r) -> tx.set(c, key, fields.apply(r)), false);
  }

  /**
   * Adds ({@code $inc}) {@code amount(record)} to {@code field} of the document {@code _id =
   * id(record)}: a fold, TRANSACTIONAL stores only.
   *
   * @param <R> the record type
   * @param collection the collection
   * @param id the key of a record
   * @param field the counter field
   * @param amount the amount a record adds
   * @return the sink
   */
  public static <R> MongoSink<R> increment(
      String collection,
      Function<? super R, ?> id,
      String field,
      ToLongFunction<? super R> amount) {
    Objects.requireNonNull(field, "field must not be null");
    Objects.requireNonNull(amount, "amount must not be null");
    return new MongoSink<>(
        collection,
        id,
        (tx, c, key, r) -> tx.increment(c, key, field, amount.applyAsLong(r)),
        true);
  }

  /**
   * Whether this sink folds (its writes are not idempotent).
   *
   * @return true for {@link #increment}
   */
  public boolean fold() {
    return fold;
  }

  /**
   * Checks, before any batch, that a store can run this sink.
   *
   * @param capabilities the store's capabilities
   * @return this sink
   * @throws IllegalArgumentException if this sink folds and the store is IDEMPOTENT, with why
   */
  public MongoSink<R> checkFor(Capabilities capabilities) {
    if (fold && capabilities.guarantee() != Guarantee.TRANSACTIONAL) {
      throw new IllegalArgumentException(
          "an $inc sink on '"
              + collection
              + "' needs a TRANSACTIONAL store, and this one is "
              + capabilities.guarantee()
              + " ("
              + capabilities.description()
              + "): a replayed batch would count twice. Run MongoDB as a replica set, or write"
              + " keyed values with MongoSink.replace/set.");
    }
    return this;
  }

  /**
   * A writer that queues this sink's write for every record of a batch, in order.
   *
   * @param batch the records; copied
   * @return the writer
   */
  public ResultWriter<MongoResults> writer(List<? extends R> batch) {
    List<? extends R> records = List.copyOf(batch);
    return tx -> {
      for (R r : records) {
        Object key = id.apply(r);
        if (key == null) {
          throw new NullPointerException("id of record " + r + " is null");
        }
        op.apply(tx, collection, key, r);
      }
    };
  }
}
