package io.tandem.mongo;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tandem.spi.OffsetStore;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import io.tandem.testing.MongoServer;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The TCK on the best MongoDB with transactions available ({@link MongoServer#best()}): a real
 * server from TANDEM_MONGODB_URI, a Testcontainers replica set, or the jongodb replica-set
 * emulator; the store runs TRANSACTIONAL there. Skipped, with the reason, when none can run.
 */
@ExtendWith(MongoReplicaSetTckIT.EmulatorLimits.class)
class MongoReplicaSetTckIT extends OffsetStoreVerification<MongoResults> {

  private static final String DATABASE = "tandem_tck";
  private static MongoResultProbe probe;
  private static final AtomicInteger TESTS = new AtomicInteger();
  private static volatile String collection = "offsets_0";

  /**
   * A fresh offsets collection per test. The jongodb emulator copies a collection for every
   * transaction on it (measured: 2 ms per transaction on a small collection, about 10 s at 30 MB),
   * so one collection shared by the whole kit, whose scale rules leave MB-sized groups behind,
   * would make every later commit slow.
   */
  @RegisterExtension
  static final BeforeEachCallback FRESH_COLLECTION =
      context -> collection = "offsets_" + TESTS.incrementAndGet();

  /**
   * Skips, on the jongodb emulator only, the concurrency rules (and M2, the model check with
   * concurrent actors) whose racing commits update one group document in concurrent transactions:
   * jongodb lets both commit (JongodbFactsIT), where MongoDB fails the second with a WriteConflict.
   * They run against a real MongoDB.
   */
  static final class EmulatorLimits implements ExecutionCondition {
    private static final Set<String> RACES =
        Set.of("[X1]", "[X2]", "[X3]", "[X4]", "[X6]", "[X7]", "[M2]");

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      String name = context.getDisplayName();
      boolean race = name.length() >= 4 && RACES.contains(name.substring(0, name.indexOf(']') + 1));
      if (race && MongoServer.best().map(s -> s.kind() == MongoServer.Kind.JONGODB).orElse(false)) {
        return ConditionEvaluationResult.disabled(JongodbFactsIT.NO_WRITE_CONFLICTS);
      }
      return ConditionEvaluationResult.enabled("not a race rule on the jongodb emulator");
    }
  }

  @BeforeAll
  static void serverWithTransactions() {
    assumeTrue(MongoServer.best().isPresent(), MongoServer::bestUnavailableReason);
  }

  /** The layout under test: the default; a subclass runs the kit on the other. */
  MongoLayout layout() {
    return MongoLayout.GROUP;
  }

  @Override
  protected OffsetStore<MongoResults> newStore() {
    return MongoOffsetStore.open(
        MongoStoreConfig.builder()
            .connectionString(MongoServer.best().orElseThrow().uri())
            .database(DATABASE)
            .collection(collection)
            .layout(layout())
            .build());
  }

  @Override
  protected OffsetStore<MongoResults> newStoreWithRefusedCredentials() {
    org.junit.jupiter.api.Assumptions.abort(
        "not run on the jongodb emulator, whose authentication is not verified here; the in-process"
            + " TCK's F1 and MongoCredentialsIT cover the driver's refusal");
    throw new AssertionError("unreachable");
  }

  @Override
  protected synchronized ResultProbe<MongoResults> probe() {
    if (probe == null) {
      probe = new MongoResultProbe(MongoServer.best().orElseThrow().uri(), DATABASE);
    }
    return probe;
  }

  @AfterAll
  static synchronized void closeProbe() {
    if (probe != null) {
      probe.close();
      probe = null;
    }
  }
}
