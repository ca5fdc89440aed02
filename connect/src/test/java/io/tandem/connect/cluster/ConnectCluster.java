package io.tandem.connect.cluster;

import io.tandem.testing.ForkedJvm;
import io.tandem.testing.FreePorts;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka Connect cluster for tests: distributed workers ({@code ConnectDistributed}), each in
 * its own JVM, sharing one group on a given broker and loading our connectors from the plugin
 * folder the build made. Workers can be added, killed (SIGKILL), paused (SIGSTOP) and resumed.
 */
final class ConnectCluster implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConnectCluster.class);

  /** Jars that must come from the plugin folder, never from the worker's class path. */
  private static final Pattern PLUGIN_ONLY =
      Pattern.compile(
          "(tandem-(?!testing)[a-z-]+|postgresql|mariadb-java-client|h2|jedis|HikariCP)-[0-9].*\\.jar");

  /** One forked worker. */
  static final class Worker {
    final String name;
    final int port;
    final ForkedJvm fork;
    final Path logFile;

    Worker(String name, int port, ForkedJvm fork, Path logFile) {
      this.name = name;
      this.port = port;
      this.fork = fork;
      this.logFile = logFile;
    }

    boolean alive() {
      return fork.alive();
    }

    String log() {
      try {
        return Files.readString(logFile, StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "";
      }
    }

    @Override
    public String toString() {
      return name + "(pid " + fork.pid() + ", port " + port + ")";
    }
  }

  private final String bootstrap;
  private final Path dir;
  private final Map<String, String> extra;
  private final String groupId;
  private final List<Worker> workers = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private int started;
  private Path plugins;

  /** Loads plugins from {@code path} instead of the build's plugin folder. */
  ConnectCluster withPluginPath(Path path) {
    this.plugins = path;
    return this;
  }

  ConnectCluster(String bootstrap, Path dir, String groupId, Map<String, String> extra) {
    this.bootstrap = bootstrap;
    this.dir = dir;
    this.groupId = groupId;
    this.extra = Map.copyOf(extra);
  }

  /** Starts {@code n} workers and waits until every one answers REST and sees the plugin. */
  void start(int n) throws Exception {
    List<Worker> fresh = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      fresh.add(fork());
    }
    for (Worker w : fresh) {
      awaitReady(w);
    }
  }

  /** Adds a worker and waits until it answers. */
  Worker addWorker() throws Exception {
    Worker w = fork();
    awaitReady(w);
    return w;
  }

  List<Worker> workers() {
    return List.copyOf(workers);
  }

  Worker worker(int i) {
    return workers.get(i);
  }

  private Worker fork() throws IOException {
    String name = "worker-" + (++started);
    int port = FreePorts.next();
    Properties p = new Properties();
    p.setProperty("bootstrap.servers", bootstrap);
    p.setProperty("group.id", groupId);
    p.setProperty("config.storage.topic", groupId + "-configs");
    p.setProperty("offset.storage.topic", groupId + "-offsets");
    p.setProperty("status.storage.topic", groupId + "-status");
    p.setProperty("config.storage.replication.factor", "1");
    p.setProperty("offset.storage.replication.factor", "1");
    p.setProperty("status.storage.replication.factor", "1");
    p.setProperty("offset.storage.partitions", "1");
    p.setProperty("status.storage.partitions", "1");
    p.setProperty("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    p.setProperty("value.converter", "org.apache.kafka.connect.json.JsonConverter");
    p.setProperty("value.converter.schemas.enable", "false");
    p.setProperty("listeners", "http://127.0.0.1:" + port);
    p.setProperty("rest.advertised.host.name", "127.0.0.1");
    p.setProperty("rest.advertised.port", Integer.toString(port));
    p.setProperty("plugin.path", (plugins != null ? plugins : pluginPath()).toString());
    // Only plugins with ServiceLoader manifests (ours, Kafka's): no class path scan at start.
    p.setProperty("plugin.discovery", "service_load");
    // Connect calls preCommit every second: Kafka's view of the sink follows the store closely.
    p.setProperty("offset.flush.interval.ms", "1000");
    // Quick failure detection, so that scenarios take seconds, not minutes.
    p.setProperty("session.timeout.ms", "6000");
    p.setProperty("heartbeat.interval.ms", "1000");
    p.setProperty("rebalance.timeout.ms", "20000");
    p.setProperty("scheduled.rebalance.max.delay.ms", "3000");
    p.setProperty("task.shutdown.graceful.timeout.ms", "5000");
    p.setProperty("consumer.session.timeout.ms", "6000");
    p.setProperty("consumer.heartbeat.interval.ms", "1000");
    p.setProperty("consumer.max.poll.records", "200");
    p.setProperty("consumer.metadata.max.age.ms", "2000");
    extra.forEach(p::setProperty);
    Files.createDirectories(dir);
    Path props = dir.resolve(name + ".properties");
    try (var out = Files.newBufferedWriter(props, StandardCharsets.UTF_8)) {
      p.store(out, "Connect worker " + name);
    }
    Path logFile = dir.resolve(name + ".log");
    // The shared harness: watchdog, log file, SIGKILL/SIGSTOP/SIGCONT. Later options win over its
    // small defaults (heap).
    ForkedJvm fork =
        ForkedJvm.builder(name, "org.apache.kafka.connect.cli.ConnectDistributed")
            .args(List.of(props.toString()))
            .classPath(workerClassPath())
            .logDir(dir)
            .maxLifetime(Duration.ofMinutes(30))
            .jvmOptions(
                List.of(
                    "-Xms64m",
                    "-Xmx" + System.getProperty("tandem.connect.worker.heap", "384m"),
                    "-Dorg.slf4j.simpleLogger.log.io.tandem=info",
                    "-Dorg.slf4j.simpleLogger.showDateTime=true"))
            .start();
    Worker w = new Worker(name, port, fork, logFile);
    workers.add(w);
    log.info("Connect {} starting, log {}", w, logFile);
    return w;
  }

  static Path pluginPath() {
    String configured = System.getProperty("tandem.connect.plugin.path");
    Path p = Path.of(configured != null ? configured : "target/plugin").toAbsolutePath();
    if (!Files.isDirectory(p.resolve("tandem-connect"))) {
      throw new IllegalStateException(
          "no Connect plugin folder at "
              + p
              + "/tandem-connect: run the ITs through 'mvn verify' (the package phase builds it)");
    }
    return p;
  }

  /**
   * The test's class path without our connectors, store modules and drivers: the worker must load
   * them from the plugin folder, exactly as a user's worker does. The testing module stays (the
   * fork watchdog).
   */
  static String workerClassPath() {
    List<String> kept = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      String file = path.getFileName() == null ? "" : path.getFileName().toString();
      if (Files.isDirectory(path)) {
        if (Files.exists(path.resolve("io/tandem/testing/ForkWatchdog.class"))) {
          kept.add(entry);
        }
        continue;
      }
      if (PLUGIN_ONLY.matcher(file).matches()) {
        continue;
      }
      kept.add(entry);
    }
    return String.join(File.pathSeparator, kept);
  }

  private void awaitReady(Worker w) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (true) {
      if (!w.alive()) {
        throw new IllegalStateException("Connect " + w + " exited at start:\n" + tail(w, 60));
      }
      try {
        HttpResponse<String> r = get(w, "/connector-plugins");
        if (r.statusCode() == 200 && r.body().contains("TandemJdbcSinkConnector")) {
          log.info("Connect {} ready", w);
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("Connect " + w + " not ready in 120 s:\n" + tail(w, 60));
      }
      TimeUnit.MILLISECONDS.sleep(250);
    }
  }

  static String tail(Worker w, int lines) {
    List<String> all = w.log().lines().collect(Collectors.toList());
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  /** A live worker to send REST requests to. */
  Worker anyLive() {
    for (Worker w : workers) {
      if (w.alive() && !paused.contains(w)) {
        return w;
      }
    }
    throw new IllegalStateException("no live Connect worker");
  }

  private final List<Worker> paused = new ArrayList<>();

  HttpResponse<String> get(Worker w, String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + w.port + path))
            .timeout(Duration.ofSeconds(30))
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Sends a request to a live worker, retrying while the cluster rebalances (409) or forwards. */
  HttpResponse<String> request(String method, String path, String json) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (true) {
      Worker w = anyLive();
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + w.port + path))
              .timeout(Duration.ofSeconds(60))
              .header("Content-Type", "application/json");
      b.method(
          method,
          json == null
              ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofString(json));
      HttpResponse<String> r;
      try {
        r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        TimeUnit.MILLISECONDS.sleep(500);
        continue;
      }
      boolean retry = r.statusCode() == 409 || r.statusCode() >= 500;
      if (!retry || System.nanoTime() > deadline) {
        return r;
      }
      TimeUnit.MILLISECONDS.sleep(500);
    }
  }

  HttpResponse<String> expect(int status, String method, String path, String json)
      throws Exception {
    HttpResponse<String> r = request(method, path, json);
    if (r.statusCode() / 100 != status / 100) {
      throw new IllegalStateException(
          method + " " + path + " answered " + r.statusCode() + ": " + r.body());
    }
    return r;
  }

  /** Creates or updates a connector. */
  void putConnector(String name, Map<String, String> config) throws Exception {
    expect(200, "PUT", "/connectors/" + name + "/config", Json.object(config));
  }

  String status(String name) throws Exception {
    HttpResponse<String> r = request("GET", "/connectors/" + name + "/status", null);
    return r.statusCode() == 200 ? r.body() : "";
  }

  /** Waits until the connector and {@code tasks} tasks are RUNNING. */
  void awaitRunning(String name, int tasks, Duration timeout) throws Exception {
    awaitStatus(
        name,
        s -> count(s, "\"state\":\"RUNNING\"") >= tasks + 1,
        "connector and " + tasks + " tasks RUNNING",
        timeout);
  }

  String awaitStatus(String name, Predicate<String> condition, String what, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String s = "";
    while (System.nanoTime() < deadline) {
      s = status(name);
      if (condition.test(s)) {
        return s;
      }
      TimeUnit.MILLISECONDS.sleep(300);
    }
    throw new IllegalStateException(name + ": not " + what + " within " + timeout + ": " + s);
  }

  static int count(String s, String needle) {
    int n = 0;
    for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  void stopConnector(String name) throws Exception {
    expect(202, "PUT", "/connectors/" + name + "/stop", null);
    awaitStatus(name, s -> s.contains("\"state\":\"STOPPED\""), "STOPPED", Duration.ofSeconds(60));
  }

  void resumeConnector(String name) throws Exception {
    expect(202, "PUT", "/connectors/" + name + "/resume", null);
  }

  void deleteConnector(String name) throws Exception {
    request("DELETE", "/connectors/" + name, null);
  }

  /** SIGKILL: no shutdown, no close, no rollback by the worker. */
  void kill(Worker w) throws InterruptedException {
    w.fork.kill();
    log.info("Connect {} killed", w);
  }

  /** A clean stop (SIGTERM): Connect stops its tasks and leaves the group. */
  void stop(Worker w) throws Exception {
    // SIGTERM: Connect's shutdown hook stops the tasks and leaves the group.
    signal(w, "TERM");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (w.alive() && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(100);
    }
    if (w.alive()) {
      kill(w);
    }
    log.info("Connect {} stopped", w);
  }

  void pause(Worker w) throws Exception {
    w.fork.pause();
    paused.add(w);
  }

  void resume(Worker w) throws Exception {
    w.fork.resume();
    paused.remove(w);
  }

  private static void signal(Worker w, String sig) throws Exception {
    Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(w.fork.pid())).start();
    if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
      throw new IllegalStateException("kill -" + sig + " " + w + " failed");
    }
  }

  /** Every worker's log, for counting events across the cluster. */
  String logs() {
    return workers.stream().map(Worker::log).collect(Collectors.joining("\n"));
  }

  @Override
  public void close() {
    for (Worker w : workers) {
      if (paused.contains(w)) {
        try {
          w.fork.resume();
        } catch (Exception e) {
          log.debug("resume before close: {}", e.toString());
        }
      }
      w.fork.close();
    }
  }

  /** Minimal JSON for connector configurations (string values only). */
  static final class Json {
    private Json() {}

    static String object(Map<String, ?> map) {
      Map<String, Object> ordered = new LinkedHashMap<>(map);
      return ordered.entrySet().stream()
          .map(e -> quote(e.getKey()) + ":" + value(e.getValue()))
          .collect(Collectors.joining(",", "{", "}"));
    }

    private static String value(Object v) {
      if (v == null) {
        return "null";
      }
      if (v instanceof Number || v instanceof Boolean) {
        return v.toString();
      }
      if (v instanceof Map<?, ?> m) {
        @SuppressWarnings("unchecked")
        Map<String, ?> typed = (Map<String, ?>) m;
        return object(typed);
      }
      if (v instanceof List<?> l) {
        return l.stream().map(Json::value).collect(Collectors.joining(",", "[", "]"));
      }
      return quote(v.toString());
    }

    static String quote(String s) {
      StringBuilder b = new StringBuilder("\"");
      for (char c : s.toCharArray()) {
        switch (c) {
          case '"' -> b.append("\\\"");
          case '\\' -> b.append("\\\\");
          case '\n' -> b.append("\\n");
          default -> b.append(c);
        }
      }
      return b.append('"').toString();
    }
  }
}
