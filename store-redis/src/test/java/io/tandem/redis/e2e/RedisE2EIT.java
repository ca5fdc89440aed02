package io.tandem.redis.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.redis.RedisStoreConfig;
import io.tandem.tck.e2e.ExactlyOnceVerification;
import io.tandem.tck.e2e.KillableStore;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.RedisServer;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import redis.clients.jedis.Jedis;

/**
 * The end-to-end kit on the Redis store: the shared server ({@code TANDEM_REDIS_URL}, else an
 * embedded {@code redis-server} with {@code appendonly yes} and {@code appendfsync always}) and the
 * shared Kafka broker ({@code TANDEM_KAFKA_BOOTSTRAP}, else the embedded one of {@link
 * KafkaBroker}). Worker JVMs open the store from {@link #storeUri()} alone.
 */
class RedisE2EIT extends ExactlyOnceVerification {

  /**
   * On our own server the run must be the durable configuration the store's guarantee is stated
   * for; a user's server (the environment variable) is taken as it is, the store logs a WARN.
   */
  @BeforeAll
  void serverIsDurable() {
    RedisServer server = RedisServer.shared();
    if (System.getenv(RedisServer.ENV) != null && !System.getenv(RedisServer.ENV).isBlank()) {
      return;
    }
    RedisStoreConfig c = RedisStoreConfig.fromUri(server.uri(), Map.of());
    try (Jedis j = RedisResultModel.connect(c)) {
      // CONFIG GET returns [name, value] pairs (a map in Jedis); checked on Redis 7.0.15 here.
      String why =
          "the run proves the durable setup (-D" + RedisServer.FSYNC_PROPERTY + " changes it)";
      assertThat(j.configGet("appendonly")).as(why).containsEntry("appendonly", "yes");
      assertThat(j.configGet("appendfsync")).as(why).containsEntry("appendfsync", "always");
    }
  }

  /**
   * [E6]: a private embedded {@code redis-server} with {@code appendonly yes} and {@code
   * appendfsync always}, killed with SIGKILL and started again on its AOF.
   */
  @Override
  protected KillableStore killableStore() {
    RedisServer redis = RedisServer.startPrivate("always");
    return new KillableStore() {
      @Override
      public String uri() {
        return redis.uri();
      }

      @Override
      public void kill() {
        redis.kill();
      }

      @Override
      public void restart() {
        redis.start();
        if (!redis.uri().equals(uri)) {
          throw new IllegalStateException(
              "Redis came back on another port (" + redis.uri() + "), workers use " + uri);
        }
      }

      private final String uri = redis.uri();

      @Override
      public String description() {
        return redis.description() + ", appendfsync always";
      }

      @Override
      public void close() {
        redis.close();
      }
    };
  }

  @Override
  protected String bootstrapServers() {
    return KafkaBroker.shared().bootstrapServers();
  }

  @Override
  protected String storeUri() {
    return RedisServer.shared().uri();
  }

  @Override
  protected Class<? extends ResultModel<?>> resultModel() {
    return RedisResultModel.class;
  }

  @Override
  protected Map<String, String> consumerProperties() {
    String env = System.getenv(KafkaBroker.ENV);
    if (env != null && !env.isBlank()) {
      return super.consumerProperties(); // a user's cluster: the kit's defaults suit any broker
    }
    // The embedded broker accepts a 2 s session: killed members' partitions move sooner, so more
    // kills per minute of CI (the same settings as the JDBC runs in store-jdbc).
    return Map.of("session.timeout.ms", "2000", "heartbeat.interval.ms", "500");
  }
}
