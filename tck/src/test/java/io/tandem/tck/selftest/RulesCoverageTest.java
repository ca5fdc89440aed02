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
      "## F", "## K"
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

  private static String rulesMd() throws IOException {
    try (InputStream in =
        RulesCoverageTest.class.getResourceAsStream("/META-INF/tandem-tck/RULES.md")) {
      assertThat(in).as("RULES.md on the class path (tck/pom.xml copies it)").isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
