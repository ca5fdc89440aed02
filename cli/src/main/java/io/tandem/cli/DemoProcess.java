package io.tandem.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A forked {@link DemoWorker} JVM: start, command, read its counters, kill with SIGKILL. */
final class DemoProcess implements AutoCloseable {

  private final String name;
  private final Process process;
  private final PrintWriter stdin;
  private final Writer log;
  private final List<String> events = new ArrayList<>();
  private final Map<String, Long> stats = new HashMap<>();
  private final Thread reader;

  private DemoProcess(String name, Process process, Writer log) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.stdin =
        new PrintWriter(
            new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    this.reader = new Thread(this::pump, "demo-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  static DemoProcess start(String name, List<String> args, Path logDir) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add(DemoWorker.class.getName());
    cmd.addAll(args);
    try {
      Writer log =
          Files.newBufferedWriter(
              logDir.resolve(name + ".log"),
              StandardCharsets.UTF_8,
              StandardOpenOption.CREATE,
              StandardOpenOption.APPEND);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      return new DemoProcess(name, p, log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start demo worker " + name, e);
    }
  }

  /** This JVM's class path, absolute, so a worker finds it whatever its directory. */
  private static String classPath() {
    List<String> out = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      out.add(Path.of(entry).toAbsolutePath().toString());
    }
    return String.join(java.io.File.pathSeparator, out);
  }

  private void pump() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        synchronized (log) {
          log.write(line);
          log.write('\n');
          log.flush();
        }
        if (line.startsWith(DemoWorker.PREFIX)) {
          onEvent(line.substring(DemoWorker.PREFIX.length()));
        }
      }
    } catch (IOException e) {
      // The process is gone.
    }
    synchronized (this) {
      events.add("exited");
      notifyAll();
    }
  }

  private synchronized void onEvent(String event) {
    if (event.startsWith("stats ")) {
      for (String kv : event.substring(6).trim().split(" ")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          stats.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
        }
      }
    } else {
      events.add(event);
    }
    notifyAll();
  }

  /** Waits for an event starting with {@code prefix}; false on timeout or exit. */
  boolean await(String prefix, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (true) {
        if (events.stream().anyMatch(e -> e.startsWith(prefix))) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || events.contains("exited")) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  synchronized long stat(String key) {
    return stats.getOrDefault(key, 0L);
  }

  synchronized String failure() {
    return events.stream().filter(e -> e.startsWith("failed")).findFirst().orElse(null);
  }

  void send(String command) {
    stdin.println(command);
  }

  String name() {
    return name;
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: no shutdown hook, no close, the open transaction is cut off. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
    reader.join(5_000);
  }

  /** Clean stop; killed if it takes longer than {@code timeout}. */
  void stop(Duration timeout) throws InterruptedException {
    if (process.isAlive()) {
      send("stop");
    }
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      kill();
    }
    reader.join(5_000);
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      try {
        kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
    synchronized (log) {
      try {
        log.close();
      } catch (IOException e) {
        // Nothing left to write.
      }
    }
  }
}
