package io.tandem.tck.selftest;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

import io.tandem.tck.OffsetStoreVerification;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherFactory;

/** The outcome of running a kit subclass through the JUnit launcher, by rule id. */
final class KitRun {
  private static final Pattern RULE = Pattern.compile("^\\[([A-Z][0-9]+)] (.+)$");
  private static final Map<Class<?>, KitRun> CACHE = new ConcurrentHashMap<>();

  // The launcher calls the listener from its worker threads when the kit runs in parallel: the
  // maps must take concurrent puts (TreeMaps lost entries there).

  /** Rule id to the first line of the failure. */
  final Map<String, String> failed = new ConcurrentSkipListMap<>();

  /** Rule id to the reason for skipping (a failed assumption). */
  final Map<String, String> skipped = new ConcurrentSkipListMap<>();

  final Map<String, String> passed = new ConcurrentSkipListMap<>();

  /** Failures of containers (setup, lifecycle), by display name. */
  final Map<String, String> containerFailures = new ConcurrentSkipListMap<>();

  /** The most tests that were running at the same moment. */
  final java.util.concurrent.atomic.AtomicInteger maxConcurrentTests =
      new java.util.concurrent.atomic.AtomicInteger();

  private final java.util.concurrent.atomic.AtomicInteger running =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Each kit class runs once per JVM; several assertions read its outcome. */
  static KitRun of(Class<?> kit) {
    return CACHE.computeIfAbsent(kit, KitRun::run);
  }

  /** Every test the kit holds, discovered as JUnit discovers it: rule id to display name. */
  static Map<String, Integer> ruleCounts(Class<?> kit, Map<String, String> texts) {
    Launcher launcher = LauncherFactory.create();
    TestPlan plan = launcher.discover(request().selectors(selectClass(kit)).build());
    Map<String, Integer> counts = new TreeMap<>();
    for (TestIdentifier root : plan.getRoots()) {
      for (TestIdentifier id : plan.getDescendants(root)) {
        if (id.isTest()) {
          Matcher m = RULE.matcher(id.getDisplayName());
          String rule = m.matches() ? m.group(1) : "<no rule id> " + id.getDisplayName();
          counts.merge(rule, 1, Integer::sum);
          if (m.matches()) {
            texts.put(rule, m.group(2));
            // The method name starts with the id too, so reports that show method names only
            // (Surefire's default XML and console) still name the rule.
            String method =
                id.getSource()
                    .filter(MethodSource.class::isInstance)
                    .map(src -> ((MethodSource) src).getMethodName())
                    .orElse("");
            if (!method.startsWith(rule.toLowerCase(java.util.Locale.ROOT) + "_")) {
              counts.merge("<method name without id> " + rule + " " + method, 1, Integer::sum);
            }
          }
        }
      }
    }
    return counts;
  }

  private static KitRun run(Class<?> kit) {
    return run(kit, Map.of());
  }

  /** Runs a kit class with JUnit configuration parameters, uncached. */
  static KitRun run(Class<?> kit, Map<String, String> configuration) {
    return run(selectClass(kit), configuration);
  }

  /**
   * Runs one rule section of a kit class: the rules whose id begins with {@code letter} (e.g. 'A',
   * administration), selected by method name ({@code a1_...}).
   */
  static KitRun runSection(Class<?> kit, char letter) {
    Pattern name = Pattern.compile("^" + Character.toLowerCase(letter) + "[0-9]+_.*");
    List<DiscoverySelector> selectors = new java.util.ArrayList<>();
    for (java.lang.reflect.Method m : OffsetStoreVerification.class.getDeclaredMethods()) {
      if (name.matcher(m.getName()).matches() && m.isAnnotationPresent(Test.class)) {
        selectors.add(selectMethod(kit, m));
      }
    }
    return run(selectors, Map.of());
  }

  private static KitRun run(DiscoverySelector selector, Map<String, String> configuration) {
    return run(List.of(selector), configuration);
  }

  private static KitRun run(
      List<? extends DiscoverySelector> selectors, Map<String, String> configuration) {
    KitRun run = new KitRun();
    LauncherDiscoveryRequest request =
        request().selectors(selectors).configurationParameters(configuration).build();
    LauncherFactory.create()
        .execute(
            request,
            new TestExecutionListener() {
              @Override
              public void executionSkipped(TestIdentifier id, String reason) {
                run.skipped.put(rule(id), reason);
              }

              @Override
              public void executionStarted(TestIdentifier id) {
                if (id.isTest()) {
                  run.maxConcurrentTests.accumulateAndGet(run.running.incrementAndGet(), Math::max);
                }
              }

              @Override
              public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest()) {
                  run.running.decrementAndGet();
                }
                String why =
                    result.getThrowable().map(t -> firstLine(String.valueOf(t))).orElse("");
                if (!id.isTest()) {
                  if (result.getStatus() == TestExecutionResult.Status.FAILED) {
                    run.containerFailures.put(id.getDisplayName(), why);
                  }
                  return;
                }
                switch (result.getStatus()) {
                  case SUCCESSFUL -> run.passed.put(rule(id), "");
                  case ABORTED -> run.skipped.put(rule(id), why);
                  case FAILED -> run.failed.put(rule(id), why);
                }
              }
            });
    return run;
  }

  private static String rule(TestIdentifier id) {
    Matcher m = RULE.matcher(id.getDisplayName());
    return m.matches() ? m.group(1) : id.getDisplayName();
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append("passed ").append(passed.keySet()).append('\n');
    sb.append("skipped ").append(skipped).append('\n');
    failed.forEach((k, v) -> sb.append("FAILED ").append(k).append(": ").append(v).append('\n'));
    containerFailures.forEach(
        (k, v) -> sb.append("CONTAINER FAILED ").append(k).append(": ").append(v).append('\n'));
    return sb.toString();
  }
}
