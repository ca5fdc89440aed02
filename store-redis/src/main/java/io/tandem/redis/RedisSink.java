package io.tandem.redis;

import io.tandem.spi.ResultWriter;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Ready result writers for the common Redis shapes, built once from mappers and applied to each
 * batch with {@link #writer(Collection)}. Every command is queued in the commit's transaction, so
 * counters ({@code INCRBY}, {@code HINCRBY}) are exactly-once too: a batch's increments apply with
 * its positions or not at all.
 *
 * <pre>{@code
 * RedisSink<Order> totals = RedisSink.hashCounters(
 *     o -> "totals:{orders}", o -> o.customer(), o -> o.amountCents());
 * store.commit(group, ranges, totals.writer(batch));
 * }</pre>
 *
 * <p>A mapper that returns null or throws aborts the commit ({@link
 * io.tandem.spi.ResultWriteException}); nothing is written. Within one batch, fields and keys
 * written twice keep the last value; increments to one key or field are summed first (one command
 * each; an overflow of the sum aborts the commit).
 *
 * @param <R> the record type
 */
public final class RedisSink<R> {

  private final Function<Collection<? extends R>, ResultWriter<RedisTransaction>> factory;

  private RedisSink(Function<Collection<? extends R>, ResultWriter<RedisTransaction>> factory) {
    this.factory = factory;
  }

  /**
   * The writer for one batch. It keeps no state across calls and may run more than once.
   *
   * @param records the batch's records
   * @return the writer
   */
  public ResultWriter<RedisTransaction> writer(Collection<? extends R> records) {
    Objects.requireNonNull(records, "records must not be null");
    return factory.apply(records);
  }

  /**
   * {@code HSET key field value} per record, grouped into one {@code HSET} per key.
   *
   * @param <R> the record type
   * @param key the hash's key
   * @param field the field
   * @param value the value
   * @return the sink
   */
  public static <R> RedisSink<R> hashFields(
      Function<? super R, String> key,
      Function<? super R, String> field,
      Function<? super R, String> value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(value, "value");
    return new RedisSink<>(
        records ->
            tx -> {
              Map<String, Map<String, String>> byKey = new LinkedHashMap<>();
              for (R r : records) {
                byKey
                    .computeIfAbsent(map(key, r, "key"), k -> new LinkedHashMap<>())
                    .put(map(field, r, "field"), map(value, r, "value"));
              }
              byKey.forEach((k, fields) -> tx.commands().hset(k, fields));
            });
  }

  /**
   * {@code HINCRBY key field delta} per record, deltas summed per key and field.
   *
   * @param <R> the record type
   * @param key the hash's key
   * @param field the counter's field
   * @param delta the increment
   * @return the sink
   */
  public static <R> RedisSink<R> hashCounters(
      Function<? super R, String> key,
      Function<? super R, String> field,
      ToLongFunction<? super R> delta) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(delta, "delta");
    return new RedisSink<>(
        records ->
            tx -> {
              Map<String, Map<String, Long>> sums = new LinkedHashMap<>();
              for (R r : records) {
                sums.computeIfAbsent(map(key, r, "key"), k -> new LinkedHashMap<>())
                    .merge(map(field, r, "field"), delta.applyAsLong(r), Math::addExact);
              }
              sums.forEach((k, fields) -> fields.forEach((f, d) -> tx.commands().hincrBy(k, f, d)));
            });
  }

  /**
   * {@code INCRBY key delta} per record, deltas summed per key.
   *
   * @param <R> the record type
   * @param key the counter's key
   * @param delta the increment
   * @return the sink
   */
  public static <R> RedisSink<R> counters(
      Function<? super R, String> key, ToLongFunction<? super R> delta) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(delta, "delta");
    return new RedisSink<>(
        records ->
            tx -> {
              Map<String, Long> sums = new LinkedHashMap<>();
              for (R r : records) {
                sums.merge(map(key, r, "key"), delta.applyAsLong(r), Math::addExact);
              }
              sums.forEach((k, d) -> tx.commands().incrBy(k, d));
            });
  }

  /**
   * {@code SET key value} per record; the last value per key wins.
   *
   * @param <R> the record type
   * @param key the key
   * @param value the value
   * @return the sink
   */
  public static <R> RedisSink<R> strings(
      Function<? super R, String> key, Function<? super R, String> value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    return new RedisSink<>(
        records ->
            tx -> {
              Map<String, String> last = new LinkedHashMap<>();
              for (R r : records) {
                last.put(map(key, r, "key"), map(value, r, "value"));
              }
              last.forEach((k, v) -> tx.commands().set(k, v));
            });
  }

  private static <R> String map(Function<? super R, String> f, R record, String what) {
    String s = f.apply(record);
    if (s == null) {
      throw new NullPointerException("the " + what + " mapper returned null for record " + record);
    }
    return s;
  }
}
