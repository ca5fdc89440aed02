package io.tandem.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.StoreConfigurationException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoreOptionsTest {

  static final StoreOption<Duration> TIMEOUT =
      StoreOption.duration("timeout", Duration.ofSeconds(5), "reply timeout");
  static final StoreOption<Integer> POOL_SIZE = StoreOption.integer("poolSize", 8, "connections");
  static final StoreOption<Boolean> VERIFY = StoreOption.bool("verifyHostname", true, "TLS check");
  static final StoreOption<String> USER = StoreOption.text("user", null, "the user");
  static final StoreOption<String> PASSWORD = StoreOption.secret("password", "the password");
  static final StoreOption<String> TRUST_PASSWORD =
      StoreOption.secret("trustStorePassword", "the trust store's password");
  static final StoreOption<Integer> MAX_RANGES =
      StoreOption.integer("maxRangesPerCommit", 100, "ranges per commit").formerly("maxRanges");

  static final StoreOptions OPTIONS =
      StoreOptions.of(
          "Acme", List.of(TIMEOUT, POOL_SIZE, VERIFY, USER, PASSWORD, TRUST_PASSWORD, MAX_RANGES));

  @Test
  void readsTypedValuesFromQueryAndProperties() {
    OptionValues v =
        OPTIONS.read("acme://h?timeout=PT2S&poolSize=3", Map.of("verifyHostname", "FALSE"));
    assertThat(v.get(TIMEOUT)).contains(Duration.ofSeconds(2));
    assertThat(v.get(POOL_SIZE)).contains(3);
    assertThat(v.get(VERIFY)).contains(false);
    assertThat(v.has(USER)).isFalse();
    assertThat(v.get(USER)).isEmpty();
  }

  @Test
  void percentDecodingFollowsRfc3986SoPlusStaysPlus() {
    OptionValues v = OPTIONS.read("acme://h?password=a+b%2Bc%20d&user=%C3%A9", Map.of());
    assertThat(v.get(PASSWORD)).contains("a+b+c d");
    assertThat(v.get(USER)).contains("é");
  }

  @Test
  void badPercentEncodingIsAConfigurationError() {
    assertThatThrownBy(() -> OPTIONS.read("acme://h?user=%zz", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("bad percent-encoding");
    assertThatThrownBy(() -> OPTIONS.read("acme://h?user=%C3", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("percent-encoding");
  }

  @Test
  void unknownOptionNamesEveryKnownOneInTheUriAndInProperties() {
    String known =
        "Known options: timeout, poolSize, verifyHostname, user, password, trustStorePassword,"
            + " maxRangesPerCommit.";
    assertThatThrownBy(() -> OPTIONS.read("acme://h?colour=red", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Unknown option 'colour' for the Acme store")
        .hasMessageContaining(known);
    assertThatThrownBy(() -> OPTIONS.read("acme://h", Map.of("colour", "red")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Unknown option 'colour' for the Acme store")
        .hasMessageContaining(known);
  }

  @Test
  void renamedAndMisspelledOptionsGetAHint() {
    assertThatThrownBy(() -> OPTIONS.read("acme://h?maxRanges=5", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("It is now called 'maxRangesPerCommit'");
    assertThatThrownBy(() -> OPTIONS.read("acme://h", Map.of("pool-size", "5")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Did you mean 'poolSize'?");
  }

  @Test
  void repeatedOptionInTheUriIsRefusedNamingTheKnownOnes() {
    assertThatThrownBy(() -> OPTIONS.read("acme://h?poolSize=1&poolSize=2", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Option 'poolSize' is given twice")
        .hasMessageContaining("Known options: timeout,");
  }

  @Test
  void optionInBothUriAndPropertiesIsRefusedEvenWithEqualValues() {
    assertThatThrownBy(() -> OPTIONS.read("acme://h?poolSize=2", Map.of("poolSize", "2")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'poolSize' is given both in the Acme store URI")
        .hasMessageContaining("give it in one place");
  }

  @Test
  void badValueNamesOptionValueAndWhatIsExpected() {
    assertThatThrownBy(() -> OPTIONS.read("acme://h?timeout=soon", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Option 'timeout' of the Acme store")
        .hasMessageContaining("got 'soon'")
        .hasMessageContaining("500ms, 5s, 2m, 1h");
    assertThatThrownBy(() -> OPTIONS.read("acme://h", Map.of("poolSize", "many")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("expected an integer, got 'many'");
    assertThatThrownBy(() -> OPTIONS.read("acme://h", Map.of("verifyHostname", "yes")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("expected true or false, got 'yes'");
  }

  @Test
  void secretsAreMaskedInMessagesUrisAndToString() {
    String uri = "acme://u:hunter2@h?trustStorePassword=hunter3&password=hunter4&colour=x";
    assertThatThrownBy(() -> OPTIONS.read(uri, Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageNotContaining("hunter2")
        .hasMessageNotContaining("hunter3")
        .hasMessageNotContaining("hunter4");
    assertThatThrownBy(
            () -> OPTIONS.read("acme://h?password=hunter5", Map.of("password", "hunter6")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageNotContaining("hunter5")
        .hasMessageNotContaining("hunter6");
    OptionValues v = OPTIONS.read("acme://h?user=bob", Map.of("password", "hunter7"));
    assertThat(v.toString()).contains("user=bob").contains("password=****");
    assertThat(v.toString()).doesNotContain("hunter7");
    StoreOptions zk = StoreOptions.of("Zk", List.of(StoreOption.secret("digest", "user:password")));
    assertThat(zk.mask("zookeeper://h?digest=bob:hunter8&x=1"))
        .isEqualTo("zookeeper://h?digest=****&x=1");
  }

  @Test
  void propertiesOnlyOptionIsRefusedInTheQuery() {
    StoreOption<String> pw = StoreOption.secret("password", "the password").propertiesOnly();
    StoreOptions options = StoreOptions.of("Acme", List.of(pw));
    assertThat(options.read("acme://h", Map.of("password", "x")).get(pw)).contains("x");
    assertThatThrownBy(() -> options.read("acme://h?password=hunter9", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("'password' of the Acme store is not accepted in the URI query")
        .hasMessageNotContaining("hunter9");
    assertThat(options.markdownTable())
        .contains("masked in every message; properties only, not in the query |");
  }

  @Test
  void showMasksOnlySecrets() {
    assertThat(POOL_SIZE.show(1234)).isEqualTo("1234");
    assertThat(PASSWORD.show("abc")).isEqualTo("****");
  }

  @Test
  void markdownTableListsEveryOptionWithTypeDefaultAndMeaning() {
    String table = OPTIONS.markdownTable();
    assertThat(table)
        .startsWith("| option | type | default | meaning |\n|---|---|---|---|\n")
        .contains("| `timeout` | duration | `5s` | reply timeout |\n")
        .contains("| `poolSize` | integer | `8` | connections |\n")
        .contains("| `password` | secret | none | the password; masked in every message |\n");
    assertThat(table.lines().count()).isEqualTo(2 + OPTIONS.all().size());
  }

  @Test
  void declarationsAreCheckedForCamelCaseAndRepeats() {
    assertThatThrownBy(() -> StoreOption.text("pool-size", null, "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("camelCase");
    assertThatThrownBy(() -> StoreOptions.of("Acme", List.of(POOL_SIZE, POOL_SIZE)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("declared twice");
  }

  @Test
  void queryPairsKeepRepeatsAndEmptyValues() {
    assertThat(StoreOptions.queryPairs("x://h?a=1&b&a=2#frag"))
        .containsExactly(Map.entry("a", "1"), Map.entry("b", ""), Map.entry("a", "2"));
    assertThat(StoreOptions.queryPairs("x://h")).isEmpty();
    assertThatThrownBy(() -> StoreOptions.queryPairs("x://h?=1"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("no name");
  }
}
