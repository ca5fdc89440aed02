package io.tandem.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;

/**
 * What {@link PostgresServer} and {@link MariaDbServer} share: the connection facts of one SQL
 * server, {@link #connect()}, {@link #newDatabase(String)}, and the {@code TANDEM_<KIND>_URL}
 * override. Package-private: callers keep using the two public classes, whose public methods are
 * these.
 */
abstract class JdbcServer {

  private final AtomicInteger databases = new AtomicInteger();
  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final String description;

  JdbcServer(String jdbcUrl, String user, String password, String description) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.description = description;
  }

  /** A subclass's constructor. */
  interface Factory<S extends JdbcServer> {
    S create(String jdbcUrl, String user, String password, String description);
  }

  /**
   * The server the environment names, if any: {@code <prefix>_URL} with {@code <prefix>_USER} and
   * {@code <prefix>_PASSWORD}.
   *
   * @return the server, or null when {@code <prefix>_URL} is unset or blank
   */
  static <S extends JdbcServer> S fromEnvironment(
      String prefix, String defaultUser, String defaultPassword, Factory<S> factory) {
    String url = System.getenv(prefix + "_URL");
    if (url == null || url.isBlank()) {
      return null;
    }
    return factory.create(
        url,
        Objects.requireNonNullElse(System.getenv(prefix + "_USER"), defaultUser),
        Objects.requireNonNullElse(System.getenv(prefix + "_PASSWORD"), defaultPassword),
        "from " + prefix + "_URL " + url);
  }

  /**
   * JDBC URL of the server's default database ({@code tandem} on MariaDB, {@code postgres} on
   * PostgreSQL, unless the environment names another).
   *
   * @return a JDBC URL without credentials
   */
  public String jdbcUrl() {
    return jdbcUrl;
  }

  /**
   * The user to connect as.
   *
   * @return the user
   */
  public String user() {
    return user;
  }

  /**
   * The user's password.
   *
   * @return the password
   */
  public String password() {
    return password;
  }

  /**
   * How the server was obtained, for logs and reports.
   *
   * @return one line
   */
  public String description() {
    return description;
  }

  /**
   * Opens a connection to the default database.
   *
   * @return a new connection; the caller closes it
   * @throws SQLException if the server refuses
   */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl, user, password);
  }

  /**
   * Creates an empty database for a test that needs isolation beyond unique names.
   *
   * @param prefix a name prefix, {@code [a-z][a-z0-9_]*}
   * @return the JDBC URL of the new database
   */
  public String newDatabase(String prefix) {
    if (!prefix.matches("[a-z][a-z0-9_]{0,30}")) {
      throw new IllegalArgumentException(
          "database prefix must match [a-z][a-z0-9_]{0,30}: " + prefix);
    }
    String name = prefix + "_" + ProcessHandle.current().pid() + "_" + databases.incrementAndGet();
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      // The name is checked above: no quoting issue.
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + " on " + description, e);
    }
    return urlOf(name);
  }

  /**
   * The JDBC URL of another database on this server.
   *
   * @param database an existing database's name
   * @return {@link #jdbcUrl()} with its database replaced
   */
  abstract String urlOf(String database);

  /** Deletes a data directory, logging to the launcher's logger what it could not delete. */
  static void deleteTree(Path dir, Logger log) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("Cannot delete {}", dir, e);
    }
  }
}
