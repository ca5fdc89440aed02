package io.tandem.zookeeper.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.zookeeper.Op;
import org.junit.jupiter.api.Test;

class RequestsTest {

  @Test
  void multiSizeCountsHeaderOpsAndTheEndMarker() {
    // Request header (xid, type) = 8; per op a multi header (type 4, done 1, err 4) = 9 and the
    // op's record; the end marker is one more multi header (9).
    byte[] data = "42".getBytes(StandardCharsets.US_ASCII);
    long one = Requests.multiRequestBytes(List.of(Op.setData("/a/b", data, 7)));
    // setData record: path (4 + 4), data (4 + 2), version 4 = 18.
    assertThat(one).isEqualTo(8 + 9 + 18 + 9);
    long two =
        Requests.multiRequestBytes(
            List.of(Op.setData("/a/b", data, 7), Op.setData("/a/bc", data, 7)));
    assertThat(two - one).isEqualTo(9 + 19);
  }

  @Test
  void sizeGrowsWithDataByteForByte() {
    long small = Requests.multiRequestBytes(List.of(Op.setData("/x", new byte[10], -1)));
    long large = Requests.multiRequestBytes(List.of(Op.setData("/x", new byte[1010], -1)));
    assertThat(large - small).isEqualTo(1000);
  }
}
