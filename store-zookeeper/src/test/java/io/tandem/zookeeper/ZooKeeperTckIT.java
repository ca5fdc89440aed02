package io.tandem.zookeeper;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.ResultWriter;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import io.tandem.testing.ZooKeeperTestServer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;

/** The whole Tandem TCK against ZooKeeper. */
class ZooKeeperTckIT extends OffsetStoreVerification<ZooKeeperOps> {

  private static final String ROOT = "/" + ZkIt.unique("tandem-tck");
  private static final String RESULTS = "/" + ZkIt.unique("tandem-tck-results");
  private static volatile ZooKeeper reader;

  @Override
  protected OffsetStore<ZooKeeperOps> newStore() {
    return ZooKeeperOffsetStore.open(
        ZooKeeperStoreConfig.builder(ZooKeeperTestServer.shared().connectString())
            .root(ROOT)
            .build());
  }

  /**
   * A root node whose digest ACL lets only its owner in, and a store authenticated as someone else:
   * ZooKeeper answers NOAUTH to its first write under the root. (Digest authentication itself never
   * fails: the server keeps no user list, so an unknown user is simply not the owner.)
   */
  @Override
  protected OffsetStore<ZooKeeperOps> newStoreWithRefusedCredentials() throws Exception {
    String root = "/" + ZkIt.unique("tandem-tck-acl");
    ZooKeeper owner = ZkIt.client(ZooKeeperTestServer.shared().connectString());
    try {
      owner.addAuthInfo("digest", "owner:owner-pw".getBytes(StandardCharsets.UTF_8));
      owner.create(root, new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
    } finally {
      owner.close();
    }
    return ZooKeeperOffsetStore.open(
        ZooKeeperStoreConfig.builder(ZooKeeperTestServer.shared().connectString())
            .root(root)
            .digest("intruder:wrong-pw")
            .build());
  }

  @Override
  protected ResultProbe<ZooKeeperOps> probe() {
    return new ResultProbe<>() {
      @Override
      public ResultWriter<ZooKeeperOps> put(String namespace, Map<String, String> entries) {
        return NodePerKey.under(RESULTS + "/" + namespace).putText(entries);
      }

      @Override
      public Map<String, String> read(String namespace) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        NodePerKey.under(RESULTS + "/" + namespace)
            .read(reader())
            .forEach((k, v) -> out.put(k, new String(v, StandardCharsets.UTF_8)));
        return out;
      }
    };
  }

  private static synchronized ZooKeeper reader() throws Exception {
    if (reader == null) {
      reader = ZkIt.client(ZooKeeperTestServer.shared().connectString());
    }
    return reader;
  }

  @AfterAll
  static void closeReader() throws InterruptedException {
    if (reader != null) {
      reader.close();
    }
  }
}
