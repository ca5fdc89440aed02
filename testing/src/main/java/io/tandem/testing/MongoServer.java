package io.tandem.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MongoDB servers for tests. No real {@code mongod} can be had on the build machine, so two
 * emulators stand in, and a real server is used whenever one is given:
 *
 * <ol>
 *   <li>{@link #best()}: the best server with transactions available, in this order:
 *       <ol>
 *         <li>{@code TANDEM_MONGODB_URI}: a real MongoDB of yours (any topology), used as is;
 *         <li>Testcontainers' {@code mongo:8.0} single-node replica set, when {@link
 *             Docker#available()};
 *         <li>the jongodb emulator (npm {@code @jongodb/memory-server-bin-linux-x64-gnu@0.1.6}), a
 *             native reimplementation started with a single-node replica-set profile where
 *             transactions work. Installed at test time with {@code npm install --prefix} into
 *             {@code <tmp>/tandem-jongodb-0.1.6} (or taken from {@code TANDEM_JONGODB_BIN}), then
 *             run as {@code bin/jongodb -Xmx2g --host=127.0.0.1 --port=0
 *             --topology-profile=singleNodeReplicaSet --replica-set-name=tandem-rs}; it prints
 *             {@code JONGODB_URI=mongodb://127.0.0.1:<port>/test?replicaSet=tandem-rs} on standard
 *             output when ready, or {@code JONGODB_START_FAILURE=...}.
 *       </ol>
 *       Empty, with {@link #bestUnavailableReason()}, when none of them can run.
 *   <li>{@link #inProcess()}: {@code de.bwaldvogel:mongo-java-server} in this JVM: a standalone
 *       server without sessions or transactions. Always available.
 * </ol>
 *
 * <p>Each server starts once per JVM, on a free loopback port, and stops at JVM exit. Each run
 * prints which one it used through {@link ServerLog#using}, and says so when it is an emulator: an
 * emulator is not MongoDB, so a pass on it is not a pass on MongoDB.
 */
public final class MongoServer {

  private static final Logger log = LoggerFactory.getLogger(MongoServer.class);

  /** Environment variable naming a real MongoDB to test against. */
  public static final String ENV_URI = "TANDEM_MONGODB_URI";

  /** Environment variable naming an installed jongodb binary, to skip the npm install. */
  public static final String ENV_JONGODB_BIN = "TANDEM_JONGODB_BIN";

  /** The npm package of the jongodb emulator used. */
  public static final String JONGODB_PACKAGE = "@jongodb/memory-server-bin-linux-x64-gnu";

  /** Its version. */
  public static final String JONGODB_VERSION = "0.1.6";

  private static final String JONGODB_HEAP = "2g";
  private static final String CONTAINER_IMAGE = "mongo:8.0";
  private static final String REPLICA_SET = "tandem-rs";
  private static final Pattern SHA256 = Pattern.compile("\"sha256\"\\s*:\\s*\"([0-9a-f]{64})\"");

  /** Where a server came from. */
  public enum Kind {
    /** A real MongoDB from {@value MongoServer#ENV_URI}. */
    ENVIRONMENT,
    /** A real MongoDB in a Testcontainers container. */
    CONTAINER,
    /** The jongodb emulator (replica-set profile). */
    JONGODB,
    /** The in-process mongo-java-server emulator (standalone). */
    MONGO_JAVA_SERVER
  }

  /**
   * One running server.
   *
   * @param uri its connection string
   * @param description what it is and where, for logs and skip messages
   * @param kind where it came from
   */
  public record Instance(String uri, String description, Kind kind) {

    /**
     * Whether this is an emulator, not MongoDB: a pass on it is not a pass on MongoDB.
     *
     * @return true for jongodb and mongo-java-server
     */
    public boolean emulator() {
      return kind == Kind.JONGODB || kind == Kind.MONGO_JAVA_SERVER;
    }
  }

  private MongoServer() {}

  /**
   * The best server with transactions this machine offers: a real one from {@value #ENV_URI}, else
   * a Testcontainers replica set, else the jongodb replica-set emulator.
   *
   * @return the server, or empty when none can run (see {@link #bestUnavailableReason()})
   */
  public static Optional<Instance> best() {
    return Optional.ofNullable(Best.INSTANCE);
  }

  /**
   * Why {@link #best()} is empty.
   *
   * @return the reason, or null when a server runs
   */
  public static String bestUnavailableReason() {
    return Best.REASON;
  }

  /**
   * The in-process emulator ({@code de.bwaldvogel:mongo-java-server}, in-memory): a standalone
   * server without sessions or transactions. Needs that artifact on the test class path.
   *
   * @return the server
   */
  public static Instance inProcess() {
    return InProcess.INSTANCE;
  }

  // ------------------------------------------------------------------ best

  private static final class Best {
    static final Instance INSTANCE;
    static final String REASON;

    static {
      Instance found = null;
      String reason = null;
      String env = System.getenv(ENV_URI);
      if (env != null && !env.isBlank()) {
        found = new Instance(env, "real MongoDB from " + ENV_URI, Kind.ENVIRONMENT);
        ServerLog.using("MongoDB", "from " + ENV_URI + " (a real server of yours)");
      } else if (Docker.available()) {
        found = container();
      } else {
        String[] why = new String[1];
        found = jongodb(why);
        reason = why[0];
      }
      INSTANCE = found;
      REASON = found == null ? reason : null;
    }
  }

  private static Instance container() {
    org.testcontainers.mongodb.MongoDBContainer c =
        new org.testcontainers.mongodb.MongoDBContainer(CONTAINER_IMAGE);
    c.start();
    Runtime.getRuntime().addShutdownHook(new Thread(c::stop, "mongodb-container-stop"));
    String uri = c.getReplicaSetUrl("tandem");
    ServerLog.using(
        "MongoDB", "Testcontainers " + CONTAINER_IMAGE + " single-node replica set at " + uri);
    return new Instance(
        uri, "MongoDB " + CONTAINER_IMAGE + " (Testcontainers replica set)", Kind.CONTAINER);
  }

  // ------------------------------------------------------------------ jongodb

  private static Instance jongodb(String[] why) {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      why[0] =
          "no MongoDB with transactions: "
              + ENV_URI
              + " is unset, no Docker engine, and the jongodb emulator ships for linux-x64 only"
              + " (this is "
              + os
              + "/"
              + arch
              + ")";
      return null;
    }
    Path binary;
    try {
      binary = jongodbBinary(why);
    } catch (IOException | RuntimeException e) {
      why[0] = "no MongoDB with transactions: installing the jongodb emulator failed: " + e;
      return null;
    }
    if (binary == null) {
      return null;
    }
    try {
      return startJongodb(binary);
    } catch (IOException | RuntimeException e) {
      why[0] = "no MongoDB with transactions: the jongodb emulator did not start: " + e;
      return null;
    }
  }

  /** The binary: from {@value #ENV_JONGODB_BIN}, a previous install, or npm now. */
  private static Path jongodbBinary(String[] why) throws IOException {
    String given = System.getenv(ENV_JONGODB_BIN);
    if (given != null && !given.isBlank()) {
      Path p = Paths.get(given);
      if (!Files.isExecutable(p)) {
        throw new IOException(ENV_JONGODB_BIN + "=" + given + " is not an executable file");
      }
      return p;
    }
    Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "tandem-jongodb-" + JONGODB_VERSION);
    Path pkg = dir.resolve("node_modules").resolve(JONGODB_PACKAGE);
    Path binary = pkg.resolve("bin").resolve("jongodb");
    Files.createDirectories(dir);
    // Several test JVMs may want it at once: one installs, the others wait and reuse it.
    try (FileChannel ch =
            FileChannel.open(
                dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = ch.lock()) {
      log.debug("holding {}", lock);
      if (!verified(pkg, binary)) {
        String npm = onPath("npm");
        if (npm == null) {
          why[0] =
              "no MongoDB with transactions: "
                  + ENV_URI
                  + " is unset, no Docker engine, and npm is not on the PATH to install the"
                  + " jongodb emulator ("
                  + JONGODB_PACKAGE
                  + "@"
                  + JONGODB_VERSION
                  + ")";
          return null;
        }
        Path npmLog = dir.resolve("npm-install.log");
        Process p =
            new ProcessBuilder(
                    npm,
                    "install",
                    "--prefix",
                    dir.toString(),
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    JONGODB_PACKAGE + "@" + JONGODB_VERSION)
                .redirectErrorStream(true)
                .redirectOutput(npmLog.toFile())
                .start();
        boolean done;
        try {
          done = p.waitFor(180, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          p.destroyForcibly();
          throw new IOException("interrupted while npm installed jongodb", e);
        }
        if (!done) {
          p.destroyForcibly();
          throw new IOException("npm install of jongodb took over 180 s (log: " + npmLog + ")");
        }
        if (p.exitValue() != 0 || !verified(pkg, binary)) {
          throw new IOException(
              "npm install of "
                  + JONGODB_PACKAGE
                  + "@"
                  + JONGODB_VERSION
                  + " exited "
                  + p.exitValue()
                  + " without a verified binary; log: "
                  + npmLog
                  + ": "
                  + tail(npmLog));
        }
        log.info("installed {}@{} into {}", JONGODB_PACKAGE, JONGODB_VERSION, dir);
      }
    }
    return binary;
  }

  /** The binary exists, is executable and matches the sha256 its package.json declares. */
  private static boolean verified(Path pkg, Path binary) throws IOException {
    Path manifest = pkg.resolve("package.json");
    if (!Files.isRegularFile(manifest) || !Files.isRegularFile(binary)) {
      return false;
    }
    Matcher m = SHA256.matcher(Files.readString(manifest));
    if (!m.find()) {
      return false;
    }
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      String actual = HexFormat.of().formatHex(sha.digest(Files.readAllBytes(binary)));
      if (!actual.equals(m.group(1))) {
        log.warn(
            "jongodb binary {} has sha256 {}, package.json says {}", binary, actual, m.group(1));
        return false;
      }
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return Files.isExecutable(binary) || binary.toFile().setExecutable(true);
  }

  private static Instance startJongodb(Path binary) throws IOException {
    Path logFile = Files.createTempFile("tandem-jongodb-", ".log");
    Process p =
        new ProcessBuilder(
                binary.toString(),
                // A GraalVM native image: its heap grows to a share of the machine's memory by
                // default. Seen here: 19.7 GB resident and the kernel's OOM killer, while it
                // evaluated a commit of 10,000 ranges. Capped, it fails alone with
                // "OutOfMemoryError: Garbage-collected heap size exceeded".
                "-Xmx" + JONGODB_HEAP,
                "--host=127.0.0.1",
                // Port 0: the emulator binds a free port itself and prints it, so no race with
                // another process for a port picked in advance.
                "--port=0",
                "--topology-profile=singleNodeReplicaSet",
                "--replica-set-name=" + REPLICA_SET)
            .redirectErrorStream(true)
            .start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(p), "jongodb-stop"));
    CompletableFuture<String> ready = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                  var out = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
                String line;
                while ((line = in.readLine()) != null) {
                  out.write(line);
                  out.newLine();
                  out.flush();
                  if (line.startsWith("JONGODB_URI=")) {
                    ready.complete(line.substring("JONGODB_URI=".length()).trim());
                  } else if (line.startsWith("JONGODB_START_FAILURE=")) {
                    ready.completeExceptionally(new IOException(line));
                  }
                }
                ready.completeExceptionally(
                    new IOException("jongodb exited with " + p.waitFor() + "; log " + logFile));
              } catch (IOException | InterruptedException e) {
                ready.completeExceptionally(e);
              }
            },
            "jongodb-output");
    reader.setDaemon(true);
    reader.start();
    String uri;
    try {
      uri = ready.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      stop(p);
      throw new IOException(e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      stop(p);
      throw new IOException("jongodb printed no JONGODB_URI within 30 s; log " + logFile, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop(p);
      throw new IOException("interrupted while jongodb started", e);
    }
    String how =
        "EMULATOR, not MongoDB: jongodb "
            + JONGODB_VERSION
            + " (npm "
            + JONGODB_PACKAGE
            + ", native reimplementation, single-node replica-set profile with transactions) at "
            + uri
            + " (pid "
            + p.pid()
            + ", log "
            + logFile
            + ")";
    ServerLog.using("MongoDB", how);
    return new Instance(
        uri, "jongodb " + JONGODB_VERSION + " emulator (replica-set profile)", Kind.JONGODB);
  }

  private static void stop(Process p) {
    if (!p.isAlive()) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  private static String onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String d : path.split(java.io.File.pathSeparator)) {
      Path candidate = Paths.get(d, command);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    return null;
  }

  private static String tail(Path file) {
    try {
      String s = Files.readString(file);
      return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ------------------------------------------------------------------ in-process

  private static final class InProcess {
    static final Instance INSTANCE = start();

    private static Instance start() {
      de.bwaldvogel.mongo.MongoServer server =
          new de.bwaldvogel.mongo.MongoServer(
              new de.bwaldvogel.mongo.backend.memory.MemoryBackend());
      InetSocketAddress address;
      try {
        // bind() picks a free port on loopback itself.
        address = server.bind();
      } catch (RuntimeException | Error e) {
        // Its netty threads are not daemons: never leave them behind a failed start.
        server.shutdownNow();
        throw e;
      }
      Runtime.getRuntime()
          .addShutdownHook(new Thread(server::shutdownNow, "mongo-java-server-stop"));
      String where = address.getHostString() + ":" + address.getPort();
      ServerLog.using(
          "MongoDB",
          "EMULATOR, not MongoDB: in-process de.bwaldvogel:mongo-java-server 1.47.0 (in-memory,"
              + " standalone, no sessions or transactions) on "
              + where);
      return new Instance(
          "mongodb://" + where,
          "mongo-java-server 1.47.0 emulator (standalone, in-process)",
          Kind.MONGO_JAVA_SERVER);
    }
  }
}
