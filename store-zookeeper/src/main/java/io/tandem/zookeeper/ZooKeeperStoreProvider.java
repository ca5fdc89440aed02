package io.tandem.zookeeper;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStoreProvider;
import java.util.Map;
import java.util.Set;

/**
 * Opens {@link ZooKeeperOffsetStore}s for {@code zookeeper://} URIs; see {@link
 * ZooKeeperStoreConfig#fromUri(String, Map)} for the URI form and options.
 */
public final class ZooKeeperStoreProvider implements OffsetStoreProvider {

  /** Creates the provider; {@link java.util.ServiceLoader} calls it. */
  public ZooKeeperStoreProvider() {}

  @Override
  public String name() {
    return "zookeeper";
  }

  @Override
  public Set<String> schemes() {
    return Set.of("zookeeper");
  }

  @Override
  public OffsetStore<ZooKeeperOps> open(String uri, Map<String, String> properties) {
    return ZooKeeperOffsetStore.open(ZooKeeperStoreConfig.fromUri(uri, properties));
  }
}
