package io.tandem.bench;

import io.tandem.redis.RedisOffsetStore;
import io.tandem.redis.RedisSink;
import io.tandem.redis.RedisStoreConfig;
import io.tandem.redis.RedisTransaction;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.RedisServer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Transaction;

/**
 * Redis through {@link RedisOffsetStore}, results as fields of one hash per namespace ({@link
 * RedisSink#hashFields}). A private server with {@code appendonly yes} and {@code appendfsync
 * always}: Redis fsyncs the AOF before it answers {@code EXEC}, for the store's transactions and
 * for the plain writes alike.
 */
final class RedisBackend implements Backend<RedisTransaction> {

  private final RedisServer server = RedisServer.startPrivate("always");
  private final RedisOffsetStore store;
  private final List<Jedis> connections = new CopyOnWriteArrayList<>();
  private final ThreadLocal<Jedis> own = new ThreadLocal<>();

  RedisBackend() {
    this.store =
        RedisOffsetStore.open(
            RedisStoreConfig.builder()
                .host(server.host())
                .port(server.port())
                .poolSize(16)
                .build());
  }

  @Override
  public String name() {
    return "redis";
  }

  @Override
  public String server() {
    return store.capabilities().description() + " [" + server.description() + "]";
  }

  /**
   * The store's count of commits retried after a WATCH abort with unchanged values (package-private
   * in the store, read reflectively: the benchmark is not in its package).
   */
  @Override
  public long storeRetries() {
    try {
      java.lang.reflect.Method m = RedisOffsetStore.class.getDeclaredMethod("watchRetries");
      m.setAccessible(true);
      return (Long) m.invoke(store);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return -1;
    }
  }

  @Override
  public OffsetStore<RedisTransaction> store() {
    return store;
  }

  static String hash(String namespace) {
    return "bench:{" + namespace + "}:results";
  }

  @Override
  public void prepare(String namespace, int keys, int partitions) {
    // Hashes need no schema.
  }

  @Override
  public ResultWriter<RedisTransaction> writer(String namespace, List<Row> rows) {
    String key = hash(namespace);
    return RedisSink.<Row>hashFields(r -> key, Row::key, Row::value).writer(rows);
  }

  @Override
  public void write(String namespace, List<Row> rows, Map<Partition, Long> positions) {
    Jedis j = own.get();
    if (j == null) {
      j = new Jedis(server.host(), server.port());
      own.set(j);
      connections.add(j);
    }
    Transaction t = j.multi();
    if (!rows.isEmpty()) {
      Map<String, String> fields = new LinkedHashMap<>();
      rows.forEach(r -> fields.put(r.key(), r.value()));
      t.hset(hash(namespace), fields);
    }
    if (!positions.isEmpty()) {
      Map<String, String> fields = new LinkedHashMap<>();
      positions.forEach(
          (p, pos) -> fields.put(p.topic() + ":" + p.partition(), Long.toString(pos)));
      t.hset("bench:{" + namespace + "}:positions", fields);
    }
    t.exec();
  }

  @Override
  public void close() {
    store.close();
    connections.forEach(Jedis::close);
    server.close();
  }
}
