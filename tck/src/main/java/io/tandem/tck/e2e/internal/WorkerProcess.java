package io.tandem.tck.e2e.internal;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer worker in its own JVM ({@link Worker}), started with the test's own {@code java} and
 * class path, that can be killed hard (SIGKILL), paused (SIGSTOP/SIGCONT) or stopped cleanly. It
 * reads the worker's protocol lines ({@code @e2e event k=v ...}) from its standard output and
 * copies all output to a log file.
 *
 * <p>Internal: may change in any release.
 */
public final class WorkerProcess implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkerProcess.class);
  static final String PREFIX = "@e2e ";

  private final String name;
  private final Process process;
  private final Writer logFile;
  private final PrintWriter stdin;
  private final List<String> events = new ArrayList<>();
  private final Map<String, Long> stats = new HashMap<>();
  private final Thread reader;

  private WorkerProcess(String name, Process process, Writer logFile) {
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

  /**
   * Forks a worker JVM.
   *
   * @param name the worker's name, for logs
   * @param workerArgs the worker's arguments ({@code --key=value})
   * @param logDir where its output goes ({@code <name>.log})
   * @param jvmOptions extra JVM options (system properties)
   * @return the running worker
   */
  public static WorkerProcess start(
      String name, List<String> workerArgs, Path logDir, List<String> jvmOptions) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Small, quick-starting JVMs: up to a handful run at once on a 2-core machine.
    command.add("-Xmx256m");
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Worker.class.getName());
    command.addAll(workerArgs);
    try {
      Files.createDirectories(logDir);
      Writer logFile =
          Files.newBufferedWriter(
              logDir.resolve(name + ".log"),
              StandardCharsets.UTF_8,
              java.nio.file.StandardOpenOption.CREATE,
              java.nio.file.StandardOpenOption.APPEND);
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      log.debug("worker {} started, pid {}", name, p.pid());
      return new WorkerProcess(name, p, logFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start worker " + name, e);
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
        if (line.startsWith(PREFIX)) {
          onEvent(line.substring(PREFIX.length()));
        }
      }
    } catch (IOException e) {
      log.debug("worker {} output closed: {}", name, e.toString());
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

  /**
   * Waits for an event line (without the prefix) that starts with {@code prefix}; events seen
   * earlier count too.
   *
   * @param prefix the event's beginning, e.g. {@code hang}
   * @param timeout how long to wait
   * @return the event, or empty if none came in time or the worker exited first
   * @throws InterruptedException if interrupted
   */
  public Optional<String> await(String prefix, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (true) {
        for (String e : events) {
          if (e.startsWith(prefix)) {
            return Optional.of(e);
          }
        }
        if (events.contains("exited")) {
          return Optional.empty();
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return Optional.empty();
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  /**
   * Waits until the latest stats satisfy a condition.
   *
   * @param condition on the counters
   * @param timeout how long to wait
   * @return whether the condition held in time
   * @throws InterruptedException if interrupted
   */
  public boolean awaitStats(Predicate<Map<String, Long>> condition, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (!condition.test(stats)) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || events.contains("exited")) {
          return condition.test(stats);
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }
  }

  /**
   * The latest value of a counter the worker reported.
   *
   * @param key the counter, e.g. {@code conflicts}
   * @return its value, 0 if never reported
   */
  public synchronized long stat(String key) {
    return stats.getOrDefault(key, 0L);
  }

  /**
   * Sends a command line to the worker's standard input.
   *
   * @param command e.g. {@code go}, {@code hang}, {@code stop}
   */
  public void send(String command) {
    stdin.println(command);
  }

  /**
   * The worker's name.
   *
   * @return its name
   */
  public String name() {
    return name;
  }

  /**
   * Whether the JVM still runs.
   *
   * @return true while alive
   */
  public boolean alive() {
    return process.isAlive();
  }

  /**
   * Kills the JVM with SIGKILL and waits until it is gone: no shutdown hook, no close, no rollback
   * by the worker itself.
   *
   * @throws InterruptedException if interrupted
   */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("worker " + name + " survived SIGKILL for 30 s");
    }
    drain();
  }

  /**
   * Freezes the JVM (SIGSTOP): no thread runs, no heartbeat is sent.
   *
   * @throws InterruptedException if interrupted
   */
  public void pause() throws InterruptedException {
    signal("STOP");
  }

  /**
   * Thaws a frozen JVM (SIGCONT).
   *
   * @throws InterruptedException if interrupted
   */
  public void resume() throws InterruptedException {
    signal("CONT");
  }

  private void signal(String sig) throws InterruptedException {
    try {
      Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).start();
      if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new IllegalStateException("kill -" + sig + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run kill -" + sig, e);
    }
  }

  /**
   * Asks the worker to close its consumer and exit; kills it if it has not exited in time.
   *
   * @param timeout how long to wait for a clean exit
   * @return whether it exited cleanly with status 0
   * @throws InterruptedException if interrupted
   */
  public boolean stop(Duration timeout) throws InterruptedException {
    if (process.isAlive()) {
      send("stop");
    }
    boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!exited) {
      log.warn("worker {} did not stop within {}; killing it", name, timeout);
      kill();
      return false;
    }
    drain();
    return process.exitValue() == 0;
  }

  private void drain() throws InterruptedException {
    reader.join(TimeUnit.SECONDS.toMillis(10));
  }

  /** Kills the JVM if it still runs and closes its log. */
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
    synchronized (logFile) {
      try {
        logFile.close();
      } catch (IOException e) {
        log.debug("closing log of worker {}: {}", name, e.toString());
      }
    }
  }

  @Override
  public String toString() {
    return name + "(pid " + process.pid() + ")";
  }
}
