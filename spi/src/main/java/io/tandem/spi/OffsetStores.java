package io.tandem.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a store by URI through the {@link OffsetStoreProvider}s on the class path.
 *
 * <p>The provider is picked by the URI's scheme. When none matches, the message names the schemes
 * on the class path and the artifact that adds the missing one. When several match, opening fails
 * and lists them; the system property {@value #PROVIDER_PROPERTY} names the class to use.
 *
 * @since 0.1
 */
public final class OffsetStores {

  /** System property naming the provider class to use when several match a scheme. */
  public static final String PROVIDER_PROPERTY = "tandem.provider";

  private static final Logger log = LoggerFactory.getLogger(OffsetStores.class);

  /** The artifact that provides each scheme we ship, for the "add this dependency" hint. */
  private static final Map<String, String> ARTIFACTS =
      Map.of(
          "jdbc", "io.tandem:tandem-store-jdbc",
          "redis", "io.tandem:tandem-store-redis",
          "rediss", "io.tandem:tandem-store-redis",
          "zookeeper", "io.tandem:tandem-store-zookeeper",
          "cassandra", "io.tandem:tandem-store-cassandra",
          "mongodb", "io.tandem:tandem-store-mongo",
          "mongodb+srv", "io.tandem:tandem-store-mongo");

  private OffsetStores() {}

  /**
   * Opens a store with no extra properties.
   *
   * @param uri the store's URI, such as {@code jdbc:postgresql://localhost/app}
   * @return the open store
   * @throws StoreConfigurationException if the URI is malformed, no provider or several match
   * @throws StoreUnavailableException if the store's server cannot be reached
   */
  public static OffsetStore<?> open(String uri) {
    return open(uri, Map.of());
  }

  /**
   * Opens a store.
   *
   * @param uri the store's URI
   * @param properties options beside the URI, passed to the provider
   * @return the open store
   * @throws StoreConfigurationException if the URI is malformed, no provider or several match
   * @throws StoreUnavailableException if the store's server cannot be reached
   */
  public static OffsetStore<?> open(String uri, Map<String, String> properties) {
    Objects.requireNonNull(properties, "properties must not be null");
    OffsetStoreProvider provider = provider(uri);
    log.debug("Opening {} with provider {}", StoreUris.mask(uri), provider.getClass().getName());
    return provider.open(uri, Map.copyOf(properties));
  }

  /**
   * Opens a store whose handle type is known to the caller.
   *
   * @param <T> the handle type
   * @param uri the store's URI
   * @param properties options beside the URI
   * @param handleType the expected handle type, such as {@code java.sql.Connection.class}
   * @return the open store
   * @throws StoreConfigurationException if the URI is malformed, no provider or several match, or
   *     the store's handle type is not {@code handleType}
   * @throws StoreUnavailableException if the store's server cannot be reached
   */
  @SuppressWarnings("unchecked")
  public static <T> OffsetStore<T> open(
      String uri, Map<String, String> properties, Class<T> handleType) {
    Objects.requireNonNull(handleType, "handleType must not be null");
    OffsetStore<?> store = open(uri, properties);
    if (!handleType.isAssignableFrom(store.handleType())) {
      Class<?> actual = store.handleType();
      store.close();
      throw new StoreConfigurationException(
          "Store "
              + StoreUris.mask(uri)
              + " passes "
              + actual.getName()
              + " to result writers, not "
              + handleType.getName());
    }
    return (OffsetStore<T>) store;
  }

  /**
   * Finds the one provider for a URI's scheme.
   *
   * @param uri the store's URI
   * @return the provider
   * @throws StoreConfigurationException if the URI is malformed, no provider or several match
   */
  public static OffsetStoreProvider provider(String uri) {
    String scheme = StoreUris.scheme(uri);
    Loaded loaded = loadProviders();
    List<OffsetStoreProvider> all = loaded.providers();
    List<OffsetStoreProvider> matching =
        all.stream().filter(p -> p.schemes().contains(scheme)).collect(Collectors.toList());
    String chosen = System.getProperty(PROVIDER_PROPERTY);
    if (chosen != null && !chosen.isBlank()) {
      return matching.stream()
          .filter(p -> p.getClass().getName().equals(chosen))
          .findFirst()
          .orElseThrow(
              () ->
                  new StoreConfigurationException(
                      "-D"
                          + PROVIDER_PROPERTY
                          + "="
                          + chosen
                          + " names no provider for scheme '"
                          + scheme
                          + "'. Providers for it: "
                          + describe(matching)));
    }
    if (matching.isEmpty()) {
      TreeSet<String> schemes = new TreeSet<>();
      all.forEach(p -> schemes.addAll(p.schemes()));
      String hint = ARTIFACTS.get(scheme);
      throw new StoreConfigurationException(
          "No Tandem store for scheme '"
              + scheme
              + "' ("
              + StoreUris.mask(uri)
              + "). On the class path: "
              + (schemes.isEmpty() ? "none" : String.join(", ", schemes))
              + "."
              + (hint == null ? " Add a store module that provides it." : " Add " + hint + ".")
              + (loaded.failures().isEmpty()
                  ? ""
                  : " Providers that failed to load: " + String.join("; ", loaded.failures())));
    }
    if (matching.size() > 1) {
      throw new StoreConfigurationException(
          "Several Tandem stores provide scheme '"
              + scheme
              + "': "
              + describe(matching)
              + ". Remove one from the class path or choose with -D"
              + PROVIDER_PROPERTY
              + "=<class>.");
    }
    return matching.get(0);
  }

  /**
   * What the ServiceLoader found: the providers that loaded and the errors of those that did not.
   */
  private record Loaded(List<OffsetStoreProvider> providers, List<String> failures) {}

  private static Loaded loadProviders() {
    List<OffsetStoreProvider> providers = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    var iterator = ServiceLoader.load(OffsetStoreProvider.class, classLoader()).iterator();
    while (true) {
      try {
        if (!iterator.hasNext()) {
          break;
        }
        providers.add(iterator.next());
      } catch (ServiceConfigurationError e) {
        // A broken provider must be visible, but must not hide the ones that load: the message
        // names its class (ServiceLoader puts it in the error's message).
        log.warn("A Tandem store provider failed to load: {}", e.getMessage(), e);
        failures.add(e.getMessage());
      }
    }
    return new Loaded(providers, failures);
  }

  private static ClassLoader classLoader() {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    return context != null ? context : OffsetStores.class.getClassLoader();
  }

  private static String describe(List<OffsetStoreProvider> providers) {
    return providers.stream()
        .map(
            p -> {
              var source = p.getClass().getProtectionDomain().getCodeSource();
              return p.getClass().getName()
                  + " ("
                  + (source == null ? "unknown jar" : source.getLocation())
                  + ")";
            })
        .collect(Collectors.joining(", "));
  }
}
