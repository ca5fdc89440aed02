package io.tandem.redis;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.ResultWriter;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import java.time.Duration;
import java.util.Map;
import redis.clients.jedis.Jedis;

/** The whole compatibility kit against the shared Redis server. */
class RedisTckIT extends OffsetStoreVerification<RedisTransaction> {

  @Override
  protected OffsetStore<RedisTransaction> newStore() {
    // V7 and S4 commit the full 10 000 ranges; on a loaded 2-core machine EXEC's reply took
    // longer than the 5 s default reply timeout.
    return Redis.open(b -> b.timeout(Duration.ofSeconds(30)));
  }

  /** An ACL user the server does not know (Redis 6+): AUTH answers WRONGPASS at open. */
  @Override
  protected OffsetStore<RedisTransaction> newStoreWithRefusedCredentials() {
    return Redis.open(b -> b.user("tandem-no-such-user").password("wrong-password"));
  }

  @Override
  protected ResultProbe<RedisTransaction> probe() {
    return new HashProbe();
  }

  /** One hash per namespace, written with HSET inside the commit's MULTI. */
  static final class HashProbe implements ResultProbe<RedisTransaction> {
    private static String key(String namespace) {
      return "tck:results:" + namespace;
    }

    @Override
    public ResultWriter<RedisTransaction> put(String namespace, Map<String, String> entries) {
      Map<String, String> copy = Map.copyOf(entries);
      return tx -> {
        if (!copy.isEmpty()) {
          tx.commands().hset(key(namespace), copy);
        }
      };
    }

    @Override
    public Map<String, String> read(String namespace) {
      try (Jedis j = Redis.jedis()) {
        return j.hgetAll(key(namespace));
      }
    }
  }
}
