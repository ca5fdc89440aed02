package io.tandem.tck.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.tck.e2e.internal.Fixture;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class E2eRecordTest {

  @Test
  void valueRoundTripsThroughDecode() {
    E2eRecord r = new E2eRecord("r0000042", "k007", 815);
    assertThat(E2eRecord.decode("k007", r.value())).isEqualTo(r);
  }

  @Test
  void decodeNamesTheBadValue() {
    assertThatThrownBy(() -> E2eRecord.decode("k1", "no-amount"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'no-amount'");
    assertThatThrownBy(() -> E2eRecord.decode("k1", "r1;ten"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'r1;ten'");
  }

  @Test
  void emptyIdOrKeyIsRefused() {
    assertThatThrownBy(() -> new E2eRecord("", "k", 1)).hasMessageContaining("id and key");
  }

  @Test
  void generatedIdsAreUniqueAndAmountsPositive() {
    List<E2eRecord> input = Fixture.generate(5_000, 40, new Random(7));
    assertThat(new HashSet<>(input.stream().map(E2eRecord::id).toList())).hasSize(5_000);
    assertThat(input).allSatisfy(r -> assertThat(r.amount()).isPositive());
    assertThat(input.stream().map(E2eRecord::key).distinct().count()).isLessThanOrEqualTo(40);
  }

  @Test
  void generationIsReproducibleFromTheSeed() {
    assertThat(Fixture.generate(100, 10, new Random(42)))
        .isEqualTo(Fixture.generate(100, 10, new Random(42)));
  }
}
