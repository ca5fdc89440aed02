package io.tandem.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConflictsTest {

  static final Partition A = new Partition("t", 0);
  static final Partition B = new Partition("t", 1);
  static final Partition C = new Partition("t", 2);
  static final List<OffsetRange> RANGES =
      List.of(new OffsetRange(A, 5, 9), new OffsetRange(B, 0, 3), new OffsetRange(C, 7, 7));

  @Test
  void listsEachMismatchWithExpectedAndFoundInRangeOrder() {
    assertThat(Conflicts.of(RANGES, Map.of(A, 5L, B, 2L)))
        .containsExactly(Conflict.of(B, 0, 2), Conflict.missing(C, 7));
    assertThat(Conflicts.ofParallel(RANGES, Arrays.asList(6L, 0L, null)))
        .containsExactly(Conflict.of(A, 5, 6), Conflict.missing(C, 7));
  }

  @Test
  void matchingPositionsAreNoConflict() {
    assertThat(Conflicts.of(RANGES, Map.of(A, 5L, B, 0L, C, 7L))).isEmpty();
    Conflicts.throwIfAny("g", List.of());
  }

  @Test
  void throwIfAnyNamesGroupAndEveryConflict() {
    assertThatThrownBy(() -> Conflicts.throwIfAny("g1", Conflicts.of(RANGES, Map.of())))
        .isInstanceOf(OffsetConflictException.class)
        .hasMessageContaining("'g1'")
        .hasMessageContaining("t-0 expected 5, found no position")
        .hasMessageContaining("on 3 partition(s)");
  }

  @Test
  void parallelListsMustMatchInSize() {
    assertThatThrownBy(() -> Conflicts.ofParallel(RANGES, List.of(1L)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
