package io.tandem.redis;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStoreProvider;
import java.util.Map;
import java.util.Set;

/**
 * Opens {@link RedisOffsetStore}s for {@code redis://} and {@code rediss://} (TLS) URIs; see {@link
 * RedisStoreConfig} for the URI form and options.
 */
public final class RedisStoreProvider implements OffsetStoreProvider {

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public RedisStoreProvider() {}

  @Override
  public String name() {
    return "redis";
  }

  @Override
  public Set<String> schemes() {
    return Set.of("redis", "rediss");
  }

  @Override
  public OffsetStore<?> open(String uri, Map<String, String> properties) {
    return RedisOffsetStore.open(RedisStoreConfig.fromUri(uri, properties));
  }
}
