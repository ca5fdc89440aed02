package io.tandem.jdbc;

import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUris;
import java.util.Locale;

/**
 * The SQL dialects the JDBC store speaks. Detected from the JDBC URL ({@code jdbc:postgresql:},
 * {@code jdbc:h2:}, {@code jdbc:mariadb:}, {@code jdbc:mysql:}) or, for a user-supplied {@code
 * DataSource}, from the database's product name; {@link JdbcStoreConfig.Builder#dialect} overrides
 * both (for a proxy driver whose URL says nothing, for example).
 */
public enum JdbcDialect {
  /** PostgreSQL 12 or later (first-class: every test and the benchmark run on it). */
  POSTGRESQL("jdbc:postgresql:", "org.postgresql:postgresql", '"'),
  /** H2 2.x, file or in memory: the embedded default. */
  H2("jdbc:h2:", "com.h2database:h2", '"'),
  /** MariaDB 10.5 or later. */
  MARIADB("jdbc:mariadb:", "org.mariadb.jdbc:mariadb-java-client", '`'),
  /** MySQL 8.0 or later. */
  MYSQL("jdbc:mysql:", "com.mysql:mysql-connector-j", '`');

  private final String urlPrefix;
  private final String driverArtifact;
  private final char quote;

  JdbcDialect(String urlPrefix, String driverArtifact, char quote) {
    this.urlPrefix = urlPrefix;
    this.driverArtifact = driverArtifact;
    this.quote = quote;
  }

  /**
   * The dialect of a JDBC URL.
   *
   * @param url a JDBC URL
   * @return the dialect
   * @throws StoreConfigurationException if the URL names no dialect this store speaks
   */
  public static JdbcDialect fromUrl(String url) {
    String lower = url.toLowerCase(Locale.ROOT);
    for (JdbcDialect d : values()) {
      if (lower.startsWith(d.urlPrefix)) {
        return d;
      }
    }
    throw new StoreConfigurationException(
        "Unknown JDBC dialect in '"
            + StoreUris.mask(url)
            + "': the JDBC store speaks jdbc:postgresql:, jdbc:h2:, jdbc:mariadb: and jdbc:mysql:."
            + " For another URL form of one of these databases set the option dialect"
            + " (postgresql, h2, mariadb, mysql).");
  }

  /**
   * The dialect of a database product name as JDBC metadata reports it.
   *
   * @param productName {@code DatabaseMetaData.getDatabaseProductName()}
   * @return the dialect
   * @throws StoreConfigurationException if the product is not one this store speaks
   */
  static JdbcDialect fromProductName(String productName) {
    String lower = productName.toLowerCase(Locale.ROOT);
    if (lower.contains("postgres")) {
      return POSTGRESQL;
    }
    if (lower.equals("h2")) {
      return H2;
    }
    if (lower.contains("mariadb")) {
      return MARIADB;
    }
    if (lower.contains("mysql")) {
      return MYSQL;
    }
    throw new StoreConfigurationException(
        "Unknown JDBC dialect: the database says it is '"
            + productName
            + "'; the JDBC store speaks PostgreSQL, H2, MariaDB and MySQL.");
  }

  /**
   * Parses an option value such as {@code postgresql}.
   *
   * @param name the name, any case
   * @return the dialect
   * @throws StoreConfigurationException if no dialect has that name
   */
  static JdbcDialect named(String name) {
    for (JdbcDialect d : values()) {
      if (d.name().equalsIgnoreCase(name.trim())) {
        return d;
      }
    }
    throw new StoreConfigurationException(
        "Unknown dialect '" + name + "': expected one of postgresql, h2, mariadb, mysql");
  }

  /** The artifact holding this dialect's usual driver, for the "add this dependency" hint. */
  String driverArtifact() {
    return driverArtifact;
  }

  /**
   * Quotes an identifier already checked against {@link Identifiers}: no quote character can be in
   * it, so quoting cannot be escaped. A schema-qualified name is quoted part by part.
   */
  String quote(String checkedIdentifier) {
    StringBuilder sb = new StringBuilder();
    for (String part : checkedIdentifier.split("\\.")) {
      if (sb.length() > 0) {
        sb.append('.');
      }
      sb.append(quote).append(part).append(quote);
    }
    return sb.toString();
  }

  /** Whether this is MariaDB or MySQL, which share most statements. */
  boolean mysqlFamily() {
    return this == MARIADB || this == MYSQL;
  }

  /** Lower-case name, as in resource files and options. */
  String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}
