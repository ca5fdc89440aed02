package io.tandem.jdbc;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStoreProvider;
import java.util.Map;
import java.util.Set;

/**
 * Opens {@link JdbcOffsetStore}s for {@code jdbc:} URIs through {@link io.tandem.spi.OffsetStores}:
 * {@code OffsetStores.open("jdbc:postgresql://db/app", Map.of("user", "app", "password", "..."))}.
 * Options: see {@link JdbcStoreConfig}.
 */
public final class JdbcStoreProvider implements OffsetStoreProvider {

  /** Needed by {@link java.util.ServiceLoader}. */
  public JdbcStoreProvider() {}

  @Override
  public String name() {
    return "jdbc";
  }

  @Override
  public Set<String> schemes() {
    return Set.of("jdbc");
  }

  @Override
  public OffsetStore<?> open(String uri, Map<String, String> properties) {
    return JdbcOffsetStore.open(JdbcStoreConfig.fromUri(uri, properties));
  }
}
