package io.tandem.tck.selftest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * RULES.md and the kit's tests list the same rules: each id in RULES.md has exactly one test whose
 * display name is {@code [ID] text} with the same text, and every test has a line. RULES.md is read
 * from the class path (the build copies it to {@code META-INF/tandem-tck/RULES.md}), so this works
 * from a clean clone and checks what the jar ships.
 */
class RulesCoverageTest {
  private static final Pattern LINE = Pattern.compile("^- `([A-Z][0-9]+)` (.+)$");

  @Test
  void everyRuleInRulesMdHasExactlyOneTestAndViceVersa() throws IOException {
    Map<String, String> documented = new TreeMap<>();
    Map<String, Integer> documentedCount = new TreeMap<>();
    for (String line : rulesMd().split("\n")) {
      Matcher m = LINE.matcher(line.strip());
      if (m.matches()) {
        documented.put(m.group(1), m.group(2));
        documentedCount.merge(m.group(1), 1, Integer::sum);
      }
    }
    Map<String, String> tested = new TreeMap<>();
    Map<String, Integer> testCount = KitRun.ruleCounts(Kits.TransactionalReference.class, tested);

    assertThat(documentedCount)
        .as("ids listed more than once in RULES.md")
        .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    assertThat(testCount)
        .as("tests per rule id (one each)")
        .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    assertThat(testCount.keySet())
        .as("rule ids of the kit's tests vs RULES.md")
        .isEqualTo(documented.keySet());
    List<String> differing = new ArrayList<>();
    documented.forEach(
        (id, text) -> {
          if (tested.containsKey(id) && !tested.get(id).equals(text)) {
            differing.add(id + ": RULES.md '" + text + "', test '" + tested.get(id) + "'");
          }
        });
    assertThat(differing).as("rule texts that differ between RULES.md and display names").isEmpty();
    assertThat(documented).hasSizeGreaterThan(60);
  }

  @Test
  void rulesMdNamesEveryRuleSectionInOrder() throws IOException {
    String md = rulesMd();
    String[] sections = {
      "## P", "## I", "## C", "## T", "## X", "## N", "## V", "## A", "## D", "## S", "## R",
      "## M", "## F", "## K"
    };
    int at = -1;
    for (String s : sections) {
      int next = md.indexOf(s);
      assertThat(next).as("section " + s + " after the previous one").isGreaterThan(at);
      at = next;
    }
  }

  /** The house rule for rule javadoc: the rule (starting with its id), then what to check. */
  @Test
  void everyRuleTestHasJavadocStatingTheRuleAndWhatToCheck() throws IOException {
    // Surefire runs in the module directory, so the source is there in any clone.
    String source =
        Files.readString(
            Path.of("src/main/java/io/tandem/tck/OffsetStoreVerification.java"),
            StandardCharsets.UTF_8);
    Matcher m =
        Pattern.compile(
                "/\\*\\*((?:(?!\\*/).)*)\\*/\\s*@Test\\s*@DisplayName\\(\\s*\"\\[([A-Z][0-9]+)]",
                Pattern.DOTALL)
            .matcher(source);
    Map<String, String> javadocs = new TreeMap<>();
    while (m.find()) {
      javadocs.put(m.group(2), m.group(1).replaceAll("\\s*\\n\\s*\\*\\s?", " ").strip());
    }
    Map<String, String> tested = new TreeMap<>();
    KitRun.ruleCounts(Kits.TransactionalReference.class, tested);
    assertThat(javadocs.keySet()).as("rules with javadoc").isEqualTo(tested.keySet());
    javadocs.forEach(
        (id, doc) -> {
          assertThat(doc).as("javadoc of " + id + " begins with its id").startsWith(id + ". ");
          assertThat(doc).as("javadoc of " + id).contains("If this fails, check:");
        });
  }

  /**
   * What Surefire and Failsafe write into their XML comes from the test plan: a test's class name
   * is its parent container's. Every rule must be a direct child of the backend's own class, with a
   * method source naming that class, so a report counts the rules under it ({@code tests="75"}, not
   * 0 under section containers) and two backends' reports never merge.
   */
  @Test
  void everyRuleIsReportedUnderTheBackendsOwnClass() {
    Class<?> kit = Kits.IdempotentReference.class;
    org.junit.platform.launcher.TestPlan plan =
        org.junit.platform.launcher.core.LauncherFactory.create()
            .discover(
                org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request()
                    .selectors(
                        org.junit.platform.engine.discovery.DiscoverySelectors.selectClass(kit))
                    .build());
    List<String> misplaced = new ArrayList<>();
    int tests = 0;
    for (org.junit.platform.launcher.TestIdentifier root : plan.getRoots()) {
      for (org.junit.platform.launcher.TestIdentifier id : plan.getDescendants(root)) {
        if (!id.isTest()) {
          if (id.getSource()
              .filter(org.junit.platform.engine.support.descriptor.ClassSource.class::isInstance)
              .isPresent()) {
            String cls =
                ((org.junit.platform.engine.support.descriptor.ClassSource) id.getSource().get())
                    .getClassName();
            if (!cls.equals(kit.getName())) {
              misplaced.add("container " + id.getDisplayName() + " (" + cls + ")");
            }
          }
          continue;
        }
        tests++;
        String parentClass =
            plan.getParent(id)
                .flatMap(org.junit.platform.launcher.TestIdentifier::getSource)
                .filter(org.junit.platform.engine.support.descriptor.ClassSource.class::isInstance)
                .map(
                    src ->
                        ((org.junit.platform.engine.support.descriptor.ClassSource) src)
                            .getClassName())
                .orElse("<none>");
        String methodClass =
            id.getSource()
                .filter(org.junit.platform.engine.support.descriptor.MethodSource.class::isInstance)
                .map(
                    src ->
                        ((org.junit.platform.engine.support.descriptor.MethodSource) src)
                            .getClassName())
                .orElse("<none>");
        if (!parentClass.equals(kit.getName()) || !methodClass.equals(kit.getName())) {
          misplaced.add(id.getDisplayName() + " under " + parentClass + ", source " + methodClass);
        }
      }
    }
    assertThat(misplaced).as("tests or containers not under " + kit.getName()).isEmpty();
    assertThat(tests).as("rules under " + kit.getSimpleName()).isGreaterThan(60);
  }

  private static String rulesMd() throws IOException {
    try (InputStream in =
        RulesCoverageTest.class.getResourceAsStream("/META-INF/tandem-tck/RULES.md")) {
      assertThat(in).as("RULES.md on the class path (tck/pom.xml copies it)").isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
