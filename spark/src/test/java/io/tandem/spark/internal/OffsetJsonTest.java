package io.tandem.spark.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.Partition;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OffsetJsonTest {

  @Test
  void writesWhatSparksKafkaSourceReads() {
    String json =
        OffsetJson.write(
            Map.of(
                new Partition("b.t", 1),
                7L,
                new Partition("b.t", 0),
                5L,
                new Partition("a", 0),
                0L));
    assertThat(json).isEqualTo("{\"a\":{\"0\":0},\"b.t\":{\"0\":5,\"1\":7}}");
  }

  @Test
  void readsWhatItWritesAndSpacedJson() {
    Map<Partition, Long> positions = Map.of(new Partition("t-1", 2), 1200L);
    assertThat(OffsetJson.read(OffsetJson.write(positions))).isEqualTo(positions);
    assertThat(OffsetJson.read(" { \"t\" : { \"0\" : 3 , \"1\":-1 } } "))
        .containsEntry(new Partition("t", 0), 3L)
        .containsEntry(new Partition("t", 1), -1L);
    assertThat(OffsetJson.read("{}")).isEmpty();
  }

  @Test
  void otherSourcesOffsetsAreRefusedNamingThePlace() {
    assertThatThrownBy(() -> OffsetJson.read("{\"logOffset\":3}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not Kafka source offsets JSON at character");
    assertThatThrownBy(() -> OffsetJson.read("{\"t\":{\"x\":1}}"))
        .hasMessageContaining("partition 'x' is not a number");
  }
}
