package io.tandem.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.BatchTooLargeException;
import io.tandem.spi.InvalidBatchException;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.testing.FreePorts;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;

/**
 * The Redis mechanism, beyond the contract {@code RedisTckIT} checks: the key layout, WATCH and a
 * nil EXEC, errors queued or raised inside EXEC, the handle's guards, members of one group never
 * aborting each other, the group index, options, the provider and the sinks.
 */
class RedisOffsetStoreIT {

  private static RedisOffsetStore store;
  private static Jedis jedis;

  @BeforeAll
  static void open() {
    store = Redis.open();
    jedis = Redis.jedis();
  }

  @AfterAll
  static void close() {
    store.close();
    jedis.close();
  }

  private static Partition p(String topic, int n) {
    return Partition.of(topic, n);
  }

  private static OffsetRange r(Partition p, long from, long until) {
    return new OffsetRange(p, from, until);
  }

  @Test
  void commitWritesResultsAndPositionsTogether() {
    String group = Redis.unique("g");
    String topic = Redis.unique("t");
    String results = Redis.unique("res");
    store.initialize(group, Map.of(p(topic, 0), 0L, p(topic, 1), 5L));

    store.commit(
        group,
        List.of(r(p(topic, 0), 0, 3), r(p(topic, 1), 5, 9)),
        tx -> tx.commands().hset(results, Map.of("a", "1", "b", "2")));

    assertThat(store.positions(group))
        .containsOnly(Map.entry(p(topic, 0), 3L), Map.entry(p(topic, 1), 9L));
    assertThat(jedis.hgetAll(results)).containsOnly(Map.entry("a", "1"), Map.entry("b", "2"));
    // The layout: one string key per partition, and the group's index set.
    assertThat(jedis.get("tandem:{" + group + "}:offset:" + topic + ":0")).isEqualTo("3");
    assertThat(jedis.get("tandem:{" + group + "}:offset:" + topic + ":1")).isEqualTo("9");
    assertThat(jedis.smembers("tandem:{" + group + "}:partitions"))
        .containsExactlyInAnyOrder(topic + ":0", topic + ":1");
  }

