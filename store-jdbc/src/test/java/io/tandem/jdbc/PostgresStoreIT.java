package io.tandem.jdbc;

/** The JDBC store's own tests on Postgres. */
class PostgresStoreIT extends JdbcStoreContract {
  @Override
  Databases database() {
    return Databases.POSTGRES;
  }
}
