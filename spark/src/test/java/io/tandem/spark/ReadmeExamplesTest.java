package io.tandem.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's "Spark" section shows the code of {@link ReadmeExamples}, which the build compiles:
 * each of the section's Java blocks must appear in that file token for token (whitespace aside,
 * since the formatter lays the file out differently).
 */
class ReadmeExamplesTest {

  private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);

  @Test
  void sparkSectionShowsTheCompiledExamples() throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    int start = readme.indexOf("\n## Spark\n");
    assertThat(start).as("README has a \"## Spark\" section").isNotNegative();
    int end = readme.indexOf("\n## ", start + 1);
    String section = readme.substring(start, end < 0 ? readme.length() : end);
    List<String> blocks = new ArrayList<>();
    Matcher m = JAVA_BLOCK.matcher(section);
    while (m.find()) {
      blocks.add(m.group(1));
    }
    assertThat(blocks).as("Java blocks in the Spark section").hasSize(2);
    String examples =
        squeeze(Files.readString(Path.of("src/test/java/io/tandem/spark/ReadmeExamples.java")));
    for (String block : blocks) {
      assertThat(examples)
          .as("ReadmeExamples.java holds the README block%n%s", block)
          .contains(squeeze(block));
    }
  }

  private static String squeeze(String code) {
    return code.replaceAll("\\s+", "");
  }
}
