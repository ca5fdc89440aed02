package io.tandem.tck.model;

import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetStore;
import io.tandem.tck.ResultProbe;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model-based check of an {@link OffsetStore}: seeded random sequences of {@code initialize},
 * {@code commit} (with conflicting, gapped, empty and failing-writer ranges), {@code overwrite},
 * {@code delete}, reads, {@code prepare} and reopening, run by one or several concurrent actors,
 * and every outcome judged against a model of the {@code OffsetStore} contract. A failing sequence
 * is shrunk (delta debugging: whole actors, then ever smaller runs of operations, are dropped while
 * it still fails) and reported with what each call answered and the seed that replays it.
 *
 * <p>With one actor the model is exact: every answer must be the one the contract gives. With
 * several, each actor's own partitions are judged exactly, and the partitions they share (only
 * initialized, committed and read) are judged by what holds under any interleaving: initialize
 * returns the first position stored, positions never go back in real time, each conflict reports
 * the range's {@code from} and a position that stood, and the successful commits form one chain
 * from the initialized position to the final one (of two commits from one position, at most one
 * wins). Results written through the {@link ResultProbe} must stand for every successful commit
 * and, on TRANSACTIONAL stores, for no failed one.
 *
 * <p>Sizes come from system properties unless set here: {@code tandem.model.runs} (runs per check),
 * {@code tandem.model.ops} (operations per actor) and {@code tandem.model.seed} (the first run's
 * seed; run {@code i} uses {@code seed + i}). A failure names its run's seed: {@code
 * -Dtandem.model.seed=<seed> -Dtandem.model.runs=1} replays it.
 *
 * <pre>{@code
 * ModelCheck.of(() -> AcmeOffsetStore.open(DATA), new AcmeResultProbe(DATA))
 *     .actors(3)
 *     .run();
 * }</pre>
 *
 * @param <T> the store's unit-of-work handle type
 * @since 0.1
 */
public final class ModelCheck<T> {

  private static final Logger log = LoggerFactory.getLogger(ModelCheck.class);

  /** System property: runs per check. */
  public static final String RUNS_PROPERTY = "tandem.model.runs";

  /** System property: operations per actor. */
  public static final String OPERATIONS_PROPERTY = "tandem.model.ops";

  /** System property: the first run's seed. */
  public static final String SEED_PROPERTY = "tandem.model.seed";

  private static final AtomicLong SEQUENCE = new AtomicLong();
  private static final String RUN_ID =
      Long.toString(Math.abs(new Random().nextLong() % 1_000_000_000L), 36);

  /** Opens a store on the backend under test; every store opened sees the same data. */
  @FunctionalInterface
  public interface StoreFactory<T> {
    /**
     * A new, open store.
     *
     * @return the store; the check closes it
     * @throws Exception if it cannot be opened; the check fails with it
     */
    OffsetStore<T> open() throws Exception;
  }

  /**
   * What a check ran.
   *
   * @param firstSeed the first run's seed
   * @param runs the runs made
   * @param operations the operations called, over every run and actor
   */
  public record Summary(long firstSeed, int runs, int operations) {}

  private final StoreFactory<T> stores;
  private final ResultProbe<T> probe;
  private int actors = 1;
  private int runs;
  private int operations;
  private Long seed;
  private String prefix = "tck-model";
  private long timeoutMillis = 60_000;
  private long shrinkMillis = 20_000;

