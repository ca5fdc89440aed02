package io.tandem.mongo.e2e;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tandem.tck.e2e.ExactlyOnceVerification;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.tck.e2e.internal.Settings;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.MongoServer;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The end-to-end kit on the best MongoDB with transactions ({@link MongoServer#best()}), where the
 * store is TRANSACTIONAL: a real server from TANDEM_MONGODB_URI, a Testcontainers replica set, or
 * the jongodb replica-set emulator. Results count occurrences ({@link MongoCountingResultModel}),
 * so a record applied twice shows. Skipped, with the reason, when no such server can run.
 */
@ExtendWith(MongoReplicaSetE2EIT.EmulatorLimits.class)
class MongoReplicaSetE2EIT extends ExactlyOnceVerification {

  /**
   * The fault rules [E5]-[E11]. On jongodb they run in CI, where only [E10] (retention, one
   * consumer) can: [E5] and [E6] skip for their own reasons (no proxy before a replica set, no
   * process to kill), [E7]-[E9], [E11] and [E12] commit from several members at once and skip with
   * {@link #NO_WRITE_CONFLICTS}. On a real replica set (TANDEM_MONGODB_URI, Docker) they were not
   * yet run to completion; until they are, {@code -Dtandem.e2e.faults.unverified=true} runs them
   * there.
   */
  @Override
  protected String faultRulesSkippedReason() {
    return onJongodb() || Boolean.getBoolean("tandem.e2e.faults.unverified")
        ? null
        : "fault runs on a real MongoDB replica set not yet verified; run them with"
            + " -Dtandem.e2e.faults.unverified=true";
  }

  /**
   * Why the hard-kill rules do not run on jongodb. Measured there (JongodbFactsIT): two
   * transactions updating one document both commit and the last one wins, where MongoDB fails the
   * second with a WriteConflict. In the hard-kill run several members commit concurrently, every
   * commit updates the group's one offsets document and the shared per-key totals, so on jongodb a
   * member's committed position or increment can be overwritten by another's: the duplicates or
   * wrong totals that follow would be the emulator's, and a pass would prove nothing about
   * conflicts.
   */
  static final String NO_WRITE_CONFLICTS =
      "jongodb 0.1.6 has no write conflicts between transactions (two transactions updating one"
          + " document both commit, the last one wins: JongodbFactsIT). The hard-kill run commits"
          + " from several members at once on the group's one offsets document and the shared"
          + " totals, which MongoDB serialises with WriteConflict; on jongodb the outcome would be"
          + " the emulator's. Runs against a real MongoDB (TANDEM_MONGODB_URI or Docker).";

  /**
   * Skips the rules where several members commit at once ([E1], [E2] and the fault runs) on the
   * jongodb emulator only; everything runs on a real MongoDB.
   */
  static final class EmulatorLimits implements ExecutionCondition {
    private static final Set<String> CONCURRENT_COMMITS =
        Set.of("[E1]", "[E2]", "[E5]", "[E6]", "[E7]", "[E8]", "[E9]", "[E11]", "[E12]");

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      String name = context.getDisplayName();
      int close = name.indexOf(']');
      boolean concurrent =
          name.startsWith("[")
              && close > 0
              && CONCURRENT_COMMITS.contains(name.substring(0, close + 1));
      if (concurrent
          && MongoServer.best().map(s -> s.kind() == MongoServer.Kind.JONGODB).orElse(false)) {
        return ConditionEvaluationResult.disabled(NO_WRITE_CONFLICTS);
      }
      return ConditionEvaluationResult.enabled("not a concurrent-commit rule on jongodb");
    }
  }

  /**
   * The zombie runs' size on jongodb: 500 records instead of 2000, unless {@code
   * tandem.e2e.zombie.records} is given. Measured on jongodb 0.1.6 here (one transaction of N
   * upserts by {@code _id} into a collection of M documents): 100 upserts took 0.3 s at M=100, 0.8
   * s at 600, 3.5 s at 1200; 400 upserts took 22 s at M=1200. Each upsert costs time in proportion
   * to the collection's size, so a drain of R records costs about R²: the two zombie rules took 311
   * s + 269 s in CI with 2000, nearly all of it the new owner draining records 300-2000 after the
   * rule's point was made. With 500 every step stays (two batches committed, the third held by the
   * zombie, the owner committing from the same position, its re-seek after the conflict, the drain
   * to the log end checked for losses, duplicates and exact folds); only that tail is shorter. A
   * real MongoDB keeps the kit's default.
   */
  @Override
  protected int zombieRecords() {
    return onJongodb() && !Settings.zombieRecordsGiven() ? 500 : super.zombieRecords();
  }

  private static boolean onJongodb() {
    return MongoServer.best().map(s -> s.kind() == MongoServer.Kind.JONGODB).orElse(false);
  }

  @BeforeAll
  static void serverWithTransactions() {
    assumeTrue(MongoServer.best().isPresent(), MongoServer::bestUnavailableReason);
  }

  @Override
  protected Optional<String> storeEndpoint() {
    // A replica-set client connects to the members the server lists, not to the address it was
    // given: a proxy in front of that address would not see the commits.
    return Optional.empty();
  }

  @Override
  protected String lostReplyUnsupportedReason() {
    return "a replica-set client discovers its members from the server and bypasses a proxy";
  }

  @Override
  protected String storeKillUnsupportedReason() {
    return "no MongoDB process this test may kill and restart on the same data (jongodb keeps its"
        + " data in memory; a real server comes from TANDEM_MONGODB_URI or Docker)";
  }

  @Override
  protected String bootstrapServers() {
    return KafkaBroker.shared().bootstrapServers();
  }

  @Override
  protected String storeUri() {
    // Refuse a standalone server outright: this run is meant to exercise transactions.
    String uri = MongoE2eSettings.onDatabase(MongoServer.best().orElseThrow().uri());
    return uri + (uri.contains("?") ? "&" : "?") + "requireTransactions=true";
  }

  @Override
  protected Class<? extends ResultModel<?>> resultModel() {
    return MongoCountingResultModel.class;
  }

  @Override
  protected Map<String, String> consumerProperties() {
    return MongoE2eSettings.consumerProperties(super.consumerProperties());
  }
}
