package io.tandem.bench;

import io.tandem.jdbc.JdbcOffsetStore;
import io.tandem.jdbc.JdbcStoreConfig;
import io.tandem.kafka.Batch;
import io.tandem.kafka.BatchProcessor;
import io.tandem.redis.RedisOffsetStore;
import io.tandem.redis.RedisStoreConfig;
import io.tandem.redis.RedisTransaction;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import redis.clients.jedis.Jedis;

/**
 * A store of the scale run, seen from both sides: the workers open its {@link OffsetStore} and
 * write each batch's results through the commit's handle; the run prepares it, reads the results
 * back to follow progress and check exactly-once, and measures its size.
 *
 * <p>The results are counters, not upserts: per (group, partition) the number of records processed
 * and the sum of their offsets, incremented inside the commit. An increment applied twice or never
 * shows in the final count (exactly-once means count = the partition's end offset and sum = 0 + 1 +
 * ... + (end - 1)), at 1 000 rows per group instead of one per record. Only transactional stores
 * can run it: an increment is not idempotent.
 */
abstract class ScaleStore {

  /** The offsets table (PostgreSQL) or key prefix (Redis) the run uses. */
  static final String NAME = "scale_offsets";

  abstract String name();

  /** Arguments a worker needs to reach the store ({@code --key=value}). */
  abstract List<String> workerArgs();

  /** Opens the Tandem store (in a worker). */
  abstract OffsetStore<Object> open(int poolSize);

  /** Writes a batch's per-partition count and offset sum through the commit's handle. */
  abstract BatchProcessor<String, String, Object> processor(String group);

  /** Drops what an earlier run left and creates the results' place. */
  abstract void prepare() throws Exception;

  /** Per group, per partition: {records, sum of offsets}. */
  abstract Map<String, Map<Integer, long[]>> counters(List<String> groups) throws Exception;

  /** Records processed per group so far. */
  Map<String, Long> progress(List<String> groups) throws Exception {
    Map<String, Long> out = new LinkedHashMap<>();
    counters(groups).forEach((g, m) -> out.put(g, m.values().stream().mapToLong(v -> v[0]).sum()));
    return out;
  }

  /** The store's size now: named figures, in the order they are reported. */
  abstract Map<String, String> size() throws Exception;

  /** The server, as the report names it. */
  abstract String server();

  /** Per partition of the batch: {records, sum of offsets}. */
  static Map<Integer, long[]> perPartition(Batch<String, String> batch) {
    Map<Integer, long[]> out = new HashMap<>();
    for (ConsumerRecord<String, String> r : batch.records()) {
      long[] v = out.computeIfAbsent(r.partition(), p -> new long[2]);
      v[0]++;
      v[1] += r.offset();
    }
    return out;
  }

  /** Reads {@code --key=value} arguments for a worker's store. */
  static ScaleStore fromArgs(Map<String, String> a) {
    String store = a.get("store");
    if ("postgres".equals(store)) {
      return new Postgres(a.get("url"), a.get("user"), a.get("password"));
    }
    if ("redis".equals(store)) {
      return new Redis(a.get("host"), Integer.parseInt(a.get("port")), "");
    }
    throw new IllegalArgumentException(
        "the scale run knows stores postgres and redis, got --store=" + store);
  }

  /** PostgreSQL: {@link JdbcOffsetStore} with table {@value #NAME}, results in scale_results. */
  static final class Postgres extends ScaleStore {
    private final String url;
    private final String user;
    private final String password;
    private String description = "PostgreSQL";

    Postgres(String url, String user, String password) {
      this.url = url;
      this.user = user;
      this.password = password;
    }

    Postgres describedAs(String description) {
      this.description = description;
      return this;
    }

    @Override
    String name() {
      return "postgres";
    }

    @Override
    String server() {
      return description;
    }

    @Override
    List<String> workerArgs() {
      return List.of(
          "--store=postgres", "--url=" + url, "--user=" + user, "--password=" + password);
    }

    @Override
    @SuppressWarnings("unchecked")
    OffsetStore<Object> open(int poolSize) {
      OffsetStore<?> s =
          JdbcOffsetStore.open(
              JdbcStoreConfig.builder()
                  .url(url)
                  .user(user)
                  .password(password)
                  .tableName(NAME)
                  .poolSize(poolSize)
                  .build());
      return (OffsetStore<Object>) s;
    }

