package io.tandem.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScaleAnalysisTest {

  private static ScaleLog.Parsed jvm(String... lines) {
    return ScaleLog.parse(List.of(lines));
  }

  /** Two groups, two JVMs; a owns 0,1 of group 0 and 2 of group 1 and is killed at 5000. */
  private static Map<String, ScaleLog.Parsed> run() {
    Map<String, ScaleLog.Parsed> jvms = new LinkedHashMap<>();
    jvms.put(
        "a",
        jvm(
            "O 1000 0 0,1",
            "O 1000 1 2",
            "C 2000 0 1000 100 0,1",
            "C 3000 1 3000 100 2",
            "H 2500 1000",
            "H 4500 3000",
            "S 4500 1 2"));
    jvms.put(
        "b",
        jvm(
            "O 1000 0 2",
            "O 1000 1 0,1",
            "C 1500 0 2000 100 2",
            "C 2500 1 4000 100 0,1",
            // after the kill at 5000: assignments first, then the commits
            "O 15000 0 0,1,2",
            "O 15500 1 0,1,2",
            "C 16000 0 5000 100 0,2",
            "C 17000 1 6000 100 2",
            "C 18000 0 7000 100 1",
            "C 21000 1 8000 100 0",
            "H 3000 2000",
            "H 20000 1500",
            "S 20000 3 4"));
    return jvms;
  }

  @Test
  void takeoverIsKillToTheFirstCommitOfEachPartitionElsewhere() {
    ScaleAnalysis a = ScaleAnalysis.of(run(), "a", 5000, 300);
    // group 0: p0 at 16000, p1 at 18000; group 1: p2 at 17000.
    assertThat(a.takeover()).containsExactly(11_000, 12_000, 13_000);
    // assigned: group 0 at 15000 (p0, p1), group 1 at 15500 (p2).
    assertThat(a.assignment()).containsExactly(10_000, 10_000, 10_500);
    assertThat(a.orphans()).isZero();
  }

  @Test
  void aPartitionNobodyCommittedAfterTheKillIsAnOrphan() {
    Map<String, ScaleLog.Parsed> jvms = run();
    // Killed later, at 16500: group 0's p0 was committed at 16000, before; no later commit.
    ScaleAnalysis a = ScaleAnalysis.of(jvms, "a", 16_500, 300);
    // a's assignment at 16500 is still its last lines (0,1 and 2); p0 of group 0 and nothing else
    // is left without a commit after the kill.
    assertThat(a.orphans()).isEqualTo(1);
    assertThat(a.takeover()).containsExactly(500, 1500);
  }

  @Test
  void latencyThroughputHeapAndCounters() {
    ScaleAnalysis a = ScaleAnalysis.of(run(), "a", 5000, 300);
    assertThat(a.commits()).isEqualTo(8);
    // latencies 1..8 ms: p50 = the 4th (nearest rank) = 4 ms, p99 = the 8th = 8 ms
    assertThat(a.p50Ms()).isEqualTo(4.0);
    assertThat(a.p99Ms()).isEqualTo(8.0);
    assertThat(a.firstCommit()).isEqualTo(1500);
    assertThat(a.lastCommit()).isEqualTo(21_000);
    // 2 groups × 300 records over 19.5 s
    assertThat(a.recordsPerSecond()).isCloseTo(600 / 19.5, within(1e-9));
    // group 0: 1500..18000, group 1: 2500..21000
    assertThat(a.groupRates().get(0)).isCloseTo(300 / 16.5, within(1e-9));
    assertThat(a.groupRates().get(1)).isCloseTo(300 / 18.5, within(1e-9));
    assertThat(a.groupRateSpread()[0]).isCloseTo(300 / 18.5, within(1e-9));
    // From each JVM's first commit on: a's sample at 2500 (its first commit 2000) and 4500; b's
    // at 3000 and 20000 (first commit 1500).
    assertThat(a.heap().get("a")).containsExactly(1000, 3000, 3000);
    assertThat(a.heap().get("b")).containsExactly(2000, 1500, 2000);
    Map<String, ScaleLog.Parsed> late = new LinkedHashMap<>();
    late.put("c", jvm("H 100 500", "C 200 0 1000 10 0", "H 300 900", "H 400 800"));
    assertThat(ScaleAnalysis.of(late, null, 0, 10).heap().get("c")).containsExactly(900, 800, 900);
    assertThat(a.conflicts()).isEqualTo(4);
    assertThat(a.retries()).isEqualTo(6);
  }

  @Test
  void withoutAKillThereIsNoTakeover() {
    ScaleAnalysis a = ScaleAnalysis.of(run(), null, 0, 300);
    assertThat(a.takeover()).isEmpty();
    assertThat(a.assignment()).isEmpty();
    assertThat(a.orphans()).isZero();
  }

  @Test
  void emptyRunHasNoFigures() {
    ScaleAnalysis a = ScaleAnalysis.of(Map.of("a", jvm()), null, 0, 10);
    assertThat(a.commits()).isZero();
    assertThat(a.p50Ms()).isNaN();
    assertThat(a.recordsPerSecond()).isNaN();
    assertThat(a.groupRateSpread()[1]).isNaN();
  }

  @Test
  void exactlyOnceCheckCountsMissingDuplicatedAndWrongPositions() {
    Map<Integer, Long> ends = Map.of(0, 3L, 1, 2L);
    Map<String, Map<Integer, long[]>> counters = new LinkedHashMap<>();
    // exact: p0 offsets 0,1,2 (sum 3), p1 offsets 0,1 (sum 1)
    counters.put("g0", Map.of(0, new long[] {3, 3}, 1, new long[] {2, 1}));
    // p0 one duplicated (offset 2 twice), p1 missing entirely
    counters.put("g1", Map.of(0, new long[] {4, 5}));
    // same count, wrong sum: offset 1 twice, offset 2 lost
    counters.put("g2", Map.of(0, new long[] {3, 2}, 1, new long[] {2, 1}));
    Map<String, Map<Integer, Long>> positions =
        Map.of("g0", Map.of(0, 3L, 1, 2L), "g1", Map.of(0, 3L, 1, 2L), "g2", Map.of(0, 3L));
    Scale.Check c = Scale.verify(ends, counters, positions);
    assertThat(c.groupsExact()).isEqualTo(1);
    assertThat(c.duplicated()).isEqualTo(1);
    assertThat(c.missing()).isEqualTo(2);
    assertThat(c.partitionsWrong()).isEqualTo(3);
    assertThat(c.positionsWrong()).isEqualTo(1);
    assertThat(c.passed()).isFalse();
    assertThat(
            Scale.verify(ends, Map.of("g0", counters.get("g0")), Map.of("g0", Map.of(0, 3L, 1, 2L)))
                .passed())
        .isTrue();
  }
}
