package io.tandem.spark.it;

import io.tandem.testing.ForkWatchdog;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A Spark driver ({@link SparkDriverMain}) in its own JVM, killed for real with SIGKILL. Its output
 * goes to {@code target/forks/<name>.log}; lines starting with {@value #EVENT} are events the test
 * waits for.
 */
final class DriverFork implements AutoCloseable {

  static final String EVENT = "@fork ";

  private final String name;
  private final Process process;
  private final List<String> events = new ArrayList<>();
  private final Thread pump;

  private DriverFork(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.pump = new Thread(() -> pump(log), "fork-" + name);
    pump.setDaemon(true);
    pump.start();
  }

  static DriverFork start(String name, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx768m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1"); // quicker start: the driver restarts several times
    cmd.addAll(Arrays.asList(System.getProperty("tandem.spark.jvmFlags", "").trim().split("\\s+")));
    cmd.add("-D" + ForkWatchdog.PARENT_PID + "=" + ProcessHandle.current().pid());
    cmd.add("-D" + ForkWatchdog.MAX_LIFETIME + "=PT20M");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ForkWatchdog.class.getName());
    cmd.add(SparkDriverMain.class.getName());
    cmd.addAll(args);
    cmd.removeIf(String::isEmpty);
    try {
      Path dir = Path.of("target", "forks");
      Files.createDirectories(dir);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      return new DriverFork(name, p, dir.resolve(name + ".log"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start driver " + name, e);
    }
  }

  private void pump(Path log) {
    try (BufferedReader in =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Writer out =
            Files.newBufferedWriter(
                log,
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
      String line;
      while ((line = in.readLine()) != null) {
        out.write(line);
        out.write('\n');
        out.flush();
        if (line.startsWith(EVENT)) {
          synchronized (this) {
            events.add(line.substring(EVENT.length()));
            notifyAll();
          }
        }
      }
    } catch (IOException e) {
      // the process is gone
    }
    synchronized (this) {
      notifyAll();
    }
  }

  /** Waits for the {@code n}-th event (counting from 1) that starts with {@code prefix}. */
  synchronized Optional<String> await(String prefix, int n, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<String> seen = events.stream().filter(e -> e.startsWith(prefix)).toList();
      if (seen.size() >= n) {
        return Optional.of(seen.get(n - 1));
      }
      long left = deadline - System.nanoTime();
      if (left <= 0 || !process.isAlive()) {
        return Optional.empty();
      }
      TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(500)));
    }
  }

  synchronized long count(String prefix) {
    return events.stream().filter(e -> e.startsWith(prefix)).count();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: no shutdown hook, no close; an open store transaction is cut off. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("driver " + name + " survived SIGKILL for 30 s");
    }
    pump.join(10_000);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }

  @Override
  public String toString() {
    return name + "(pid " + process.pid() + ")";
  }
}
