package io.tandem.zookeeper.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.jute.BinaryOutputArchive;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.proto.RequestHeader;
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

  /** What the client writes after the length prefix: the reference the computation must match. */
  private static long serialized(List<Op> ops) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryOutputArchive archive = BinaryOutputArchive.getArchive(out);
    new RequestHeader(0, ZooDefs.OpCode.multi).serialize(archive, "header");
    new MultiOperationRecord(ops).serialize(archive, "request");
    return out.size();
  }

  @Test
  void computedSizeEqualsTheSerializedRequestForEveryOpKind() throws IOException {
    List<ACL> acl =
        List.of(
            new ACL(ZooDefs.Perms.ALL, new Id("digest", "user:hash\u00e9")),
            new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));
    // ASCII, 2-byte, 3-byte and surrogate-pair characters (jute encodes each char on its own).
    List<String> paths = List.of("/a", "/t\u00e9st", "/\u20ac\u4e2d", "/emoji\ud83d\ude00");
    // A multi is all writes or all reads (MultiOperationRecord refuses a mix).
    List<Op> writes = new ArrayList<>();
    List<Op> reads = new ArrayList<>();
    for (String path : paths) {
      List<Op> kinds =
          List.of(
              Op.setData(path, new byte[] {1, 2, 3}, 4),
              Op.setData(path, null, -1),
              Op.check(path, 9),
              Op.delete(path, -1),
              Op.create(path, new byte[17], acl, CreateMode.PERSISTENT),
              Op.create(path, null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL),
              Op.create(path, new byte[2], acl, CreateMode.CONTAINER),
              Op.create(path, new byte[5], acl, CreateMode.PERSISTENT_WITH_TTL, 60_000L),
              Op.getData(path),
              Op.getChildren(path));
      for (Op op : kinds) {
        assertThat(Requests.multiRequestBytes(List.of(op)))
            .as("%s on %s", op.getClass().getSimpleName(), path)
            .isEqualTo(serialized(List.of(op)));
      }
      writes.addAll(kinds.subList(0, kinds.size() - 2));
      reads.addAll(kinds.subList(kinds.size() - 2, kinds.size()));
    }
    assertThat(Requests.multiRequestBytes(writes)).isEqualTo(serialized(writes));
    assertThat(Requests.multiRequestBytes(reads)).isEqualTo(serialized(reads));
    assertThat(Requests.multiRequestBytes(List.of())).isEqualTo(serialized(List.of()));
  }

  @Test
  void computedSizeEqualsTheSerializedRequestForRandomPathsAndData() throws IOException {
    Random random = new Random(16);
    for (int round = 0; round < 200; round++) {
      List<Op> ops = new ArrayList<>();
      int n = 1 + random.nextInt(20);
      for (int i = 0; i < n; i++) {
        StringBuilder path = new StringBuilder("/");
        int len = 1 + random.nextInt(30);
        for (int j = 0; j < len; j++) {
          // Any char but '/' and the null char, surrogates included.
          char c = (char) (1 + random.nextInt(0xFFFE));
          path.append(c == '/' ? 'x' : c);
        }
        byte[] data = new byte[random.nextInt(100)];
        ops.add(
            random.nextBoolean()
                ? Op.setData(path.toString(), data, random.nextInt())
                : Op.check(path.toString(), random.nextInt()));
      }
      assertThat(Requests.multiRequestBytes(ops)).isEqualTo(serialized(ops));
    }
  }
}
