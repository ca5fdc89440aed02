package io.tandem.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's ledger and verdict on a real H2 database: duplicates and losses are caught. */
class DemoLedgerTest {

  @TempDir Path dir;
  private Connection c;
  private final DemoLedger ledger = new DemoLedger("r1");
  private final List<DemoLedger.Payment> payments =
      List.of(
          new DemoLedger.Payment(0, "acct-1", 500),
          new DemoLedger.Payment(1, "acct-2", -200),
          new DemoLedger.Payment(2, "acct-1", 300));
  private final Map<String, Long> expected = Map.of("acct-1", 800L, "acct-2", -200L);

  @BeforeEach
  void open() throws Exception {
    c = DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("ledger").toAbsolutePath());
    DemoLedger.createTables(c);
  }

  @AfterEach
  void close() throws Exception {
    c.close();
  }

  @Test
  void everyPaymentOnceIsOk() throws Exception {
    ledger.apply(c, payments);
    DemoLedger.Verdict v = DemoLedger.Verdict.of(expected, 3, ledger.read(c));
    assertThat(v.ok()).isTrue();
    assertThat(v.expectedTotal()).isEqualTo(600).isEqualTo(v.actualTotal());
  }

  @Test
  void aPaymentAppliedTwiceIsADuplicateAndFails() throws Exception {
    ledger.apply(c, payments);
    ledger.apply(c, payments.subList(2, 3));
    DemoLedger.Verdict v = DemoLedger.Verdict.of(expected, 3, ledger.read(c));
    assertThat(v.ok()).isFalse();
    assertThat(v.duplicates()).isEqualTo(1);
    assertThat(v.wrong()).containsExactly("acct-1 expected 800 got 1100");
  }

  @Test
  void aMissingPaymentIsALossAndFails() throws Exception {
    ledger.apply(c, payments.subList(0, 2));
    DemoLedger.Verdict v = DemoLedger.Verdict.of(expected, 3, ledger.read(c));
    assertThat(v.ok()).isFalse();
    assertThat(v.lost()).isEqualTo(1);
    assertThat(ledger.lostSample(c, 3, 5)).containsExactly(2L);
  }

  @Test
  void otherRunsInTheSameTablesDoNotCount() throws Exception {
    new DemoLedger("r2").apply(c, payments);
    ledger.apply(c, payments);
    assertThat(DemoLedger.Verdict.of(expected, 3, ledger.read(c)).ok()).isTrue();
  }

  @Test
  void withoutAFoldTheVerdictRestsOnEveryPaymentHavingOneResultAndNothingElse() {
    // What ModelLedger reports on an IDEMPOTENT store: keyed results, no balances.
    DemoLedger.Observed all = new DemoLedger.Observed(3, 3, 0, Map.of(), false, 0);
    assertThat(DemoLedger.Verdict.of(expected, 3, all).ok()).isTrue();
    DemoLedger.Observed missing = new DemoLedger.Observed(2, 2, 0, Map.of(), false, 0);
    assertThat(DemoLedger.Verdict.of(expected, 3, missing).lost()).isEqualTo(1);
    assertThat(DemoLedger.Verdict.of(expected, 3, missing).ok()).isFalse();
    DemoLedger.Observed foreign = new DemoLedger.Observed(3, 3, 0, Map.of(), false, 1);
    assertThat(DemoLedger.Verdict.of(expected, 3, foreign).ok()).isFalse();
  }

  @Test
  void storeOptionsAreStrippedFromTheDriverUrl() {
    assertThat(DemoLedger.driverUrl("jdbc:postgresql://h/app?tandem.table=t&ssl=true"))
        .isEqualTo("jdbc:postgresql://h/app?ssl=true");
    assertThat(DemoLedger.driverUrl("jdbc:h2:tcp://h:1/ledger;WRITE_DELAY=0"))
        .isEqualTo("jdbc:h2:tcp://h:1/ledger;WRITE_DELAY=0");
  }
}