    @Override
    BatchProcessor<String, String, Object> processor(String group) {
      return (batch, handle) -> {
        Connection c = (Connection) handle;
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO scale_results AS r (grp, p, n, s) VALUES (?, ?, ?, ?)"
                    + " ON CONFLICT (grp, p) DO UPDATE SET n = r.n + EXCLUDED.n,"
                    + " s = r.s + EXCLUDED.s")) {
          for (Map.Entry<Integer, long[]> e : perPartition(batch).entrySet()) {
            ps.setString(1, group);
            ps.setInt(2, e.getKey());
            ps.setLong(3, e.getValue()[0]);
            ps.setLong(4, e.getValue()[1]);
            ps.addBatch();
          }
          ps.executeBatch();
        }
      };
    }

    private Connection connect() throws SQLException {
      return DriverManager.getConnection(url, user, password);
    }

    @Override
    void prepare() throws SQLException {
      try (Connection c = connect();
          Statement s = c.createStatement()) {
        s.execute("DROP TABLE IF EXISTS scale_results");
        s.execute("DROP TABLE IF EXISTS " + NAME);
        s.execute(
            "CREATE TABLE scale_results (grp text NOT NULL, p int NOT NULL, n bigint NOT NULL,"
                + " s bigint NOT NULL, PRIMARY KEY (grp, p))");
      }
      // The offsets table, as the store creates it.
      try (OffsetStore<Object> store = open(1)) {
        store.prepare();
      }
    }

    @Override
    Map<String, Map<Integer, long[]>> counters(List<String> groups) throws SQLException {
      Map<String, Map<Integer, long[]>> out = new LinkedHashMap<>();
      groups.forEach(g -> out.put(g, new HashMap<>()));
      try (Connection c = connect();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT grp, p, n, s FROM scale_results")) {
        while (rs.next()) {
          Map<Integer, long[]> m = out.get(rs.getString(1));
          if (m != null) {
            m.put(rs.getInt(2), new long[] {rs.getLong(3), rs.getLong(4)});
          }
        }
      }
      return out;
    }

    @Override
    Map<String, Long> progress(List<String> groups) throws SQLException {
      Map<String, Long> out = new LinkedHashMap<>();
      groups.forEach(g -> out.put(g, 0L));
      try (Connection c = connect();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT grp, sum(n) FROM scale_results GROUP BY grp")) {
        while (rs.next()) {
          out.computeIfPresent(rs.getString(1), (g, v) -> v + rsLong(rs));
        }
      }
      return out;
    }

    private static long rsLong(ResultSet rs) {
      try {
        return rs.getLong(2);
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    Map<String, String> size() throws SQLException {
      Map<String, String> out = new LinkedHashMap<>();
      try (Connection c = connect();
          Statement s = c.createStatement()) {
        for (String t : List.of(NAME, "scale_results")) {
          try (ResultSet rs =
              s.executeQuery(
                  "SELECT pg_total_relation_size('" + t + "'), (SELECT count(*) FROM " + t + ")")) {
            rs.next();
            out.put(t + " size", Report.f(rs.getLong(1) / 1024.0, 0) + " KiB");
            out.put(t + " rows", Long.toString(rs.getLong(2)));
          }
        }
        try (ResultSet rs =
            s.executeQuery(
                "SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables WHERE relname IN ('"
                    + NAME
                    + "', 'scale_results')")) {
          rs.next();
          out.put("dead tuples (both tables)", Long.toString(rs.getLong(1)));
        }
      }
      return out;
    }
  }

  /** Redis: {@link RedisOffsetStore}, results in two hashes per group. */
  static final class Redis extends ScaleStore {
    private final String host;
    private final int port;
    private final String description;

    Redis(String host, int port, String description) {
      this.host = host;
      this.port = port;
      this.description = description;
    }

    @Override
    String name() {
      return "redis";
    }

    @Override
    String server() {
      return description;
    }

    @Override
    List<String> workerArgs() {
      return List.of("--store=redis", "--host=" + host, "--port=" + port);
    }

    @Override
    @SuppressWarnings("unchecked")
    OffsetStore<Object> open(int poolSize) {
      OffsetStore<?> s =
          RedisOffsetStore.open(
              RedisStoreConfig.builder().host(host).port(port).poolSize(poolSize).build());
      return (OffsetStore<Object>) s;
    }

    /** The hash of a group's counts or offset sums; the group's hash tag, as the store asks. */
    static String key(String group, String what) {
      return "scale:{" + group + "}:" + what;
    }

    @Override
    BatchProcessor<String, String, Object> processor(String group) {
      String n = key(group, "n");
      String s = key(group, "s");
      return (batch, handle) -> {
        RedisTransaction t = (RedisTransaction) handle;
        for (Map.Entry<Integer, long[]> e : perPartition(batch).entrySet()) {
          String field = Integer.toString(e.getKey());
          t.commands().hincrBy(n, field, e.getValue()[0]);
          t.commands().hincrBy(s, field, e.getValue()[1]);
        }
      };
    }

    @Override
    void prepare() {
      try (Jedis j = new Jedis(host, port)) {
        j.flushAll();
      }
    }

    @Override
    Map<String, Map<Integer, long[]>> counters(List<String> groups) {
      Map<String, Map<Integer, long[]>> out = new LinkedHashMap<>();
      // A generous timeout: with appendfsync always and a busy machine, Jedis' default 2 s was
      // too short for the run's reads (SocketTimeoutException seen here).
      try (Jedis j = new Jedis(host, port, 60_000)) {
        for (String g : groups) {
          Map<Integer, long[]> m = new HashMap<>();
          j.hgetAll(key(g, "n"))
              .forEach(
                  (p, v) ->
                      m.computeIfAbsent(Integer.valueOf(p), x -> new long[2])[0] =
                          Long.parseLong(v));
          j.hgetAll(key(g, "s"))
              .forEach(
                  (p, v) ->
                      m.computeIfAbsent(Integer.valueOf(p), x -> new long[2])[1] =
                          Long.parseLong(v));
          out.put(g, m);
        }
      }
      return out;
    }

    @Override
    Map<String, String> size() {
      Map<String, String> out = new LinkedHashMap<>();
      try (Jedis j = new Jedis(host, port)) {
        out.put("DBSIZE (keys)", Long.toString(j.dbSize()));
        for (String line : j.info("memory").split("\r?\n")) {
          if (line.startsWith("used_memory:") || line.startsWith("used_memory_dataset:")) {
            String[] kv = line.split(":", 2);
            out.put(kv[0], Report.f(Long.parseLong(kv[1].trim()) / 1024.0, 0) + " KiB");
          }
        }
      }
      return out;
    }
  }

  /** The partition numbers of a set of partitions. */
  static List<Integer> numbers(java.util.Collection<Partition> ps) {
    return ps.stream().map(Partition::partition).sorted().toList();
  }
}
