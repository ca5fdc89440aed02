package io.tandem.connect;

import io.tandem.redis.RedisTransaction;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.ResultWriter;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * The task of {@link TandemRedisSinkConnector}: queues each record's write in the commit's Redis
 * transaction, which also moves the positions.
 *
 * @since 0.1
 */
public final class TandemRedisSinkTask extends TandemSinkTask<RedisTransaction> {

  private RedisSinkConfig redis;

  /** Needed by Connect. */
  public TandemRedisSinkTask() {}

  @Override
  protected OffsetStore<RedisTransaction> openStore(Map<String, String> props) {
    return open(new TandemSinkConfig(props));
  }

  static OffsetStore<RedisTransaction> open(TandemSinkConfig config) {
    return Stores.open(config, RedisTransaction.class);
  }

  @Override
  protected void configure(Map<String, String> props) {
    redis = new RedisSinkConfig(props);
  }

  @Override
  protected ResultWriter<RedisTransaction> results(List<SinkRecord> records) {
    RedisSinkConfig c = redis;
    return tx -> {
      for (SinkRecord r : records) {
        String key = c.prefix + key(c, r);
        Object value = r.value();
        if (value == null) {
          if (c.deleteEnabled) {
            tx.commands().del(key);
          }
        } else if (value instanceof Struct s) {
          Map<String, String> fields = new LinkedHashMap<>();
          for (Field f : s.schema().fields()) {
            Object v = s.get(f);
            if (v != null) {
              fields.put(f.name(), text(v));
            }
          }
          hset(tx, key, fields);
        } else if (value instanceof Map<?, ?> m) {
          Map<String, String> fields = new LinkedHashMap<>();
          m.forEach(
              (k, v) -> {
                if (v != null) {
                  fields.put(String.valueOf(k), text(v));
                }
              });
          hset(tx, key, fields);
        } else {
          tx.commands().set(key, text(value));
        }
      }
    };
  }

  private static void hset(RedisTransaction tx, String key, Map<String, String> fields) {
    // A whole record replaces the hash, as a row upsert replaces a row.
    tx.commands().del(key);
    if (!fields.isEmpty()) {
      tx.commands().hset(key, fields);
    }
  }

  private static String key(RedisSinkConfig c, SinkRecord r) {
    if (c.kafkaKeys) {
      return r.originalTopic() + ":" + r.originalKafkaPartition() + ":" + r.originalKafkaOffset();
    }
    if (r.key() == null) {
      throw new DataException(
          "Record "
              + JdbcRecordWriter.coordinates(r)
              + " has a null key; set redis.key=kafka or give records keys");
    }
    return text(r.key());
  }

  private static String text(Object v) {
    if (v instanceof byte[] b) {
      return Base64.getEncoder().encodeToString(b);
    }
    if (v instanceof ByteBuffer b) {
      byte[] bytes = new byte[b.remaining()];
      b.duplicate().get(bytes);
      return Base64.getEncoder().encodeToString(bytes);
    }
    if (v instanceof Struct || v instanceof Map || v instanceof List) {
      throw new DataException(
          "Nested value " + v + " has no Redis text form; flatten it (the Flatten transform)");
    }
    return String.valueOf(v);
  }
}
