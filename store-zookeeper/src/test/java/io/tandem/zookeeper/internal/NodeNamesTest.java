package io.tandem.zookeeper.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.zookeeper.common.PathUtils;
import org.junit.jupiter.api.Test;

class NodeNamesTest {

  private static final List<String> UNUSUAL =
      List.of(
          "orders",
          "orders.v1",
          "a/b",
          "/",
          ".",
          "..",
          "...",
          ".hidden",
          "zookeeper",
          "with space",
          "100%",
          "%41",
          "ünïcødé ✓",
          "emoji \uD83D\uDE00",
          "tab\tand\nnewline",
          "nul\u0000char",
          "\u007f\u0080\u009f",
          "\uE000\uF8FF\uFFF0\uFFFF",
          "quote'\"`",
          "x".repeat(249));

  @Test
  void everyUnusualNameIsOneLegalZnodeNameAndDecodesBack() {
    for (String name : UNUSUAL) {
      String node = NodeNames.encode(name);
      // A legal single path element below some parent, never "." or "..".
      PathUtils.validatePath("/root/" + node);
      assertThat(node).doesNotContain("/").isNotIn(".", "..");
      assertThat(NodeNames.decode(node)).as(name).contains(name);
    }
  }

  @Test
  void readableNamesStayReadable() {
    assertThat(NodeNames.encode("orders.v1-eu_2")).isEqualTo("orders.v1-eu_2");
    assertThat(NodeNames.encode("a/b")).isEqualTo("a%2Fb");
    assertThat(NodeNames.encode("..")).isEqualTo("%2E.");
    assertThat(NodeNames.encode("é")).isEqualTo("%C3%A9");
  }

  @Test
  void differentNamesNeverShareANode() {
    assertThat(UNUSUAL.stream().map(NodeNames::encode).distinct()).hasSize(UNUSUAL.size());
    assertThat(NodeNames.encode("%41")).isNotEqualTo(NodeNames.encode("A"));
  }

  @Test
  void nonCanonicalOrForeignNodesDoNotDecode() {
    assertThat(NodeNames.decode("%41")).isEmpty(); // "A" is stored as "A"
    assertThat(NodeNames.decode("%c3%a9")).isEmpty(); // lower-case hex is not ours
    assertThat(NodeNames.decode("with space")).isEmpty();
    assertThat(NodeNames.decode(".hidden")).isEmpty();
    assertThat(NodeNames.decode("%C3")).isEmpty(); // truncated UTF-8
    assertThat(NodeNames.decode("%4")).isEmpty();
    assertThat(NodeNames.decode("")).isEmpty();
  }

  @Test
  void emptyAndUnpairedSurrogatesAreRefused() {
    assertThatThrownBy(() -> NodeNames.encode(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> NodeNames.encode("bad\uD800"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("surrogate");
  }
}
