package io.tandem.redis.e2e;

import io.tandem.redis.RedisStoreConfig;
import io.tandem.redis.RedisTransaction;
import io.tandem.tck.e2e.E2eRecord;
import io.tandem.tck.e2e.ResultModel;
import java.io.File;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.SslOptions;
import redis.clients.jedis.SslVerifyMode;

/**
 * The end-to-end kit's results in Redis, two hashes per namespace, both written inside the store's
 * {@code MULTI}/{@code EXEC}:
 *
 * <ul>
 *   <li>{@code tandem-e2e:{<ns>}:seen}: field = record id, value = how many times the record was
 *       applied ({@code HINCRBY id 1}). The counter is appended to, never set, so a record applied
 *       twice reads back as 2: duplicates stay visible, as the kit requires of a transactional
 *       model.
 *   <li>{@code tandem-e2e:{<ns>}:totals}: field = key, value = the fold of the amounts ({@code
 *       HINCRBY key sum}).
 * </ul>
 *
 * <p>The kit's consumer group is the namespace, so {@code {<ns>}} is also the commit's {@link
 * RedisTransaction#hashTag()}: on Redis Cluster both hashes would share the slot of the group's
 * positions. Nothing needs creating: {@link #open} only connects (and checks the connection), which
 * several worker JVMs may do at once.
 */
public final class RedisResultModel implements ResultModel<RedisTransaction> {

  private Jedis jedis;
  private String seen;
  private String totals;

  /** For the kit, which instantiates it by name. */
  public RedisResultModel() {}

  @Override
  public void open(String storeUri, Map<String, String> properties, String namespace) {
    if (!namespace.matches("[a-z][a-z0-9_]{0,39}")) {
      throw new IllegalArgumentException("namespace must match [a-z][a-z0-9_]{0,39}: " + namespace);
    }
    seen = "tandem-e2e:{" + namespace + "}:seen";
    totals = "tandem-e2e:{" + namespace + "}:totals";
    // The store's own parser: the same host, credentials, database and TLS as the store.
    RedisStoreConfig c = RedisStoreConfig.fromUri(storeUri, properties);
    Jedis j = connect(c);
    try {
      j.ping();
    } catch (RuntimeException e) {
      j.close();
      throw e;
    }
    jedis = j;
  }

  /** A plain connection with the store's address, credentials, database and TLS settings. */
  static Jedis connect(RedisStoreConfig c) {
    DefaultJedisClientConfig.Builder b =
        DefaultJedisClientConfig.builder()
            // No HELLO: the server default (RESP2), as on the store's own connections.
            .serverDefaultProtocol()
            .database(c.database())
            .connectionTimeoutMillis((int) c.connectTimeout().toMillis())
            .socketTimeoutMillis((int) c.timeout().toMillis())
            .clientName("tandem-e2e-model");
    if (c.user() != null) {
      b.user(c.user());
    }
    if (c.password() != null) {
      b.password(c.password());
    }
    if (c.ssl()) {
      SslOptions.Builder ssl =
          SslOptions.builder()
              .sslVerifyMode(c.verifyHostname() ? SslVerifyMode.FULL : SslVerifyMode.CA);
      if (c.trustStore() != null) {
        ssl.truststore(
            new File(c.trustStore()),
            c.trustStorePassword() == null ? null : c.trustStorePassword().toCharArray());
      }
      b.sslOptions(ssl.build());
    }
    return new Jedis(new HostAndPort(c.host(), c.port()), b.build());
  }

  @Override
  public void write(RedisTransaction tx, List<E2eRecord> batch) {
    for (E2eRecord r : batch) {
      tx.commands().hincrBy(seen, r.id(), 1);
    }
    // One HINCRBY per key of the batch rather than per record: fewer queued commands, same fold.
    Map<String, Long> sums = new TreeMap<>();
    batch.forEach(r -> sums.merge(r.key(), r.amount(), Long::sum));
    sums.forEach((k, sum) -> tx.commands().hincrBy(totals, k, sum));
  }

  @Override
  public Observed read() {
    Map<String, Integer> occurrences = new HashMap<>();
    jedis.hgetAll(seen).forEach((id, n) -> occurrences.put(id, Integer.parseInt(n)));
    Map<String, Long> folded = new HashMap<>();
    jedis.hgetAll(totals).forEach((k, t) -> folded.put(k, Long.parseLong(t)));
    return new Observed(occurrences, folded);
  }

  @Override
  public void close() {
    if (jedis != null) {
      jedis.close();
      jedis = null;
    }
  }
}
