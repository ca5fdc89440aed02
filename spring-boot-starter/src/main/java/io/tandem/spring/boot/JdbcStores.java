package io.tandem.spring.boot;

import com.zaxxer.hikari.HikariDataSource;
import io.tandem.jdbc.JdbcOffsetStore;
import io.tandem.jdbc.JdbcStoreConfig;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.StoreUris;
import io.tandem.spring.TandemConfigurationException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The JDBC store on the application's DataSource. Only loaded when tandem-store-jdbc and
 * spring-jdbc are on the class path.
 */
final class JdbcStores {

  private JdbcStores() {}

  /**
   * Opens the JDBC store on the application's DataSource, behind a transaction-aware proxy: inside
   * a Spring transaction the store uses that transaction's connection, so the listener's Spring
   * JDBC code and the offsets are one database transaction.
   *
   * @throws TandemConfigurationException if the URI names another database
   */
  static OffsetStore<?> openOnDataSource(String uri, Map<String, String> props, DataSource ds) {
    String dsUrl = url(ds);
    if (dsUrl == null
        || !TandemStoreFactory.normalize(dsUrl).equals(TandemStoreFactory.normalize(uri))) {
      throw new TandemConfigurationException(
          "tandem.store.uri ("
              + StoreUris.mask(uri)
              + ") is not the application's DataSource ("
              + (dsUrl == null ? "URL unknown" : StoreUris.mask(dsUrl))
              + "). Offsets in another database cannot commit in the same transaction as the"
              + " listener's writes. Set tandem.store.uri=${spring.datasource.url}, or write"
              + " results through the store's Connection parameter and remove the DataSource.");
    }
    return JdbcOffsetStore.open(
        new TransactionAwareDataSourceProxy(ds), JdbcStoreConfig.fromUri(uri, props));
  }

  static String url(DataSource ds) {
    try {
      if (ds.isWrapperFor(HikariDataSource.class)) {
        String u = ds.unwrap(HikariDataSource.class).getJdbcUrl();
        if (u != null) {
          return u;
        }
      }
    } catch (SQLException | NoClassDefFoundError e) {
      // Not Hikari: ask the driver.
    }
    try (Connection c = ds.getConnection()) {
      return c.getMetaData().getURL();
    } catch (SQLException e) {
      return null;
    }
  }

  /**
   * The transaction manager that covers the DataSource: the application's, if it has one for this
   * DataSource; a new one if the application has none at all.
   *
   * @throws TandemConfigurationException if the application's transaction managers do not cover the
   *     DataSource
   */
  static PlatformTransactionManager transactionManager(
      DataSource ds, java.util.List<PlatformTransactionManager> managers) {
    for (PlatformTransactionManager m : managers) {
      if (m instanceof DataSourceTransactionManager dstm
          && sameDataSource(dstm.getDataSource(), ds)) {
        return m;
      }
    }
    if (managers.isEmpty()) {
      return new DataSourceTransactionManager(ds);
    }
    StringBuilder found = new StringBuilder();
    managers.forEach(
        m -> found.append(found.length() == 0 ? "" : ", ").append(m.getClass().getName()));
    throw new TandemConfigurationException(
        "No transaction manager of the application covers the DataSource that keeps Tandem's"
            + " offsets (found: "
            + found
            + "). Tandem runs each batch in a Spring transaction on that DataSource so that the"
            + " listener's JDBC writes and the offsets commit together; it needs a"
            + " DataSourceTransactionManager (or JdbcTransactionManager) for it. JPA's"
            + " transaction manager is not supported: it flushes at its own commit, after the"
            + " offsets.");
  }

  private static boolean sameDataSource(DataSource a, DataSource b) {
    return unwrap(a) == unwrap(b);
  }

  private static DataSource unwrap(DataSource ds) {
    DataSource d = ds;
    while (d instanceof TransactionAwareDataSourceProxy p && p.getTargetDataSource() != null) {
      d = p.getTargetDataSource();
    }
    return d;
  }

  static boolean isJdbcStore(OffsetStore<?> store) {
    return store instanceof JdbcOffsetStore;
  }
}
