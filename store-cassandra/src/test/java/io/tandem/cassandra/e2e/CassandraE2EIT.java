package io.tandem.cassandra.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tandem.cassandra.CassandraOffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.tck.e2e.E2eRecord;
import io.tandem.tck.e2e.ExactlyOnceVerification;
import io.tandem.tck.e2e.KillableStore;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.tck.e2e.internal.Fixture;
import io.tandem.tck.e2e.internal.Settings;
import io.tandem.testing.CassandraServer;
import io.tandem.testing.KafkaBroker;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.TestReporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end-to-end kit on Cassandra (IDEMPOTENT). [E2] (folds) is skipped by the kit with the reason;
 * [E1], [E3] and [E4] run with keyed results ({@link CassandraResultModel}), where a duplicate
 * cannot show as a second row. The last test, [C1], looks behind the keyed rows at the model's
 * write log: see {@link CassandraResultModel} for what it proves.
 *
 * <p>Workers open {@code cassandra://host:port/tandem_e2e?localDatacenter=...}; the keyspace
 * (replication 1, tests on one node only) and the model's tables are created once here, before any
 * worker starts.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CassandraE2EIT extends ExactlyOnceVerification {

  /** The property that runs [E7]-[E10] and [E12] here as well. */
  static final String ALL_FAULTS = "tandem.e2e.faults.cassandra";

  /**
   * CI runs the lost reply [E5] and the store kill [E6], the two faults whose outcome depends on
   * the store (a SERIAL read resolving a lost LWT reply; a node killed under load with {@code
   * commitlog_sync: batch}). The others ([E7] broker bounce, [E8] rebalance storm, [E9] aborted
   * transactions, [E10] retention, [E12] compacted input) exercise the runtime and the broker the
   * same way on every store, run in CI on PostgreSQL, Redis, ZooKeeper and MongoDB, and here with
   * {@code -Dtandem.e2e.faults.cassandra=true}: all of them took 998 s on this 2-core machine (each
   * commit a Paxos round, each worker start waiting for the driver), beyond CI's fault budget.
   */
  @Override
  protected String storeIndependentFaultsSkippedReason() {
    return Boolean.getBoolean(ALL_FAULTS)
        ? null
        : "broker, group and input faults run in CI on the other stores (the same runtime path);"
            + " on Cassandra with -D"
            + ALL_FAULTS
            + "=true (~15 min here)";
  }

  private static final Logger log = LoggerFactory.getLogger(CassandraE2EIT.class);
  private static final String KEYSPACE = "tandem_e2e";

  static {
    // [C1] regenerates the kit's input from its seed: pin a random one (logged by the kit) unless
    // the user gave it, so that this class and the kit read the same.
    if (System.getProperty("tandem.e2e.seed") == null) {
      System.setProperty(
          "tandem.e2e.seed", Long.toString(ThreadLocalRandom.current().nextLong() >>> 1));
    }
  }

  @BeforeAll
  void createSchema() {
    try (CassandraOffsetStore store =
        (CassandraOffsetStore)
            OffsetStores.open(storeUri() + "&createSchema=SimpleStrategy:1", storeProperties())) {
      CassandraResultModel.createTables(store.session(), KEYSPACE);
    }
  }

  @Override
  protected String bootstrapServers() {
    return KafkaBroker.shared().bootstrapServers();
  }

  /**
   * [E6]: a private Cassandra with {@code commitlog_sync: batch} (the store's durable setting: a
   * write is acknowledged after its commit log is synced), killed with SIGKILL and restarted.
   */
  @Override
  protected KillableStore killableStore() {
    Map<String, String> settings = new HashMap<>();
    settings.put("commitlog_sync", "batch");
    settings.put("commitlog_sync_period", null); // a period is not allowed with batch
    CassandraServer server = CassandraServer.startPrivate(settings);
    String uri = uriOf(server);
    try (CassandraOffsetStore store =
        (CassandraOffsetStore)
            OffsetStores.open(uri + "&createSchema=SimpleStrategy:1", Map.of())) {
      CassandraResultModel.createTables(store.session(), KEYSPACE);
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    return new KillableStore() {
      @Override
      public String uri() {
        return uri;
      }

      @Override
      public void kill() {
        server.kill();
      }

      @Override
      public void restart() {
        server.start();
      }

      @Override
      public String description() {
        return "private Cassandra " + server + ", commitlog_sync batch";
      }

      @Override
      public void close() {
        server.close();
      }
    };
  }

  @Override
  protected String storeUri() {
    return uriOf(CassandraServer.shared());
  }

  private static String uriOf(CassandraServer server) {
    String hosts =
        server.contactPoints().stream()
            .map(p -> p.getHostString() + ":" + p.getPort())
            .collect(Collectors.joining(","));
    return "cassandra://" + hosts + "/" + KEYSPACE + "?localDatacenter=" + server.localDatacenter();
  }

  @Override
  protected Class<? extends ResultModel<?>> resultModel() {
    return CassandraResultModel.class;
  }

  @Override
  protected Map<String, String> consumerProperties() {
    String env = System.getenv(KafkaBroker.ENV);
    if (env != null && !env.isBlank()) {
      return super.consumerProperties(); // a user's cluster: the kit's defaults hold anywhere
    }
    // The embedded broker allows short sessions: killed members' partitions move after 2 s.
    return Map.of("session.timeout.ms", "2000", "heartbeat.interval.ms", "500");
  }

  /**
   * [C1] Behind the keyed rows: in every run the kit read back, each result row is its input
   * record's own, was written by a worker, and every write of a record wrote the same values.
   * Publishes how many records were written more than once (absorbed replays).
   *
   * @param reporter JUnit's reporter
   */
  @Test
  @Order(Integer.MAX_VALUE)
  @DisplayName("[C1] idempotent results: ids map 1:1 to inputs, every replay wrote the same values")
  void resultsMapOneToOneAndReplaysAreTrueOverwrites(TestReporter reporter) {
    Map<String, CassandraResultModel.Detail> runs = new HashMap<>(CassandraResultModel.READ);
    // The fault runs ([E5]-[E10]) have inputs of their own, checked by the kit.
    runs.keySet().removeAll(faultRuns());
    assertFalse(runs.isEmpty(), "no kit run read its results back before [C1] (run the class)");
    Settings s = Settings.fromSystemProperties();
    List<E2eRecord> chaosInput = Fixture.generate(s.records(), s.keys(), new Random(s.seed()));
    // The zombie runs' input, as ExactlyOnceVerification generates it.
    List<E2eRecord> zombieInput = Fixture.generate(s.zombieRecords(), 10, new Random(s.seed()));
    for (Map.Entry<String, CassandraResultModel.Detail> run : runs.entrySet()) {
      CassandraResultModel.Detail d = run.getValue();
      List<E2eRecord> input =
          d.results().size() == chaosInput.size()
              ? chaosInput
              : d.results().size() == zombieInput.size() ? zombieInput : null;
      if (input == null) {
        fail(
            "run "
                + run.getKey()
                + ": "
                + d.results().size()
                + " result rows, expected "
                + chaosInput.size()
                + " or "
                + zombieInput.size());
      }
      List<String> wrong = new ArrayList<>();
      List<String> unwritten = new ArrayList<>();
      List<String> diverging = new ArrayList<>();
      Map<Integer, Integer> attemptsHistogram = new HashMap<>();
      long rewritten = 0;
      for (E2eRecord r : input) {
        E2eRecord stored = d.results().get(r.id());
        if (!r.equals(stored)) {
          wrong.add(r + " stored as " + stored);
        }
        List<E2eRecord> writes = d.writes().getOrDefault(r.id(), List.of());
        if (writes.isEmpty()) {
          unwritten.add(r.id());
        }
        if (writes.stream().anyMatch(w -> !w.equals(r))) {
          diverging.add(r + " written as " + writes);
        }
        attemptsHistogram.merge(writes.size(), 1, Integer::sum);
        if (writes.size() > 1) {
          rewritten++;
        }
      }
      String summary =
          String.format(
              "run=%s records=%d result rows=%d rewritten (replays absorbed)=%d"
                  + " writes per record=%s wrong=%d unwritten=%d diverging=%d",
              run.getKey(),
              input.size(),
              d.results().size(),
              rewritten,
              new java.util.TreeMap<>(attemptsHistogram),
              wrong.size(),
              unwritten.size(),
              diverging.size());
      log.info("[tandem-e2e] CassandraE2EIT [C1] {}", summary);
      reporter.publishEntry("tandem.e2e.cassandra", summary);
      assertEquals(input.size(), d.results().size(), "result rows against inputs: " + summary);
      assertTrue(
          d.notByStore().isEmpty(),
          "result rows last written by the pre-write, not the store: " + sample(d.notByStore()));
      assertTrue(wrong.isEmpty(), "results not matching their input: " + sample(wrong));
      assertTrue(unwritten.isEmpty(), "result rows no worker wrote: " + sample(unwritten));
      assertTrue(diverging.isEmpty(), "replays that wrote other values: " + sample(diverging));
      assertTrue(
          d.writes().keySet().stream().allMatch(d.results()::containsKey),
          "writes logged for ids without a result row");
    }
  }

  private static List<String> sample(List<String> all) {
    return all.subList(0, Math.min(10, all.size()));
  }
}
