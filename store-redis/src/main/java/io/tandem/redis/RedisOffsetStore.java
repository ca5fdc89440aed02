package io.tandem.redis;

import io.tandem.redis.internal.Failures;
import io.tandem.redis.internal.Keys;
import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreArguments;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.spi.support.Conflicts;
import io.tandem.spi.support.ReadBack;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPool;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.SslOptions;
import redis.clients.jedis.SslVerifyMode;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * An {@link OffsetStore} on Redis (standalone or a primary; Redis 6.2 and 7.x verified).
 *
 * <h2>Layout</h2>
 *
 * Each partition's position is its own string key, {@code
 * <prefix>:{<group>}:offset:<topic>:<partition>} (default prefix {@code tandem}), value the
 * position in decimal; a {@code '}'} in the group is written twice in this key so that no two
 * (group, topic) pairs share one. A set per group, {@code <prefix>:{<group>}:partitions}, lists the
 * {@code <topic>:<partition>} of every partition that has a position key, so {@link
 * #positions(String)}, {@link #delete(String)} and {@link #groups()} find a group's keys without a
 * SCAN per group; every operation that creates or removes position keys changes the set in the same
 * {@code MULTI}/{@code EXEC}. One key per partition is what lets consumers of one group that own
 * disjoint partitions commit concurrently: a commit watches only its own partitions' keys, so
 * disjoint commits never abort each other (with one hash per group, every overlap of two commits
 * made one {@code EXEC} nil and sent it round again). The group is every key's hash tag, so on
 * Redis Cluster a group's keys stay in one slot; result keys that carry the same tag ({@link
 * RedisTransaction#hashTag()}) share it. This version connects to one endpoint and does not follow
 * cluster redirections.
 *
 * <h2>The atomic step</h2>
 *
 * An optimistic transaction on one connection: {@code WATCH} the ranges' position keys and {@code
 * MGET} them (one round trip), compare each with its range's {@code from} (a missing key is {@link
 * Conflict#missing}; every mismatch is reported in one {@link OffsetConflictException}, after
 * {@code UNWATCH}); {@code MULTI}; the writer's commands, queued through {@link RedisTransaction};
 * {@code MSET} of every new position; {@code EXEC}. Redis runs the queued commands back to back, no
 * other client in between. A nil {@code EXEC} reply means one of this commit's position keys was
 * written after {@code WATCH} and nothing ran: the positions are read again; if one moved (or
 * vanished), that is a conflict listing every such partition; if all still hold the range's {@code
 * from} (a key rewritten with its own value, e.g. by {@link #overwrite}), the commit runs again,
 * writer included, up to {@link RedisStoreConfig#watchRetries()} times. Other partitions of the
 * group are not watched, and neither are the writer's keys, so neither changing concurrently aborts
 * a commit: a writer must not base its commands on values it read (it cannot read inside {@code
 * MULTI} anyway). The index set is not touched by a commit: a commit needs every position key to
 * exist already, and an existing key is always in the index.
 *
 * <h2>Guarantee and what weakens it</h2>
 *
 * {@link Guarantee#TRANSACTIONAL}, atomic across partitions, with these limits, each verified on
 * Redis 6.2.11 and 7.0.15:
 *
 * <ul>
 *   <li><b>No rollback of run-time errors.</b> A command that is rejected when queued (unknown
 *       command, wrong number of arguments, out of memory) makes {@code EXEC} fail with {@code
 *       EXECABORT}: nothing runs, and the commit fails with {@link ResultWriteException} (or {@link
 *       StoreUnavailableException} for {@code OOM}). But a command that fails while {@code EXEC}
 *       runs ({@code WRONGTYPE}, {@code HINCRBY} on a non-integer) fails alone: Redis runs every
 *       other command of the transaction, the positions' {@code MSET} included, and replies with
 *       the error in that command's slot. Ordering does not help (the positions could come first or
 *       last: both run), and no queued command can make a later one conditional. A Lua script or
 *       function could stop before the positions on the first error, but it could not undo the
 *       commands before it either (scripts do not roll back), it would need every key declared for
 *       Cluster, and it would forbid commands users legitimately queue; and an undo log (DUMP and
 *       RESTORE of every touched key) costs a copy of every touched value per commit. So the store
 *       keeps {@code MULTI}/{@code EXEC}, reads the reply, and throws {@link
 *       RedisExecErrorException} naming each failed command: the positions moved and the other
 *       results stand, so each command ran at most once and the failed ones not at all. The error
 *       is deterministic (the data's type or value), so stopping for a human is the right response;
 *       replaying would fail again. Writers that queue only commands that cannot fail at run time
 *       on keys they own (HSET on hashes, SET, INCRBY on integers) never meet it.
 *   <li><b>Durability is the server's.</b> A commit that returned survives a restart only with
 *       {@code appendonly yes} and {@code appendfsync always}; with {@code everysec} about one
 *       second of commits can be lost, without AOF everything since the last snapshot. {@link
 *       #capabilities()} reads both settings with {@code CONFIG GET} (unknown, hence not durable,
 *       where {@code CONFIG} is disabled), and opening logs a WARN when commits can be lost.
 *   <li><b>Replication is asynchronous.</b> With {@link RedisStoreConfig#waitReplicas()} > 0 each
 *       commit ends with {@code WAIT n timeout}; fewer acknowledgements throw {@link
 *       StoreUnavailableException} (the commit is applied on the primary; re-read positions). A
 *       replica that acknowledged has the commit in memory, not necessarily on disk, and a failover
 *       may still promote a replica that has not: {@code WAIT} narrows the window, it does not make
 *       Redis strongly consistent.
 *   <li><b>A lost {@code EXEC} reply.</b> When the connection fails after {@code EXEC} was sent,
 *       the outcome is unknown; the store reads the positions back on a new connection: all at
 *       {@code until} means applied (the commit returns), all at {@code from} means not applied as
 *       far as the server shows (a retry is safe: should the old {@code EXEC} still arrive, the
 *       retry's check turns into a conflict), anything else is reported as unknown. Either way of
 *       failing is a {@link StoreUnavailableException}. Verified on 6.2 and 7.0 with an {@code
 *       EXEC} held by {@code CLIENT PAUSE WRITE} past the client's timeout: the read-back saw the
 *       old positions, and once the client had closed its connection the held {@code EXEC} never
 *       ran. A server that reads the {@code EXEC} before it notices the closed connection would
 *       still run it; the contiguity check keeps that from applying a batch twice.
 * </ul>
 *
 * <p>Thread-safe: each operation borrows a connection from a pool of {@link
 * RedisStoreConfig#poolSize()} connections.
 */
public final class RedisOffsetStore implements OffsetStore<RedisTransaction> {

  private static final Logger log = LoggerFactory.getLogger(RedisOffsetStore.class);
  private static final int SCAN_COUNT = 1000;
  private static final int READ_BACK_ATTEMPTS = 3;

  private final RedisStoreConfig config;
  private final Keys keys;
  private final ConnectionPool pool;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong watchRetries = new AtomicLong();

  private RedisOffsetStore(RedisStoreConfig config) {
    this.config = config;
    this.keys = new Keys(config.keyPrefix());
    this.pool = pool(config);
  }

  /**
   * Opens a store: connects, reads the server's durability settings and logs a WARN if a restart
   * can lose commits.
   *
   * @param config the configuration
   * @return the open store
   * @throws StoreUnavailableException if the server cannot be reached
   * @throws StoreConfigurationException if the server refuses the credentials or database
   */
  public static RedisOffsetStore open(RedisStoreConfig config) {
    Objects.requireNonNull(config, "config must not be null");
    RedisOffsetStore store = new RedisOffsetStore(config);
    try {
      Capabilities caps = store.capabilities();
      if (caps.durable()) {
        log.info("Opened Redis store: {}", caps.description());
      } else {
        log.warn(
            "Opened Redis store, but commits that returned can be lost by a server restart: {}",
            caps.description());
      }
      return store;
    } catch (StoreConfigurationException | StoreUnavailableException e) {
      store.close();
      throw e;
    } catch (OffsetStoreException e) {
      store.close();
      // A wrong database number or credentials fail the first connection with a server error
      // ("ERR DB index is out of range", "WRONGPASS"): a configuration error, not an outage.
      Throwable cause = rootJedisDataError(e.getCause());
      if (cause != null) {
        throw new StoreConfigurationException(
            "Redis at " + config.address() + " refused the connection: " + cause.getMessage(), e);
      }
      throw e;
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  private static Throwable rootJedisDataError(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof JedisDataException) {
        return c;
      }
    }
    return null;
  }

  private static ConnectionPool pool(RedisStoreConfig config) {
    DefaultJedisClientConfig.Builder client =
        DefaultJedisClientConfig.builder()
            .connectionTimeoutMillis((int) config.connectTimeout().toMillis())
            .socketTimeoutMillis((int) config.timeout().toMillis())
            .database(config.database())
            .clientName(config.clientName());
    if (config.user() != null) {
      client.user(config.user());
    }
    if (config.password() != null) {
      client.password(config.password());
    }
    if (config.ssl()) {
      // The given trust store or the JVM's; FULL checks the chain and the host name, CA the
      // chain only.
      SslOptions.Builder ssl =
          SslOptions.builder()
              .sslVerifyMode(config.verifyHostname() ? SslVerifyMode.FULL : SslVerifyMode.CA);
      if (config.trustStore() != null) {
        char[] pw =
            config.trustStorePassword() == null ? null : config.trustStorePassword().toCharArray();
        ssl.truststore(new java.io.File(config.trustStore()), pw);
      }
      client.sslOptions(ssl.build());
    }
    GenericObjectPoolConfig<Connection> poolConfig = new GenericObjectPoolConfig<>();
    poolConfig.setMaxTotal(config.poolSize());
    poolConfig.setMaxIdle(config.poolSize());
    poolConfig.setMinIdle(0);
    poolConfig.setBlockWhenExhausted(true);
    poolConfig.setMaxWait(config.connectTimeout().plus(config.timeout()));
    poolConfig.setJmxEnabled(false);
    return new ConnectionPool(
        new HostAndPort(config.host(), config.port()), client.build(), poolConfig);
  }

  /**
   * The configuration this store was opened with.
   *
   * @return the configuration
   */
  public RedisStoreConfig config() {
    return config;
  }

  /**
   * Reads the server's version and its {@code appendonly} / {@code appendfsync} settings: durable
   * only with {@code appendonly yes} and {@code appendfsync always}.
   */
  @Override
  public Capabilities capabilities() {
    checkOpen();
    return call(
        "Reading the server's settings",
        true,
        j -> {
          String info = j.info("server");
          String version = infoField(info, "redis_version");
          String role = infoField(j.info("replication"), "role");
          String aof;
          boolean durable;
          try {
            // One parameter per CONFIG GET: Redis 6.2 rejects several ("Unknown subcommand or
            // wrong number of arguments for 'GET'"); 7.0 accepts both forms.
            String appendonly = j.configGet("appendonly").get("appendonly");
            String appendfsync = j.configGet("appendfsync").get("appendfsync");
            durable = "yes".equals(appendonly) && "always".equals(appendfsync);
            if (!"yes".equals(appendonly)) {
              aof =
                  "appendonly="
                      + appendonly
                      + ": a restart loses every commit since the last RDB snapshot";
            } else if (durable) {
              aof = "appendonly=yes appendfsync=always: a commit that returned survives a restart";
            } else {
              aof =
                  "appendonly=yes appendfsync="
                      + appendfsync
                      + ": a restart can lose the last commits (about 1 s with everysec)";
            }
          } catch (JedisConnectionException e) {
            throw e;
          } catch (JedisDataException e) {
            durable = false;
            aof =
                "durability unknown, CONFIG GET refused ("
                    + e.getMessage()
                    + "): declared not durable";
          }
          String waits =
              config.waitReplicas() > 0
                  ? "; each commit WAITs for "
                      + config.waitReplicas()
                      + " replica(s) up to "
                      + config.waitTimeout().toMillis()
                      + " ms"
                  : "";
          String description =
              "Redis "
                  + version
                  + " ("
                  + role
                  + ") at "
                  + config.address()
                  + ": WATCH/MULTI/EXEC, run-time command errors are not rolled back; "
                  + aof
                  + waits;
          return new Capabilities(
              Guarantee.TRANSACTIONAL, true, config.maxRangesPerCommit(), durable, description);
        });
  }

  private static String infoField(String info, String name) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(name + ":")) {
        return line.substring(name.length() + 1).trim();
      }
    }
    return "unknown";
  }

  /**
   * How often a commit of this store ran again after a nil {@code EXEC} that was no conflict (its
   * position keys rewritten with unchanged values). Commits of disjoint partitions never cause one.
   */
  long watchRetries() {
    return watchRetries.get();
  }

  @Override
  public Class<RedisTransaction> handleType() {
    return RedisTransaction.class;
  }

  @Override
  public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
    StoreArguments.group(group);
    List<Partition> ps = StoreArguments.partitions(partitions);
    checkOpen();
    if (ps.isEmpty()) {
      return Map.of();
    }
    String[] offsetKeys = offsetKeys(group, ps);
    List<String> values =
        call("Reading positions of group '" + group + "'", true, j -> j.mget(offsetKeys));
    return toMap(ps, offsetKeys, values);
  }

  @Override
  public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
    StoreArguments.group(group);
    Map<Partition, Long> sorted = StoreArguments.positions(starts);
    checkOpen();
    if (sorted.isEmpty()) {
      return Map.of();
    }
    List<Partition> ps = new ArrayList<>(sorted.keySet());
    String[] fields = fields(ps);
    String[] offsetKeys = offsetKeys(group, ps);
    String index = keys.index(group);
    // SET NX per key, SADD of every member to the index, MGET: one MULTI/EXEC, so the keys and the
    // index change together and the MGET returns what stands (a concurrent initialize or commit
    // either ran before, and its value is kept, or runs after). Retrying is idempotent.
    List<String> values =
        callWatching(
            "Initializing positions of group '" + group + "'",
            j -> {
              Transaction tx = j.multi();
              for (int i = 0; i < ps.size(); i++) {
                tx.set(
                    offsetKeys[i],
                    String.valueOf(sorted.get(ps.get(i))),
                    SetParams.setParams().nx());
              }
              tx.sadd(index, fields);
              Response<List<String>> read = tx.mget(offsetKeys);
              execOrFail(tx);
              return read.get();
            });
    return toMap(ps, offsetKeys, values);
  }

  @Override
  public void commit(
      String group, Collection<OffsetRange> ranges, ResultWriter<RedisTransaction> results) {
    StoreArguments.group(group);
    List<OffsetRange> sorted = StoreArguments.ranges(ranges, config.maxRangesPerCommit());
    StoreArguments.results(results);
    checkOpen();
    String[] offsetKeys = new String[sorted.size()];
    // MSET's arguments: key, value, key, value, ...
    String[] next = new String[2 * sorted.size()];
    for (int i = 0; i < sorted.size(); i++) {
      offsetKeys[i] = keys.offset(group, sorted.get(i).partition());
      next[2 * i] = offsetKeys[i];
      next[2 * i + 1] = String.valueOf(sorted.get(i).until());
    }
    Attempt attempt = new Attempt(group, sorted, offsetKeys, next, results);
    boolean staleRetried = false;
    for (int round = 0; ; round++) {
      Outcome outcome = attempt.run();
      switch (outcome) {
        case DONE:
          return;
        case STALE_CONNECTION:
          // The connection failed before EXEC was sent: nothing was applied (the server drops a
          // MULTI whose connection closes). Pooled connections die when the server restarts, so
          // one retry on a fresh connection hides that.
          if (!staleRetried) {
            staleRetried = true;
            dropIdleConnections();
            round--;
            continue;
          }
          throw Failures.map(
              describe(group, sorted) + " at " + config.address(), attempt.connectionFailure);
        case TOUCHED_UNCHANGED:
          if (round >= config.watchRetries()) {
            throw new StoreUnavailableException(
                describe(group, sorted)
                    + " was aborted "
                    + (round + 1)
                    + " times because its position keys were rewritten with unchanged values"
                    + " between WATCH and EXEC (nothing was committed). Retry, or raise"
                    + " watchRetries.",
                null);
          }
          watchRetries.incrementAndGet();
          log.debug(
              "Commit of group '{}' retries: a position key was rewritten with its value after"
                  + " WATCH",
              group);
          LockSupport.parkNanos(
              ThreadLocalRandom.current().nextLong(50_000, 500_000L * Math.min(round + 1, 20)));
          continue;
        default:
          throw new AssertionError(outcome);
      }
    }
  }

  private enum Outcome {
    DONE,
    STALE_CONNECTION,
    /** Nil EXEC, yet every position still equals its range's {@code from}. */
    TOUCHED_UNCHANGED
  }

  /** One try of a commit on one connection. */
  private final class Attempt {
    final String group;
    final List<OffsetRange> ranges;
    final String[] offsetKeys;
    final String[] next;
    final ResultWriter<RedisTransaction> results;
    JedisException connectionFailure;

    Attempt(
        String group,
        List<OffsetRange> ranges,
        String[] offsetKeys,
        String[] next,
        ResultWriter<RedisTransaction> results) {
      this.group = group;
      this.ranges = ranges;
      this.offsetKeys = offsetKeys;
      this.next = next;
      this.results = results;
    }

    Outcome run() {
      Jedis j = borrow(describe(group, ranges));
      boolean execSent = false;
      boolean clean = false;
      try {
        // WATCH and MGET of this commit's position keys only, in one round trip: the server runs
        // them in order, so the read is already covered by the WATCH. Commits of other partitions
        // write other keys and never abort this one.
        List<String> found;
        try (Pipeline p = j.pipelined()) {
          p.sendCommand(Protocol.Command.WATCH, offsetKeys);
          Response<List<String>> read = p.mget(offsetKeys);
          p.sync();
          found = read.get();
        }
        List<Conflict> conflicts = conflicts(found);
        if (!conflicts.isEmpty()) {
          j.unwatch();
          clean = true;
          throw new OffsetConflictException(group, conflicts);
        }
        Transaction tx = j.multi();
        RedisTransaction handle = new RedisTransaction(tx, group);
        try {
          results.write(handle);
        } catch (JedisConnectionException e) {
          throw e;
        } catch (Exception e) {
          handle.close();
          try {
            // DISCARD drops the queued commands and the WATCH.
            tx.discard();
            clean = true;
          } catch (JedisException discardFailed) {
            e.addSuppressed(discardFailed);
          }
          throw new ResultWriteException(
              describe(group, ranges)
                  + " was aborted: the result writer threw "
                  + e
                  + ". Nothing was committed.",
              e);
        } finally {
          handle.close();
        }
        tx.mset(next);
        execSent = true;
        List<Object> reply;
        try {
          reply = tx.exec();
        } catch (JedisDataException e) {
          clean = true;
          throw execAborted(e);
        }
        clean = true;
        if (reply == null) {
          // Nil EXEC: one of this commit's position keys was written after WATCH and nothing ran.
          // Moved (a conflict), or rewritten with the value it had (an overwrite of the same
          // position): then nothing stands in the way and the commit runs again.
          List<Conflict> now = conflicts(j.mget(offsetKeys));
          if (!now.isEmpty()) {
            throw new OffsetConflictException(group, now);
          }
          return Outcome.TOUCHED_UNCHANGED;
        }
        checkReply(reply);
        awaitReplicas(j);
        return Outcome.DONE;
      } catch (JedisConnectionException e) {
        connectionFailure = e;
        if (!execSent) {
          return Outcome.STALE_CONNECTION;
        }
        resolveLostExec(e);
        return Outcome.DONE;
      } catch (JedisException e) {
        throw Failures.map(describe(group, ranges), e);
      } finally {
        release(j, !clean);
      }
    }

    List<Conflict> conflicts(List<String> found) {
      return Conflicts.ofParallel(ranges, positions(found));
    }

    /** The positions read back (MGET of {@code offsetKeys}), null where a key is absent. */
    List<Long> positions(List<String> found) {
      List<Long> out = new ArrayList<>(ranges.size());
      for (int i = 0; i < ranges.size(); i++) {
        String v = found.get(i);
        out.add(v == null ? null : Keys.position(offsetKeys[i], v));
      }
      return out;
    }

    OffsetStoreException execAborted(JedisDataException e) {
      // Verified on 6.2 and 7.0: a command the server rejects when queued (unknown command, wrong
      // arity, OOM under maxmemory) makes EXEC answer EXECABORT and nothing runs. Jedis attaches
      // the rejections it read as suppressed exceptions of the EXECABORT error.
      List<String> rejected = new ArrayList<>();
      for (Throwable s : e.getSuppressed()) {
        rejected.add(String.valueOf(s.getMessage()));
      }
      String m = e.getMessage() + (rejected.isEmpty() ? "" : " " + rejected);
      if (m.contains("OOM") || m.contains("LOADING") || m.contains("READONLY")) {
        return new StoreUnavailableException(
            describe(group, ranges)
                + " was aborted: Redis refused writes ("
                + m
                + "). Nothing was committed; retry when the server accepts writes.",
            e);
      }
      return new ResultWriteException(
          describe(group, ranges)
              + " was aborted: Redis rejected a queued command ("
              + m
              + "). Nothing was committed; fix the writer's commands.",
          e);
    }

    void checkReply(List<Object> reply) {
      // The reply has one slot per queued command: the writer's, then our MSET. A run-time error
      // sits in its slot as a JedisDataException; everything else ran (verified on 6.2 and 7.0).
      List<String> errors = new ArrayList<>();
      int writerCommands = reply.size() - 1;
      for (int i = 0; i < reply.size(); i++) {
        if (reply.get(i) instanceof JedisDataException e) {
          errors.add(
              (i < writerCommands ? "command #" + i : "the positions' MSET")
                  + ": "
                  + e.getMessage());
        }
      }
      if (errors.isEmpty()) {
        return;
      }
      if (reply.get(writerCommands) instanceof JedisDataException e) {
        throw new OffsetStoreException(
            describe(group, ranges)
                + ": writing the positions failed inside EXEC ("
                + e.getMessage()
                + "); the writer's other commands ran. Errors: "
                + errors,
            e);
      }
      log.error(
          "{} applied, but {} of the writer's {} commands failed inside EXEC and Redis does not"
              + " roll back: {}",
          describe(group, ranges),
          errors.size(),
          writerCommands,
          errors);
      throw new RedisExecErrorException(
          describe(group, ranges)
              + " was applied: its positions moved and the other commands ran, but "
              + errors.size()
              + " of the writer's "
              + writerCommands
              + " commands failed inside EXEC (Redis does not roll back): "
              + errors
              + ". The batch will not be replayed: fix the named keys and repair the missing"
              + " results.",
          errors);
    }

    void awaitReplicas(Jedis j) {
      if (config.waitReplicas() == 0) {
        return;
      }
      long acked;
      try {
        acked = j.waitReplicas(config.waitReplicas(), config.waitTimeout().toMillis());
      } catch (JedisException e) {
        // EXEC has answered: the commit is applied; only the replicas' acknowledgement is unknown.
        throw new StoreUnavailableException(
            describe(group, ranges)
                + " is applied on the primary, but WAIT for "
                + config.waitReplicas()
                + " replica(s) failed ("
                + e.getMessage()
                + "); a failover now could lose it. Re-read positions before going on.",
            e);
      }
      if (acked < config.waitReplicas()) {
        throw new StoreUnavailableException(
            describe(group, ranges)
                + " is applied on the primary, but only "
                + acked
                + " of "
                + config.waitReplicas()
                + " replicas acknowledged it within "
                + config.waitTimeout().toMillis()
                + " ms; a failover now could lose it. Re-read positions before going on.",
            null);
      }
    }

    void resolveLostExec(JedisConnectionException lost) {
      // The reply was lost, often because the server is busy (the same cause as the timeout):
      // give the read-back a few timeouts' worth of chances before calling the outcome unknown.
      List<String> found = null;
      StoreUnavailableException failed = null;
      for (int i = 0; i < READ_BACK_ATTEMPTS && found == null; i++) {
        try {
          found = call("Reading back positions", false, j -> j.mget(offsetKeys));
        } catch (StoreUnavailableException e) {
          if (failed != null) {
            e.addSuppressed(failed);
          }
          failed = e;
        }
      }
      if (found == null) {
        failed.addSuppressed(lost);
        throw new StoreUnavailableException(
            describe(group, ranges)
                + ": the connection failed while EXEC was under way and the positions cannot be"
                + " read back; the outcome is unknown. Re-read positions before going on.",
            failed);
      }
      ReadBack.Verdict verdict = ReadBack.ofCommit(ranges, positions(found));
      if (verdict == ReadBack.Verdict.APPLIED) {
        log.warn(
            "{}: the connection failed while EXEC was under way ({}); the positions read back show it"
                + " applied. Run-time errors of its commands, if any, are unknown.",
            describe(group, ranges),
            lost.getMessage());
        return;
      }
      throw new StoreUnavailableException(
          describe(group, ranges)
              + ": the connection failed while EXEC was under way; positions read back "
              + (verdict == ReadBack.Verdict.NOT_APPLIED
                  ? "show it not applied. Retrying is safe: should the lost EXEC still run, the"
                      + " retry meets a conflict."
                  : "are " + found + ": the outcome is unknown. Re-read positions.")
              + " ("
              + lost.getMessage()
              + ")",
          lost);
    }
  }

  @Override
  public Set<String> groups() {
    checkOpen();
    // SCAN walks the whole keyspace in steps of SCAN_COUNT keys: O(keys in the database) per call,
    // without blocking the server. An admin operation, never on the commit path. It matches the
    // groups' index sets only: a group is listed while it has a position (Redis removes a set
    // with its last member).
    return call(
        "Listing groups",
        true,
        j -> {
          Set<String> out = new HashSet<>();
          ScanParams params = new ScanParams().match(keys.pattern()).count(SCAN_COUNT);
          String cursor = ScanParams.SCAN_POINTER_START;
          do {
            ScanResult<String> page = j.scan(cursor, params);
            for (String k : page.getResult()) {
              keys.group(k).ifPresent(out::add);
            }
            cursor = page.getCursor();
          } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
          return out;
        });
  }

  @Override
  public Map<Partition, Long> positions(String group) {
    StoreArguments.group(group);
    checkOpen();
    String index = keys.index(group);
    return callWatching(
        "Reading positions of group '" + group + "'",
        j -> {
          // The index names the keys to read, so reading it and them takes two steps. The second
          // is one MULTI/EXEC that reads the index again with the keys: when both reads of the
          // index agree, the values are one consistent snapshot of the group (an admin change in
          // between shows as a different index and the read runs again).
          Set<String> members = j.smembers(index);
          for (int attempt = 0; ; attempt++) {
            if (members.isEmpty()) {
              return Map.of();
            }
            List<String> fields = new ArrayList<>(members);
            String[] offsetKeys = new String[fields.size()];
            for (int i = 0; i < offsetKeys.length; i++) {
              offsetKeys[i] = keys.offset(group, fields.get(i));
            }
            Transaction tx = j.multi();
            Response<Set<String>> again = tx.smembers(index);
            Response<List<String>> values = tx.mget(offsetKeys);
            execOrFail(tx);
            if (again.get().equals(members)) {
              Map<Partition, Long> out = new LinkedHashMap<>();
              for (int i = 0; i < offsetKeys.length; i++) {
                String v = values.get().get(i);
                if (v != null) {
                  out.put(Keys.partition(index, fields.get(i)), Keys.position(offsetKeys[i], v));
                }
              }
              return out;
            }
            if (attempt >= config.watchRetries()) {
              throw new StoreUnavailableException(
                  "Reading positions of group '"
                      + group
                      + "': its partitions changed on every one of "
                      + (attempt + 1)
                      + " reads. Retry.",
                  null);
            }
            members = again.get();
          }
        });
  }

  @Override
  public void overwrite(String group, Map<Partition, Long> positions) {
    StoreArguments.group(group);
    Map<Partition, Long> sorted = StoreArguments.positions(positions);
    checkOpen();
    if (sorted.isEmpty()) {
      return;
    }
    List<Partition> ps = new ArrayList<>(sorted.keySet());
    String[] offsetKeys = offsetKeys(group, ps);
    String[] values = new String[2 * ps.size()];
    for (int i = 0; i < ps.size(); i++) {
      values[2 * i] = offsetKeys[i];
      values[2 * i + 1] = String.valueOf(sorted.get(ps.get(i)));
    }
    String index = keys.index(group);
    String[] fields = fields(ps);
    // MSET and SADD in one MULTI/EXEC: every position of the call and the index at once. The MSET
    // breaks the WATCH of any commit in flight on these partitions, which then re-reads: a moved
    // position is a conflict, an unchanged one a retry.
    callWatching(
        "Overwriting positions of group '" + group + "'",
        j -> {
          Transaction tx = j.multi();
          tx.mset(values);
          tx.sadd(index, fields);
          return execOrFail(tx);
        });
    log.info("Overwrote {} position(s) of group '{}'", ps.size(), group);
  }

  @Override
  public boolean delete(String group) {
    StoreArguments.group(group);
    checkOpen();
    String index = keys.index(group);
    long n =
        callWatching(
            "Deleting group '" + group + "'",
            j -> {
              for (int attempt = 0; ; attempt++) {
                // WATCH the index while reading it: a partition added before EXEC (initialize,
                // overwrite) makes EXEC nil, and the delete reads the index again.
                Set<String> members;
                try (Pipeline p = j.pipelined()) {
                  p.sendCommand(Protocol.Command.WATCH, index);
                  Response<Set<String>> read = p.smembers(index);
                  p.sync();
                  members = read.get();
                }
                String[] doomed = new String[members.size() + 1];
                doomed[0] = index;
                int i = 1;
                for (String f : members) {
                  doomed[i++] = keys.offset(group, f);
                }
                Transaction tx = j.multi();
                Response<Long> deleted = tx.del(doomed);
                if (tx.exec() != null) {
                  return deleted.get();
                }
                if (attempt >= config.watchRetries()) {
                  throw new StoreUnavailableException(
                      "Deleting group '"
                          + group
                          + "': its partitions changed during each of "
                          + (attempt + 1)
                          + " attempts (nothing was deleted). Retry.",
                      null);
                }
              }
            });
    if (n > 0) {
      log.info("Deleted every position of group '{}'", group);
    }
    return n > 0;
  }

  @Override
  public int delete(String group, Collection<Partition> partitions) {
    StoreArguments.group(group);
    List<Partition> ps = StoreArguments.partitions(partitions);
    checkOpen();
    if (ps.isEmpty()) {
      return 0;
    }
    String index = keys.index(group);
    String[] fields = fields(ps);
    String[] offsetKeys = offsetKeys(group, ps);
    // DEL of the keys and SREM of their members in one MULTI/EXEC. The count is DEL's: the keys
    // that existed.
    long n =
        callWatching(
            "Deleting positions of group '" + group + "'",
            j -> {
              Transaction tx = j.multi();
              Response<Long> deleted = tx.del(offsetKeys);
              tx.srem(index, fields);
              execOrFail(tx);
              return deleted.get();
            });
    return (int) n;
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      pool.close();
    }
  }

  @Override
  public String toString() {
    return "RedisOffsetStore[" + config.address() + "]";
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("RedisOffsetStore on " + config.address() + " is closed");
    }
  }

  private Jedis borrow(String what) {
    try {
      return new Jedis(pool.getResource());
    } catch (JedisException e) {
      throw Failures.map(what + " at " + config.address(), e);
    }
  }

  /**
   * Runs one operation on a pooled connection. A read or an idempotent write ({@code retryOnce}) is
   * retried once on a fresh connection when the first fails to connect: pooled connections die when
   * the server restarts.
   */
  private <R> R call(String what, boolean retryOnce, Function<Jedis, R> op) {
    return call(what, retryOnce, false, op);
  }

  /**
   * Like {@link #call(String, boolean, Function)} with one retry, for an operation that uses WATCH
   * or MULTI: if it fails, the connection may still hold the WATCH or be inside MULTI, so it is
   * closed rather than reused.
   */
  private <R> R callWatching(String what, Function<Jedis, R> op) {
    return call(what, true, true, op);
  }

  private <R> R call(String what, boolean retryOnce, boolean watches, Function<Jedis, R> op) {
    for (int attempt = 0; ; attempt++) {
      Jedis j = borrow(what);
      boolean failed = true;
      try {
        R r = op.apply(j);
        failed = false;
        return r;
      } catch (JedisConnectionException e) {
        if (retryOnce && attempt == 0) {
          log.debug("{} at {}: connection failed, retrying once", what, config.address(), e);
          dropIdleConnections();
          continue;
        }
        throw Failures.map(what + " at " + config.address(), e);
      } catch (JedisException e) {
        throw Failures.map(what + " at " + config.address(), e);
      } finally {
        release(j, watches && failed);
      }
    }
  }

  /** After a connection failed, the idle ones probably died with it (a server restart). */
  private void dropIdleConnections() {
    try {
      pool.clear();
    } catch (RuntimeException e) {
      log.debug("Clearing idle Redis connections failed", e);
    }
  }

  /**
   * Gives a connection back to the pool; a broken one is dropped (Jedis marks it on any I/O error).
   * Never throws: dropping a connection to a dead server can fail, and must not hide the
   * operation's own outcome.
   *
   * @param dirty the connection may be inside MULTI or hold a WATCH: close it instead of reusing
   */
  private static void release(Jedis j, boolean dirty) {
    try {
      if (dirty) {
        j.disconnect();
      }
      j.close();
    } catch (RuntimeException e) {
      log.debug("Dropping a Redis connection failed", e);
    }
  }

  private static String[] fields(List<Partition> ps) {
    String[] fields = new String[ps.size()];
    for (int i = 0; i < fields.length; i++) {
      fields[i] = Keys.field(ps.get(i));
    }
    return fields;
  }

  private String[] offsetKeys(String group, List<Partition> ps) {
    String[] out = new String[ps.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = keys.offset(group, ps.get(i));
    }
    return out;
  }

  private static Map<Partition, Long> toMap(
      List<Partition> ps, String[] offsetKeys, List<String> values) {
    Map<Partition, Long> out = new LinkedHashMap<>();
    for (int i = 0; i < ps.size(); i++) {
      String v = values.get(i);
      if (v != null) {
        out.put(ps.get(i), Keys.position(offsetKeys[i], v));
      }
    }
    return out;
  }

  /**
   * EXEC of an administrative transaction that WATCHes nothing, so a nil reply cannot happen; a
   * run-time error of one of its commands (a position key or the index of another type, written by
   * someone else) is thrown: Jedis would otherwise leave it in a {@code Response}.
   */
  private static List<Object> execOrFail(Transaction tx) {
    List<Object> reply = tx.exec();
    if (reply == null) {
      throw new JedisDataException("EXEC returned nil without WATCH");
    }
    for (Object o : reply) {
      if (o instanceof JedisDataException e) {
        throw e;
      }
    }
    return reply;
  }

  private String describe(String group, List<OffsetRange> ranges) {
    return "Commit of group '"
        + group
        + "' ("
        + ranges.size()
        + (ranges.size() == 1 ? " range: " + ranges.get(0) : " ranges")
        + ")";
  }
}
