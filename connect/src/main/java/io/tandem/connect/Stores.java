package io.tandem.connect;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import java.util.Locale;
import java.util.Map;

/** Opens a connector's store from inside a Connect plugin. */
final class Stores {

  /** JDBC URL prefix → the driver class that the plugin folder ships for it. */
  private static final Map<String, String> DRIVERS =
      Map.of(
          "jdbc:postgresql:", "org.postgresql.Driver",
          "jdbc:mariadb:", "org.mariadb.jdbc.Driver",
          "jdbc:mysql:", "org.mariadb.jdbc.Driver",
          "jdbc:h2:", "org.h2.Driver");

  private Stores() {}

  /**
   * Opens the store with this plugin's class loader as the context loader, so that ServiceLoader
   * finds the store modules of the plugin folder whichever thread of the worker calls. A JDBC
   * driver registers itself with DriverManager when its class initializes; DriverManager scans the
   * context loader only once per JVM, possibly before this plugin was loaded, so the driver class
   * of the URL is initialized here explicitly.
   */
  static <T> OffsetStore<T> open(TandemSinkConfig config, Class<T> handleType) {
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    ClassLoader own = Stores.class.getClassLoader();
    thread.setContextClassLoader(own);
    try {
      String uri = config.storeUri();
      String lower = uri.toLowerCase(Locale.ROOT);
      DRIVERS.forEach(
          (prefix, driver) -> {
            if (lower.startsWith(prefix)) {
              try {
                Class.forName(driver, true, own);
              } catch (ClassNotFoundException e) {
                // Not in this plugin: the user supplies the driver elsewhere.
              }
            }
          });
      return OffsetStores.open(uri, config.storeProperties(), handleType);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }
}
