package io.tandem.testing;

import java.lang.reflect.InvocationTargetException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

/**
 * Main class of a forked server JVM: starts a watchdog thread, then runs the real main class given
 * as first argument. The watchdog halts the JVM when the parent (test) JVM is gone, or when the
 * fork outlives its maximum lifetime, so that a test JVM killed without running its shutdown hooks
 * never leaves a server running. It uses the JDK only: it shares the fork's class path with the
 * server.
 */
public final class ForkWatchdog {

  /** System property: the pid of the JVM that forked this one. */
  public static final String PARENT_PID = "tandem.fork.parentPid";

  /** System property: the longest this fork may live, an ISO-8601 duration such as PT60M. */
  public static final String MAX_LIFETIME = "tandem.fork.maxLifetime";

  private ForkWatchdog() {}

  /**
   * Starts the watchdog, then the server.
   *
   * @param args the server's main class, then its arguments
   * @throws Exception whatever the server's main throws
   */
  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      throw new IllegalArgumentException("usage: ForkWatchdog <main class> [args...]");
    }
    Optional<ProcessHandle> parent =
        Optional.ofNullable(System.getProperty(PARENT_PID))
            .flatMap(pid -> ProcessHandle.of(Long.parseLong(pid)));
    Duration maxLifetime = Duration.parse(System.getProperty(MAX_LIFETIME, "PT60M"));
    long deadline = System.nanoTime() + maxLifetime.toNanos();
    Thread watchdog =
        new Thread(
            () -> {
              while (true) {
                boolean orphan = parent.isPresent() && !parent.get().isAlive();
                if (orphan || System.nanoTime() > deadline) {
                  System.err.println(
                      "[tandem] "
                          + (orphan ? "parent JVM is gone" : "maximum lifetime reached")
                          + ": halting this server");
                  Runtime.getRuntime().halt(3);
                }
                try {
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "tandem-fork-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    try {
      Class.forName(args[0])
          .getMethod("main", String[].class)
          .invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      throw (Error) cause;
    }
  }
}
