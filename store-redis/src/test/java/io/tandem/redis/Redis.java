package io.tandem.redis;

import io.tandem.testing.RedisServer;
import java.util.UUID;
import java.util.function.UnaryOperator;
import redis.clients.jedis.Jedis;

/** Test helpers on the shared server: stores, a plain client to check behind the store, names. */
final class Redis {

  private Redis() {}

  static RedisServer server() {
    return RedisServer.shared();
  }

  static RedisStoreConfig.Builder config(RedisServer server) {
    return RedisStoreConfig.fromUri(server.uri(), java.util.Map.of()).toBuilder();
  }

  static RedisOffsetStore open() {
    return open(b -> b);
  }

  static RedisOffsetStore open(UnaryOperator<RedisStoreConfig.Builder> tune) {
    return RedisOffsetStore.open(tune.apply(config(server())).build());
  }

  /** A plain connection to the shared server (its database), for checks behind the store. */
  static Jedis jedis() {
    return jedis(server());
  }

  static Jedis jedis(RedisServer server) {
    RedisStoreConfig c = RedisStoreConfig.fromUri(server.uri(), java.util.Map.of());
    Jedis j = new Jedis(c.host(), c.port());
    if (c.password() != null) {
      if (c.user() != null) {
        j.auth(c.user(), c.password());
      } else {
        j.auth(c.password());
      }
    }
    j.select(c.database());
    return j;
  }

  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
