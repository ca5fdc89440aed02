package io.tandem.jdbc;

/** The JDBC store's own tests on MariaDb. */
class MariaDbStoreIT extends JdbcStoreContract {
  @Override
  Databases database() {
    return Databases.MARIADB;
  }
}
