package io.tandem.testing;

import java.io.BufferedReader;
import java.io.File;
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
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Java main class in its own JVM that a test (or the demo) can kill for real: SIGKILL, SIGSTOP
 * and SIGCONT, or a clean stop. The child speaks a line protocol ({@link ForkChannel}): commands go
 * to its standard input; its standard output carries {@code @fork event ...} lines among its other
 * output, all of which is copied to a log file. {@code stats k=v ...} events update counters that
 * {@link #stat} and {@link #awaitStats} read; other events are kept for {@link #await}.
 *
 * <p>The child runs under {@link ForkWatchdog} with this JVM as its parent, so a test JVM that is
 * itself killed never leaves children running. It gets this JVM's {@code java} and (absolute) class
 * path unless told otherwise, and small, quick-starting JVM flags: several run at once on a 2-core
 * machine.
 */
public final class ForkedJvm implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ForkedJvm.class);

  private final String name;
  private final Process process;
  private final Writer logFile;
  private final PrintWriter stdin;
  private final List<String> events = new ArrayList<>();
  private final Map<String, Long> stats = new HashMap<>();
  private final Thread pump;
  private boolean exited;

  private ForkedJvm(String name, Process process, Writer logFile) {
    this.name = name;
    this.process = process;
    this.logFile = logFile;
    this.stdin =
        new PrintWriter(
            new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    this.pump = new Thread(this::pump, "fork-" + name + "-out");
    pump.setDaemon(true);
    pump.start();
  }

  /**
   * Starts configuring a fork.
   *
   * @param name the fork's name, for logs and its log file {@code <name>.log}
   * @param mainClass the class whose {@code main} runs in the fork
   * @return a builder
   */
  public static Builder builder(String name, String mainClass) {
    return new Builder(name, mainClass);
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
        if (line.startsWith(ForkChannel.PREFIX)) {
          onEvent(line.substring(ForkChannel.PREFIX.length()));
        }
      }
    } catch (IOException e) {
      log.debug("fork {} output closed: {}", name, e.toString());
    }
    synchronized (this) {
      exited = true;
      notifyAll();
    }
  }

  private synchronized void onEvent(String event) {
    if (event.startsWith("stats ")) {
      for (String kv : event.substring(6).trim().split(" ")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          try {
            stats.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
          } catch (NumberFormatException e) {
            log.debug("fork {}: counter {} is not a number", name, kv);
          }
        }
      }
    } else {
      events.add(event);
    }
    notifyAll();
  }

  /**
   * Waits for an event (without the prefix) that starts with {@code prefix}; events seen earlier
   * count too.
   *
   * @param prefix the event's beginning, e.g. {@code started}
   * @param timeout how long to wait
   * @return the event, or empty if none came in time or the fork's output ended first
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
        long left = deadline - System.nanoTime();
        if (left <= 0 || exited) {
          return Optional.empty();
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  /**
   * The first event seen that starts with {@code prefix}, without waiting.
   *
   * @param prefix the event's beginning, e.g. {@code failed}
   * @return the event, or empty
   */
  public synchronized Optional<String> event(String prefix) {
    return events.stream().filter(e -> e.startsWith(prefix)).findFirst();
  }

  /**
   * Waits until the latest counters satisfy a condition.
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
        if (left <= 0 || exited) {
          return condition.test(stats);
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }
  }

  /**
   * The latest value of a counter the fork reported.
   *
   * @param key the counter, e.g. {@code conflicts}
   * @return its value, 0 if never reported
   */
  public synchronized long stat(String key) {
    return stats.getOrDefault(key, 0L);
  }

  /**
   * Sends a command line to the fork's standard input.
   *
   * @param command one line, e.g. {@code stop}
   */
  public void send(String command) {
    stdin.println(command);
  }

  /**
   * The fork's name.
   *
   * @return its name
   */
  public String name() {
    return name;
  }

  /**
   * The fork's process id.
   *
   * @return its pid
   */
  public long pid() {
    return process.pid();
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
   * The JVM's exit status.
   *
   * @return its status, empty while it runs
   */
  public Optional<Integer> exitValue() {
    return process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
  }

  /**
   * Kills the JVM with SIGKILL and waits until it is gone and its output is read: no shutdown hook,
   * no close, an open transaction cut off.
   *
   * @throws InterruptedException if interrupted
   * @throws IllegalStateException if it survives SIGKILL for 30 s
   */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("fork " + this + " survived SIGKILL for 30 s");
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
   * Asks the fork to stop ({@code stop} on its standard input) and waits; kills it if it has not
   * exited in time.
   *
   * @param timeout how long to wait for a clean exit
   * @return whether it exited by itself with status 0
   * @throws InterruptedException if interrupted
   */
  public boolean stop(Duration timeout) throws InterruptedException {
    if (process.isAlive()) {
      send(ForkChannel.STOP);
    }
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      log.warn("fork {} did not stop within {}; killing it", this, timeout);
      kill();
      return false;
    }
    drain();
    return process.exitValue() == 0;
  }

  private void drain() throws InterruptedException {
    pump.join(TimeUnit.SECONDS.toMillis(10));
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
        log.debug("closing the log of fork {}: {}", name, e.toString());
      }
    }
  }

  @Override
  public String toString() {
    return name + "(pid " + process.pid() + ")";
  }

  /** How to start a fork. */
  public static final class Builder {
    private final String name;
    private final String mainClass;
    private final List<String> args = new ArrayList<>();
    private final List<String> jvmOptions = new ArrayList<>();
    private String classPath;
    private Path logDir = Path.of("target", "forks");
    private Duration maxLifetime = Duration.ofMinutes(60);

    private Builder(String name, String mainClass) {
      this.name = Objects.requireNonNull(name, "name must not be null");
      this.mainClass = Objects.requireNonNull(mainClass, "mainClass must not be null");
      if (name.isBlank() || name.contains("/") || name.contains(File.separator)) {
        throw new IllegalArgumentException(
            "a fork's name is a file name part, got name='" + name + "'");
      }
    }

    /**
     * Arguments of the main class.
     *
     * @param args appended in order
     * @return this builder
     */
    public Builder args(List<String> args) {
      this.args.addAll(args);
      return this;
    }

    /**
     * Extra JVM options, such as system properties.
     *
     * @param options appended after the defaults
     * @return this builder
     */
    public Builder jvmOptions(List<String> options) {
      this.jvmOptions.addAll(options);
      return this;
    }

    /**
     * The class path; this JVM's, made absolute, by default.
     *
     * @param classPath entries separated by the platform's path separator
     * @return this builder
     */
    public Builder classPath(String classPath) {
      this.classPath = Objects.requireNonNull(classPath, "classPath must not be null");
      return this;
    }

    /**
     * Where the fork's output goes ({@code <name>.log}, appended); {@code target/forks} by default.
     *
     * @param logDir a directory, created if missing
     * @return this builder
     */
    public Builder logDir(Path logDir) {
      this.logDir = Objects.requireNonNull(logDir, "logDir must not be null");
      return this;
    }

    /**
     * The longest the fork may live before its watchdog halts it; 60 minutes by default.
     *
     * @param maxLifetime a positive duration
     * @return this builder
     */
    public Builder maxLifetime(Duration maxLifetime) {
      if (maxLifetime.isNegative() || maxLifetime.isZero()) {
        throw new IllegalArgumentException("maxLifetime must be positive, got " + maxLifetime);
      }
      this.maxLifetime = maxLifetime;
      return this;
    }

    /**
     * Starts the JVM.
     *
     * @return the running fork
     * @throws UncheckedIOException if the JVM or its log cannot be started
     */
    public ForkedJvm start() {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("-Xmx256m");
      command.add("-XX:+UseSerialGC");
      command.add("-XX:TieredStopAtLevel=1");
      command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
      command.add("-D" + ForkWatchdog.PARENT_PID + "=" + ProcessHandle.current().pid());
      command.add("-D" + ForkWatchdog.MAX_LIFETIME + "=" + maxLifetime);
      command.addAll(jvmOptions);
      command.add("-cp");
      command.add(classPath != null ? classPath : absoluteClassPath());
      command.add(ForkWatchdog.class.getName());
      command.add(mainClass);
      command.addAll(args);
      try {
        Files.createDirectories(logDir);
        Writer logFile =
            Files.newBufferedWriter(
                logDir.resolve(name + ".log"),
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        log.debug("fork {} started: {} (pid {})", name, mainClass, p.pid());
        return new ForkedJvm(name, p, logFile);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start fork " + name + " (" + mainClass + ")", e);
      }
    }

    /** This JVM's class path, absolute, so a fork finds it whatever its directory. */
    private static String absoluteClassPath() {
      List<String> out = new ArrayList<>();
      for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
        if (!entry.isEmpty()) {
          out.add(Path.of(entry).toAbsolutePath().toString());
        }
      }
      return String.join(File.pathSeparator, out);
    }
  }
}
