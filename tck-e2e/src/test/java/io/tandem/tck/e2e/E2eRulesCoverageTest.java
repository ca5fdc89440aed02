package io.tandem.tck.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * RULES.md and the end-to-end kit's tests list the same rules: each id has exactly one test whose
 * display name is {@code [ID] text} with the same text. RULES.md is read from the class path (the
 * build copies it to {@code META-INF/tandem-tck-e2e/RULES.md}), so this checks what the jar ships.
 */
class E2eRulesCoverageTest {
  private static final Pattern LINE = Pattern.compile("^- `([A-Z][0-9]+)` (.+)$");
  private static final Pattern NAME = Pattern.compile("^\\[([A-Z][0-9]+)] (.+)$");

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
    Map<String, Integer> testCount = new TreeMap<>();
    for (Method method : ExactlyOnceVerification.class.getDeclaredMethods()) {
      DisplayName name = method.getAnnotation(DisplayName.class);
      if (name != null && method.isAnnotationPresent(Test.class)) {
        Matcher m = NAME.matcher(name.value());
        assertThat(m.matches()).as("display name of %s: '[ID] text'", method.getName()).isTrue();
        tested.put(m.group(1), m.group(2));
        testCount.merge(m.group(1), 1, Integer::sum);
      }
    }
    assertThat(documentedCount)
        .as("ids listed more than once in RULES.md")
        .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    assertThat(testCount)
        .as("tests per rule id (one each)")
        .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    assertThat(tested).as("rules of the kit's tests vs RULES.md").isEqualTo(documented);
    assertThat(documented)
        .containsKeys("E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10", "E11", "E12");
  }

  private static String rulesMd() throws IOException {
    try (InputStream in =
        E2eRulesCoverageTest.class.getResourceAsStream("/META-INF/tandem-tck-e2e/RULES.md")) {
      assertThat(in).as("RULES.md on the class path (tck-e2e/pom.xml copies it)").isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
