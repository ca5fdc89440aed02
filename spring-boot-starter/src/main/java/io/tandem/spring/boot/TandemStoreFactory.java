package io.tandem.spring.boot;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spring.TandemConfigurationException;
import java.util.Locale;
import java.util.Map;

/** Opens the store of {@code tandem.store.*} (see {@link JdbcStores} for the DataSource case). */
final class TandemStoreFactory {

  private TandemStoreFactory() {}

  static String requireUri(TandemProperties properties) {
    String uri = properties.getStore().getUri();
    if (uri == null || uri.isBlank()) {
      throw new TandemConfigurationException(
          "tandem.store.uri is not set: Tandem needs the store that keeps the consumer positions,"
              + " for example tandem.store.uri=${spring.datasource.url} (the application's"
              + " database, in its transactions) or redis://host:6379. Or define an OffsetStore"
              + " bean, or set tandem.enabled=false.");
    }
    return uri.trim();
  }

  static boolean isJdbc(String uri) {
    return uri.regionMatches(true, 0, "jdbc:", 0, 5);
  }

  /** Opens a store through the providers on the class path (ServiceLoader). */
  static OffsetStore<?> open(String uri, Map<String, String> props) {
    return OffsetStores.open(uri, props);
  }

  /** Scheme, host, port and database, without parameters: what decides "the same database". */
  static String normalize(String url) {
    String u = url.trim();
    int cut = u.length();
    for (char c : new char[] {'?', ';'}) {
      int i = u.indexOf(c);
      if (i >= 0 && i < cut) {
        cut = i;
      }
    }
    u = u.substring(0, cut);
    while (u.endsWith("/")) {
      u = u.substring(0, u.length() - 1);
    }
    return u.toLowerCase(Locale.ROOT);
  }
}