  @Test
  void concurrentChangeOfTheSamePartitionMakesExecNilAndIsAConflict() {
    String group = Redis.unique("g");
    String results = Redis.unique("res");
    Partition a = p("t", 0);
    store.initialize(group, Map.of(a, 0L));
    AtomicInteger runs = new AtomicInteger();

    // The writer runs between WATCH/compare and EXEC: another client moves the partition then.
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(r(a, 0, 5)),
                    tx -> {
                      runs.incrementAndGet();
                      try (Jedis other = Redis.jedis()) {
                        other.set("tandem:{" + group + "}:offset:t:0", "3");
                      }
                      tx.commands().set(results, "written");
                    }))
        .isInstanceOfSatisfying(
            OffsetConflictException.class,
            e -> assertThat(e.conflicts()).containsExactly(Conflict.of(a, 0, 3)));

    assertThat(runs).hasValue(1);
    assertThat(jedis.exists(results)).isFalse();
    assertThat(store.positions(group)).containsOnly(Map.entry(a, 3L));
  }

  @Test
  void concurrentCommitOfAnotherPartitionOfTheGroupDoesNotAbortTheCommit() {
    String group = Redis.unique("g");
    String counter = Redis.unique("count");
    Partition mine = p("t", 0);
    Partition other = p("t", 1);
    store.initialize(group, Map.of(mine, 0L, other, 0L));
    AtomicInteger runs = new AtomicInteger();
    long retriesBefore = store.watchRetries();

    store.commit(
        group,
        List.of(r(mine, 0, 5)),
        tx -> {
          if (runs.incrementAndGet() == 1) {
            // A disjoint commit lands between WATCH and EXEC: it writes another key, so this
            // EXEC goes through on the first try.
            store.commit(group, List.of(r(other, 0, 2)), ResultWriter.none());
          }
          tx.commands().incrBy(counter, 5);
        });

    assertThat(runs).hasValue(1);
    assertThat(store.watchRetries()).isEqualTo(retriesBefore);
    assertThat(jedis.get(counter)).isEqualTo("5");
    assertThat(store.positions(group)).containsOnly(Map.entry(mine, 5L), Map.entry(other, 2L));
  }

  @Test
  void positionRewrittenWithItsOwnValueMakesExecNilAndRetriesTheCommit() {
    String group = Redis.unique("g");
    String counter = Redis.unique("count");
    Partition mine = p("t", 0);
    store.initialize(group, Map.of(mine, 7L));
    AtomicInteger runs = new AtomicInteger();
    long retriesBefore = store.watchRetries();

    store.commit(
        group,
        List.of(r(mine, 7, 9)),
        tx -> {
          if (runs.incrementAndGet() == 1) {
            // Verified on the server: a SET of the same value still touches the WATCHed key, so
            // EXEC is nil; the re-read finds the range's from, so this is no conflict.
            store.overwrite(group, Map.of(mine, 7L));
          }
          tx.commands().incrBy(counter, 1);
        });

    assertThat(runs).hasValue(2);
    assertThat(store.watchRetries()).isEqualTo(retriesBefore + 1);
    assertThat(jedis.get(counter)).isEqualTo("1");
    assertThat(store.positions(group)).containsOnly(Map.entry(mine, 9L));
  }

  @Test
  void commandRejectedWhenQueuedAbortsTheWholeExec() {
    String group = Redis.unique("g");
    String results = Redis.unique("res");
    Partition a = p("t", 0);
    store.initialize(group, Map.of(a, 0L));

    // INCR without a key: the server rejects it when queued, and EXEC answers EXECABORT.
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(r(a, 0, 5)),
                    tx -> {
                      tx.commands().set(results, "x");
                      tx.sendCommand(Protocol.Command.INCR, new String[0]);
                    }))
        .isInstanceOf(ResultWriteException.class)
        .hasMessageContaining("EXECABORT")
        .hasMessageContaining("wrong number of arguments")
        .hasMessageContaining("Nothing was committed");

    assertThat(jedis.exists(results)).isFalse();
    assertThat(store.positions(group)).containsOnly(Map.entry(a, 0L));
  }

  @Test
  void runTimeErrorInsideExecIsReportedButRedisHasAppliedTheRest() {
    String group = Redis.unique("g");
    String string = Redis.unique("str");
    String results = Redis.unique("res");
    Partition a = p("t", 0);
    store.initialize(group, Map.of(a, 0L));
    jedis.set(string, "not a hash");

    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(r(a, 0, 5)),
                    tx -> {
                      tx.commands().set(results, "ok");
                      tx.commands().hset(string, "f", "v");
                    }))
        .isInstanceOfSatisfying(
            RedisExecErrorException.class,
            e ->
                assertThat(e.errors())
                    .singleElement()
                    .asString()
                    .startsWith("command #1: WRONGTYPE"))
        .hasMessageContaining("was applied");

    // Verified server behaviour: no rollback. The other command and the positions took effect.
    assertThat(jedis.get(results)).isEqualTo("ok");
    assertThat(jedis.get(string)).isEqualTo("not a hash");
    assertThat(store.positions(group)).containsOnly(Map.entry(a, 5L));
  }

  @Test
  void handleIsUnusableAfterTheWriterReturns() {
    String group = Redis.unique("g");
    Partition a = p("t", 0);
    store.initialize(group, Map.of(a, 0L));
    AtomicReference<RedisTransaction> kept = new AtomicReference<>();

    store.commit(group, List.of(r(a, 0, 1)), kept::set);

    assertThatThrownBy(() -> kept.get().commands()).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void writerCannotEndTheTransaction() {
    String group = Redis.unique("g");
    Partition a = p("t", 0);
    store.initialize(group, Map.of(a, 0L));

    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(r(a, 0, 1)),
                    tx -> tx.sendCommand(Protocol.Command.EXEC, new String[0])))
        .isInstanceOf(ResultWriteException.class)
        .hasRootCauseInstanceOf(IllegalArgumentException.class);
    assertThat(tx(group)).containsOnly(Map.entry(a, 0L));
  }

  private static Map<Partition, Long> tx(String group) {
    return store.positions(group);
  }

  @Test
  void twoConsumersOfDisjointPartitionsNeverAbortEachOther() throws Exception {
    String group = Redis.unique("g");
    String counter = Redis.unique("count");
    int commits = 300;
    Partition[] owned = {p("t", 0), p("t", 1)};
    store.initialize(group, Map.of(owned[0], 0L, owned[1], 0L));
    // Both writers wait for each other on every commit's first run, so both commits are between
    // WATCH and EXEC at once each time. With all positions in one hash per group (the layout
    // before this one) one EXEC of nearly every pair was nil and ran again: 451 writer runs for
    // 300 commits, and this test failed.
    CyclicBarrier bothInside = new CyclicBarrier(2);
    RedisOffsetStore[] consumers = {Redis.open(), Redis.open()};
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Integer>> runs = new ArrayList<>();
      for (int c = 0; c < 2; c++) {
        RedisOffsetStore consumer = consumers[c];
        Partition mine = owned[c];
        runs.add(
            pool.submit(
                () -> {
                  int writerRuns = 0;
                  for (int k = 0; k < commits; k++) {
                    AtomicInteger thisCommit = new AtomicInteger();
                    consumer.commit(
                        group,
                        List.of(r(mine, k, k + 1)),
                        tx -> {
                          if (thisCommit.incrementAndGet() == 1) {
                            bothInside.await(30, TimeUnit.SECONDS);
                          }
                          tx.commands().incrBy(counter, 1);
                        });
                    writerRuns += thisCommit.get();
                  }
                  return writerRuns;
                }));
      }
      for (Future<Integer> f : runs) {
        assertThat(f.get(120, TimeUnit.SECONDS)).isEqualTo(commits);
      }
      assertThat(consumers[0].watchRetries() + consumers[1].watchRetries()).isZero();
      assertThat(jedis.get(counter)).isEqualTo(String.valueOf(2 * commits));
      assertThat(store.positions(group))
          .containsOnly(Map.entry(owned[0], (long) commits), Map.entry(owned[1], (long) commits));
    } finally {
      pool.shutdownNow();
      consumers[0].close();
      consumers[1].close();
    }
  }

  @Test
  void twoConsumersRacingForTheSamePartitionWinEachRangeOnce() throws Exception {
    String group = Redis.unique("g");
    String counter = Redis.unique("count");
    int ranges = 200;
    Partition a = p("t", 0);
    store.initialize(group, Map.of(a, 0L));
    CyclicBarrier round = new CyclicBarrier(2);
    RedisOffsetStore[] consumers = {Redis.open(), Redis.open()};
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<boolean[]>> outcomes = new ArrayList<>();
      for (int c = 0; c < 2; c++) {
        RedisOffsetStore consumer = consumers[c];
        outcomes.add(
            pool.submit(
                () -> {
                  boolean[] won = new boolean[ranges];
                  for (int k = 0; k < ranges; k++) {
                    round.await(30, TimeUnit.SECONDS);
                    try {
                      consumer.commit(
                          group, List.of(r(a, k, k + 1)), tx -> tx.commands().incrBy(counter, 1));
                      won[k] = true;
                    } catch (OffsetConflictException e) {
                      // The other consumer committed this range first: it moved the position.
                      assertThat(e.conflicts()).containsExactly(Conflict.of(a, k, k + 1));
                    }
                  }
                  return won;
                }));
      }
      boolean[] first = outcomes.get(0).get(120, TimeUnit.SECONDS);
      boolean[] second = outcomes.get(1).get(120, TimeUnit.SECONDS);
      for (int k = 0; k < ranges; k++) {
        assertThat(first[k] ^ second[k]).as("exactly one winner of range %d", k).isTrue();
      }
      assertThat(jedis.get(counter)).isEqualTo(String.valueOf(ranges));
      assertThat(store.positions(group)).containsOnly(Map.entry(a, (long) ranges));
    } finally {
      pool.shutdownNow();
      consumers[0].close();
      consumers[1].close();
    }
  }

  @Test
  void positionsOfAGroupAreReadThroughItsIndex() {
    String group = Redis.unique("g");
    Partition a = p("t", 0);
    Partition b = p("u", 5);
    store.initialize(group, Map.of(a, 1L, b, 2L));
    assertThat(jedis.smembers("tandem:{" + group + "}:partitions"))
        .containsExactlyInAnyOrder("t:0", "u:5");

    // initialize keeps an existing key and leaves the index as it was for it.
    store.initialize(group, Map.of(a, 9L));
    assertThat(store.positions(group)).containsOnly(Map.entry(a, 1L), Map.entry(b, 2L));

    assertThat(store.delete(group, List.of(a))).isEqualTo(1);
    assertThat(jedis.exists("tandem:{" + group + "}:offset:t:0")).isFalse();
    assertThat(jedis.smembers("tandem:{" + group + "}:partitions")).containsExactly("u:5");

    assertThat(store.delete(group)).isTrue();
    assertThat(
            jedis.exists("tandem:{" + group + "}:offset:u:5", "tandem:{" + group + "}:partitions"))
        .isZero();
    assertThat(store.groups()).doesNotContain(group);
  }

  @Test
  void tooManyRangesIsRejectedBeforeAnythingIsWritten() {
    try (RedisOffsetStore small = Redis.open(b -> b.maxRangesPerCommit(2))) {
      String group = Redis.unique("g");
      assertThat(small.capabilities().maxRangesPerCommit()).isEqualTo(2);
      assertThatThrownBy(
              () ->
                  small.commit(
                      group,
                      List.of(r(p("t", 0), 0, 1), r(p("t", 1), 0, 1), r(p("t", 2), 0, 1)),
                      ResultWriter.none()))
          .isInstanceOf(BatchTooLargeException.class);
    }
  }

  @Test
  void aGroupNameWithoutAUtf8EncodingIsRejected() {
    // Keys are UTF-8: an unpaired surrogate has no encoding and would collide with '?'.
    assertThatThrownBy(() -> store.initialize("g\uD800", Map.of(p("t", 0), 1L)))
        .isInstanceOf(InvalidBatchException.class);
  }

  @Test
  void providerOpensRedisUris() {
    try (OffsetStore<RedisTransaction> s =
        OffsetStores.open(Redis.server().uri(), Map.of("timeout", "3s"), RedisTransaction.class)) {
      assertThat(s).isInstanceOf(RedisOffsetStore.class);
      assertThat(s.handleType()).isEqualTo(RedisTransaction.class);
      String group = Redis.unique("g");
      s.initialize(group, Map.of(p("t", 0), 3L));
      assertThat(store.positions(group)).containsOnly(Map.entry(p("t", 0), 3L));
    }
  }

  @Test
  void providerRejectsMalformedUrisAndUnknownOptions() {
    assertThatThrownBy(() -> OffsetStores.open("redis://127.0.0.1:1?nope=1"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'nope'");
    assertThatThrownBy(() -> OffsetStores.open("redis://"))
        .isInstanceOf(StoreConfigurationException.class);
    assertThatThrownBy(() -> OffsetStores.open(Redis.server().uri(), Map.of("colour", "red")))
        .isInstanceOf(StoreConfigurationException.class);
  }

  @Test
  void unreachableServerIsUnavailable() {
    int nobody = FreePorts.next();
    assertThatThrownBy(
            () -> OffsetStores.open("redis://127.0.0.1:" + nobody + "?connectTimeout=500ms"))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("127.0.0.1:" + nobody);
  }

  @Test
  void databaseOutOfRangeIsAConfigurationError() {
    RedisStoreConfig c = Redis.config(Redis.server()).database(100_000).build();
    assertThatThrownBy(() -> RedisOffsetStore.open(c))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("DB index");
  }

  @Test
  void sinksQueueTheirCommandsInTheCommit() {
    record Sale(String shop, String item, long cents) {}
    String group = Redis.unique("g");
    String ns = Redis.unique("sink");
    Partition a = p("t", 0);
    store.initialize(group, Map.of(a, 0L));
    List<Sale> batch =
        List.of(new Sale("s1", "apple", 5), new Sale("s1", "pear", 7), new Sale("s2", "apple", 11));

    RedisSink<Sale> last =
        RedisSink.hashFields(
            s -> ns + ":last:" + s.shop(), Sale::item, s -> String.valueOf(s.cents()));
    RedisSink<Sale> totals = RedisSink.hashCounters(s -> ns + ":totals", Sale::shop, Sale::cents);
    RedisSink<Sale> count = RedisSink.counters(s -> ns + ":count", s -> 1);
    RedisSink<Sale> latest = RedisSink.strings(s -> ns + ":latest:" + s.item(), Sale::shop);
    store.commit(
        group,
        List.of(r(a, 0, 3)),
        tx -> {
          last.writer(batch).write(tx);
          totals.writer(batch).write(tx);
          count.writer(batch).write(tx);
          latest.writer(batch).write(tx);
        });

    assertThat(jedis.hgetAll(ns + ":last:s1"))
        .containsOnly(Map.entry("apple", "5"), Map.entry("pear", "7"));
    assertThat(jedis.hgetAll(ns + ":totals"))
        .containsOnly(Map.entry("s1", "12"), Map.entry("s2", "11"));
    assertThat(jedis.get(ns + ":count")).isEqualTo("3");
    assertThat(jedis.get(ns + ":latest:apple")).isEqualTo("s2");

    // A replayed batch after a conflict adds nothing: the counters moved exactly once.
    assertThatThrownBy(() -> store.commit(group, List.of(r(a, 0, 3)), count.writer(batch)))
        .isInstanceOf(OffsetConflictException.class);
    assertThat(jedis.get(ns + ":count")).isEqualTo("3");
  }

  @Test
  void sinkMapperReturningNullAbortsTheCommit() {
    String group = Redis.unique("g");
    String key = Redis.unique("k");
    Partition a = p("t", 0);
    store.initialize(group, Map.of(a, 0L));
    RedisSink<String> sink = RedisSink.strings(s -> s.equals("bad") ? null : key + s, s -> s);

    assertThatThrownBy(
            () -> store.commit(group, List.of(r(a, 0, 2)), sink.writer(List.of("ok", "bad"))))
        .isInstanceOf(ResultWriteException.class)
        .hasRootCauseMessage("the key mapper returned null for record bad");
    assertThat(jedis.exists(key + "ok")).isFalse();
  }
}
