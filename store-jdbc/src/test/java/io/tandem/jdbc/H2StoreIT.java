package io.tandem.jdbc;

/** The JDBC store's own tests on H2. */
class H2StoreIT extends JdbcStoreContract {
  @Override
  Databases database() {
    return Databases.H2;
  }
}
