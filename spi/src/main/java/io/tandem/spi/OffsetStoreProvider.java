package io.tandem.spi;

import java.util.Map;
import java.util.Set;

/**
 * Opens stores of one backend; found by {@link java.util.ServiceLoader}. A store module ships one
 * public implementation with a public no-argument constructor, listed in {@code
 * META-INF/services/io.tandem.spi.OffsetStoreProvider}.
 *
 * @since 0.1
 */
public interface OffsetStoreProvider {

  /**
   * A short name for messages and logs, such as {@code "jdbc"} or {@code "redis"}.
   *
   * @return the name
   */
  String name();

  /**
   * The URI schemes this provider opens, lower case, without the colon: {@code jdbc}, {@code
   * redis}, {@code rediss}, ...
   *
   * @return the schemes
   */
  Set<String> schemes();

  /**
   * Opens a store. The store is usable as soon as this returns.
   *
   * @param uri the store's URI, with one of {@link #schemes()}
   * @param properties options beside the URI (credentials, pool sizes, ...); an option unknown to
   *     the provider is an error
   * @return the open store; the caller closes it
   * @throws StoreConfigurationException if the URI or an option is malformed or unknown
   * @throws StoreUnavailableException if the store's server cannot be reached
   */
  OffsetStore<?> open(String uri, Map<String, String> properties);
}
