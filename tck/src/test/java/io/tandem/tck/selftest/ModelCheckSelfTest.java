package io.tandem.tck.selftest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.tck.model.ModelCheck;
import java.lang.reflect.Constructor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The model check on its own: correct stores pass, sequentially and with concurrent actors, and
 * every broken store whose flaw shows in valid calls fails with a short, replayable counterexample.
 * Seeds are fixed so the runs are the same each time (the interleaving of concurrent actors is
 * not). Not caught, by design: flaws that need invalid arguments ({@code SkipsArgumentChecks}),
 * batches beyond the declared limit ({@code IgnoresDeclaredLimit}), counting writer runs ({@code
 * RerunsWriterIntoSameTransaction}), or a race window held open ({@code ChecksThenWritesUnlocked},
 * caught now and then); the kit's V, S, X and R rules cover those.
 */
class ModelCheckSelfTest {

  private static final Pattern SEED =
      Pattern.compile("seed (-?[0-9]+) \\(replay: -Dtandem.model.seed=");
  private static final Pattern SHRUNK = Pattern.compile("shrunk from [0-9]+ to ([0-9]+) operation");

  @ParameterizedTest
  @ValueSource(strings = {"TransactionalReference", "IdempotentReference", "PerPartitionReference"})
  void correctStoresPassSequentialAndConcurrentHistories(String kit) throws Exception {
    Kits.MemoryKit k = kit(kit);
    ModelCheck.Summary one = check(k, 1).runs(10).run();
    assertThat(one.operations()).isEqualTo(10 * 30);
    ModelCheck.Summary three = check(k, 3).runs(5).run();
    assertThat(three.operations()).isEqualTo(5 * 3 * 20);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "WritesOutsideTransaction",
        "IgnoresFrom",
        "ReportsFirstConflictOnly",
        "NotAtomicAcrossPartitions",
        "ForgetsOnClose",
        "PrepareRecreates",
        "StoresPositionsAsDouble",
        "CaseInsensitiveNames",
        "InitializeOverwrites",
        "ReadsMissingAsZero",
        "MovesOffsetsWhenWriterFails",
        "WrapsWriterFailureTwice",
        "TrimsNames",
        "ShortPartitionNumbers"
      })
  void brokenStoresFailWithAShrunkReplayableCounterexample(String kit) throws Exception {
    Kits.MemoryKit k = kit(kit);
    for (int actors : new int[] {1, 3}) {
      String message = failure(check(k, actors));
      assertThat(message).contains("model check failed: ").contains("what each call answered");
      Matcher shrunk = SHRUNK.matcher(message);
      assertThat(shrunk.find()).as(message).isTrue();
      if (actors == 1) {
        assertThat(Integer.parseInt(shrunk.group(1))).as(message).isLessThanOrEqualTo(6);
        // The seed named replays the failure.
        Matcher seed = SEED.matcher(message);
        assertThat(seed.find()).as(message).isTrue();
        failure(check(k, 1).seed(Long.parseLong(seed.group(1))).runs(1));
      }
    }
  }

  @Test
  void badSettingsAreRefusedWithTheirName() {
    Kits.MemoryKit k = kit("TransactionalReference");
    assertThatThrownBy(() -> ModelCheck.of(k::newStore, k.probe()).actors(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("actors must be 1..16, got actors=0");
    assertThatThrownBy(() -> ModelCheck.of(k::newStore, k.probe()).runs(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("runs must be >= 1");
  }

  private static ModelCheck<io.tandem.tck.memory.MemoryTransaction> check(
      Kits.MemoryKit k, int actors) {
    return ModelCheck.of(k::newStore, k.probe())
        .actors(actors)
        .runs(actors == 1 ? 8 : 4)
        .operations(actors == 1 ? 30 : 20)
        .seed(20_261_203L)
        .timeouts(20_000, 10_000);
  }

  private static String failure(ModelCheck<?> check) throws Exception {
    try {
      check.run();
    } catch (AssertionError e) {
      return e.getMessage();
    }
    throw new AssertionError("the model check passed a broken store");
  }

  private static Kits.MemoryKit kit(String name) {
    try {
      Class<?> c = Class.forName("io.tandem.tck.selftest.Kits$" + name);
      Constructor<?> k = c.getDeclaredConstructor();
      k.setAccessible(true);
      return (Kits.MemoryKit) k.newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }
}
