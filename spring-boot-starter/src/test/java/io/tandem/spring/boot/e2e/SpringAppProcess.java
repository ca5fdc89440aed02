package io.tandem.spring.boot.e2e;

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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * {@link E2eApplication} in its own JVM: SIGKILL, SIGSTOP/SIGCONT, clean stop, and the {@code @e2e}
 * line protocol. (The end-to-end kit's process harness is moving to the testing module; until it
 * lands this is the same idea for a Spring Boot main class.)
 */
final class SpringAppProcess implements AutoCloseable {

  private final String name;
  private final Process process;
  private final Writer logFile;
  private final PrintWriter stdin;
  private final List<String> events = new ArrayList<>();
  private final Map<String, Long> stats = new HashMap<>();
  private final Thread reader;

  private SpringAppProcess(String name, Process process, Writer logFile) {
    this.name = name;
    this.process = process;
    this.logFile = logFile;
    this.stdin =
        new PrintWriter(
            new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    this.reader = new Thread(this::pump, "e2e-" + name + "-out");
    reader.setDaemon(true);
    reader.start();
  }

  static SpringAppProcess start(
      String name, List<String> jvmOptions, List<String> args, Path logDir) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(E2eApplication.class.getName());
    command.addAll(args);
    try {
      Files.createDirectories(logDir);
      Writer log =
          Files.newBufferedWriter(
              logDir.resolve(name + ".log"),
              StandardCharsets.UTF_8,
              StandardOpenOption.CREATE,
              StandardOpenOption.APPEND);
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      return new SpringAppProcess(name, p, log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  private void pump() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        synchronized (logFile) {
          logFile.write(line);
          logFile.write('\n');
          logFile.flush();
        }
        if (line.startsWith("@e2e ")) {
          onEvent(line.substring(5));
        }
      }
    } catch (IOException e) {
      // closed
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

  synchronized Optional<String> await(String prefix, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (String e : events) {
        if (e.startsWith(prefix)) {
          return Optional.of(e);
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0 || events.contains("exited")) {
        return Optional.empty();
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  synchronized boolean awaitStats(Predicate<Map<String, Long>> condition, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.test(stats)) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || events.contains("exited")) {
        return condition.test(stats);
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  synchronized long stat(String key) {
    return stats.getOrDefault(key, 0L);
  }

  void send(String command) {
    stdin.println(command);
  }

  boolean alive() {
    return process.isAlive();
  }

  String name() {
    return name;
  }

  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " survived SIGKILL for 30 s");
    }
    reader.join(10_000);
  }

  void pause() throws InterruptedException {
    signal("STOP");
  }

  void resume() throws InterruptedException {
    signal("CONT");
  }

  private void signal(String sig) throws InterruptedException {
    try {
      Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).start();
      if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new IllegalStateException("kill -" + sig + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  boolean stop(Duration timeout) throws InterruptedException {
    if (process.isAlive()) {
      send("stop");
    }
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      kill();
      return false;
    }
    reader.join(10_000);
    return process.exitValue() == 0;
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (logFile) {
      try {
        logFile.close();
      } catch (IOException e) {
        // best effort
      }
    }
  }

  @Override
  public String toString() {
    return name + "(pid " + process.pid() + ")";
  }
}
