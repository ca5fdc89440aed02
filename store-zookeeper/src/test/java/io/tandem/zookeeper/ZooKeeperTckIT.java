package io.tandem.zookeeper;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.ResultWriter;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import io.tandem.testing.ZooKeeperTestServer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
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