  private ModelCheck(StoreFactory<T> stores, ResultProbe<T> probe, int runs, int operations) {
    this.stores = Objects.requireNonNull(stores, "stores must not be null");
    this.probe = Objects.requireNonNull(probe, "probe must not be null");
    this.runs = intProperty(RUNS_PROPERTY, runs);
    this.operations = intProperty(OPERATIONS_PROPERTY, operations);
    String s = System.getProperty(SEED_PROPERTY);
    if (s != null && !s.isBlank()) {
      try {
        this.seed = Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            SEED_PROPERTY + " must be a whole number, got '" + s + "'", e);
      }
    }
  }

  /**
   * A check of the stores {@code stores} opens, writing results through {@code probe}: by default
   * one actor, 10 runs of 30 operations (or the system properties).
   *
   * @param stores opens a store on the backend under test; called once per actor and run, and again
   *     when the plan reopens
   * @param probe writes and reads keyed results through the store's handle
   * @param <T> the store's unit-of-work handle type
   * @return the check
   */
  public static <T> ModelCheck<T> of(StoreFactory<T> stores, ResultProbe<T> probe) {
    return new ModelCheck<>(stores, probe, 10, 30);
  }

  /**
   * How many actors run at once; 1 (the default) is a sequential run judged exactly.
   *
   * @param actors 1 to 16
   * @return this check
   * @throws IllegalArgumentException if out of range
   */
  public ModelCheck<T> actors(int actors) {
    if (actors < 1 || actors > 16) {
      throw new IllegalArgumentException("actors must be 1..16, got actors=" + actors);
    }
    this.actors = actors;
    return this;
  }

  /**
   * Runs per check, unless {@value #RUNS_PROPERTY} is set.
   *
   * @param runs at least 1
   * @return this check
   * @throws IllegalArgumentException if {@code runs < 1}
   */
  public ModelCheck<T> runs(int runs) {
    this.runs = intProperty(RUNS_PROPERTY, positive("runs", runs));
    return this;
  }

  /**
   * Operations per actor and run, unless {@value #OPERATIONS_PROPERTY} is set.
   *
   * @param operations at least 1
   * @return this check
   * @throws IllegalArgumentException if {@code operations < 1}
   */
  public ModelCheck<T> operations(int operations) {
    this.operations = intProperty(OPERATIONS_PROPERTY, positive("operations", operations));
    return this;
  }

  /**
   * The first run's seed, unless {@value #SEED_PROPERTY} is set; random by default.
   *
   * @param seed the seed
   * @return this check
   */
  public ModelCheck<T> seed(long seed) {
    if (System.getProperty(SEED_PROPERTY) == null) {
      this.seed = seed;
    }
    return this;
  }

  /**
   * The prefix of the group names the check uses (each run adds a unique suffix, so checks can
   * share a server and run again on one that keeps data); {@code tck-model} by default.
   *
   * @param prefix not empty
   * @return this check
   * @throws IllegalArgumentException if empty
   */
  public ModelCheck<T> groupPrefix(String prefix) {
    if (prefix == null || prefix.isEmpty()) {
      throw new IllegalArgumentException("groupPrefix must not be empty");
    }
    this.prefix = prefix;
    return this;
  }

  /**
   * How long one run may take before its actors count as hung (default 60 s), and how long
   * shrinking a failure may take (default 20 s; the smallest failing sequence found by then is
   * reported).
   *
   * @param runMillis per run, at least 1
   * @param shrinkMillis for shrinking, at least 0
   * @return this check
   * @throws IllegalArgumentException if out of range
   */
  public ModelCheck<T> timeouts(long runMillis, long shrinkMillis) {
    if (runMillis < 1 || shrinkMillis < 0) {
      throw new IllegalArgumentException(
          "timeouts must be runMillis >= 1 and shrinkMillis >= 0, got "
              + runMillis
              + ", "
              + shrinkMillis);
    }
    this.timeoutMillis = runMillis;
    this.shrinkMillis = shrinkMillis;
    return this;
  }

  /**
   * Runs the check.
   *
   * @return what ran
   * @throws AssertionError on the first run whose outcomes the model does not allow: the violation,
   *     the seed, and the shrunk sequence with what each call answered
   * @throws Exception if the store cannot be opened or its capabilities read
   */
  public Summary run() throws Exception {
    Capabilities caps;
    try (OffsetStore<T> s = stores.open()) {
      caps = s.capabilities();
    }
    long first = seed != null ? seed : new Random().nextLong();
    log.info(
        "model check: {} run(s) of {} actor(s) x {} operations, seed {} (replay: -D{}={})",
        runs,
        actors,
        operations,
        first,
        SEED_PROPERTY,
        first);
    int total = 0;
    for (int r = 0; r < runs; r++) {
      long runSeed = first + r;
      Plan plan =
          Plan.generate(
              new Random(runSeed),
              actors,
              operations,
              caps.atomicAcrossPartitions(),
              caps.maxRangesPerCommit(),
              token());
      total += plan.size();
      Execution<T> e = execute(plan, caps);
      String violation = e.run();
      if (violation != null) {
        throw new AssertionError(report(plan, caps, runSeed, violation, e));
      }
    }
    return new Summary(first, runs, total);
  }

  private String report(
      Plan plan, Capabilities caps, long runSeed, String violation, Execution<T> e) {
    Shrunk shrunk = shrink(plan, caps, violation, e);
    return "model check failed: "
        + shrunk.violation
        + "\nseed "
        + runSeed
        + " (replay: -D"
        + SEED_PROPERTY
        + "="
        + runSeed
        + " -D"
        + RUNS_PROPERTY
        + "=1), "
        + actors
        + " actor(s) x "
        + operations
        + " operations; store: "
        + caps.description()
        + "\nshrunk from "
        + plan.size()
        + " to "
        + shrunk.plan.size()
        + " operation(s) in "
        + shrunk.executions
        + " execution(s); what each call answered:\n"
        + shrunk.transcript
        + (shrunk.violation.equals(violation)
            ? ""
            : "(the original sequence failed with: " + violation + ")\n");
  }

  private record Shrunk(Plan plan, String violation, String transcript, int executions) {}

  /**
   * Delta debugging: drop whole actors, then chunks of operations of halving size, keeping each cut
   * under which the plan still fails. A concurrent plan is tried a few times per cut, as whether it
   * fails may depend on scheduling.
   */
  private Shrunk shrink(Plan plan, Capabilities caps, String violation, Execution<T> failed) {
    long deadline = System.nanoTime() + shrinkMillis * 1_000_000L;
    Shrunk best = new Shrunk(plan, violation, failed.transcript(), 0);
    int executions = 0;
    int tries = plan.actors().size() > 1 ? 3 : 1;
    boolean progress = true;
    while (progress && System.nanoTime() < deadline) {
      progress = false;
      List<Plan> candidates = new ArrayList<>();
      for (int a = 0; a < best.plan.actors().size() && best.plan.actors().size() > 1; a++) {
        candidates.add(withoutActor(best.plan, a));
      }
      for (int a = 0; a < best.plan.actors().size(); a++) {
        int n = best.plan.actors().get(a).size();
        for (int chunk = Math.max(1, n / 2); chunk >= 1; chunk /= 2) {
          for (int from = 0; from < n; from += chunk) {
            candidates.add(withoutOps(best.plan, a, from, Math.min(n, from + chunk)));
          }
          if (chunk == 1) {
            break;
          }
        }
      }
      for (Plan c : candidates) {
        if (System.nanoTime() >= deadline) {
          break;
        }
        if (c.size() >= best.plan.size()) {
          continue;
        }
        for (int t = 0; t < tries; t++) {
          Execution<T> e = execute(c, caps);
          executions++;
          String v = e.run();
          if (v != null) {
            best = new Shrunk(c, v, e.transcript(), executions);
            progress = true;
            break;
          }
        }
        if (progress) {
          break;
        }
      }
    }
    return new Shrunk(best.plan, best.violation, best.transcript, executions);
  }

  private static Plan withoutActor(Plan p, int actor) {
    List<List<Op>> ops = new ArrayList<>(p.actors());
    List<List<io.tandem.spi.Partition>> own = new ArrayList<>(p.own());
    ops.remove(actor);
    own.remove(actor);
    return new Plan(p.shared(), own, ops, p.token());
  }

  private static Plan withoutOps(Plan p, int actor, int from, int to) {
    List<List<Op>> ops = new ArrayList<>(p.actors());
    List<Op> mine = new ArrayList<>(ops.get(actor));
    mine.subList(from, to).clear();
    ops.set(actor, mine);
    return new Plan(p.shared(), p.own(), ops, p.token());
  }

  private Execution<T> execute(Plan plan, Capabilities caps) {
    String unique = token();
    return new Execution<>(
        plan.renamed(unique),
        stores,
        probe,
        caps.transactional(),
        caps.atomicAcrossPartitions(),
        prefix + "-" + unique,
        "model_" + unique.replace('-', '_'),
        timeoutMillis);
  }

  private static String token() {
    return RUN_ID + SEQUENCE.incrementAndGet();
  }

  private static int positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, got " + name + "=" + value);
    }
    return value;
  }

  private static int intProperty(String property, int fallback) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    try {
      return positive(property, Integer.parseInt(v.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          property + " must be a whole number >= 1, got '" + v + "'", e);
    }
  }
}
