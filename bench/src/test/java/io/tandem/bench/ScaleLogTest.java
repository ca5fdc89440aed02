package io.tandem.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScaleLogTest {

  @Test
  void linesRoundTrip() {
    ScaleLog.Parsed p =
        ScaleLog.parse(
            List.of(
                ScaleLog.owns(1000, 3, List.of(4, 9, 12)),
                ScaleLog.commit(1010, 3, 2500, 42, List.of(4, 12)),
                ScaleLog.owns(1020, 3, List.of()),
                ScaleLog.heap(1030, 52_428_800),
                ScaleLog.stats(1040, 2, 5)));
    assertThat(p.owns()).hasSize(2);
    assertThat(p.owns().get(0).time()).isEqualTo(1000);
    assertThat(p.owns().get(0).group()).isEqualTo(3);
    assertThat(p.owns().get(0).partitions()).containsExactly(4, 9, 12);
    assertThat(p.owns().get(1).partitions()).isEmpty();
    assertThat(p.commits()).hasSize(1);
    ScaleLog.Commit c = p.commits().get(0);
    assertThat(c.time()).isEqualTo(1010);
    assertThat(c.group()).isEqualTo(3);
    assertThat(c.latencyMicros()).isEqualTo(2500);
    assertThat(c.records()).isEqualTo(42);
    assertThat(c.partitions()).containsExactly(4, 12);
    assertThat(p.heap()).containsExactly(new ScaleLog.Heap(1030, 52_428_800));
    assertThat(p.stats()).containsExactly(new ScaleLog.Stats(1040, 2, 5));
  }

  @Test
  void incompleteAndUnknownLinesAreSkipped() {
    ScaleLog.Parsed p =
        ScaleLog.parse(List.of("", "C 1010 3 2500", "H 10x0 5", "O 1 2", "X 1 2 3", "S 1 2 3"));
    assertThat(p.commits()).isEmpty();
    assertThat(p.heap()).isEmpty();
    assertThat(p.owns()).isEmpty();
    assertThat(p.stats()).containsExactly(new ScaleLog.Stats(1, 2, 3));
  }

  @Test
  void ownershipAtATimeIsTheLastLineBeforeIt() {
    List<ScaleLog.Owns> owns =
        List.of(
            new ScaleLog.Owns(10, 0, Set.of(1, 2)),
            new ScaleLog.Owns(20, 0, Set.of(1, 2, 3)),
            new ScaleLog.Owns(15, 1, Set.of(7)),
            new ScaleLog.Owns(30, 0, Set.of()),
            new ScaleLog.Owns(25, 1, Set.of()));
    assertThat(ScaleAnalysis.ownedAt(owns, 22))
        .containsOnlyKeys(0, 1)
        .containsEntry(0, Set.of(1, 2, 3))
        .containsEntry(1, Set.of(7));
    // Empty assignments drop out.
    assertThat(ScaleAnalysis.ownedAt(owns, 40)).isEmpty();
    assertThat(ScaleAnalysis.ownedAt(owns, 5)).isEmpty();
  }
}
