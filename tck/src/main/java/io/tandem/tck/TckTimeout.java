package io.tandem.tck;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * Bounds every test and lifecycle method of the kit by {@code tandem.tck.timeout} seconds, so a
 * store that hangs (a lock never released, a transaction left open, an unreachable server) fails
 * its rule instead of hanging the build. The body runs on a daemon thread; on timeout the failure
 * carries that thread's stack, which shows where the store blocked.
 */
final class TckTimeout implements InvocationInterceptor {

  /** The system property: seconds, default {@value #DEFAULT_SECONDS}. */
  static final String PROPERTY = "tandem.tck.timeout";

  static final long DEFAULT_SECONDS = 60;

  /** The configured timeout; a bad value fails loudly rather than silently using the default. */
  static Duration timeout() {
    String value = System.getProperty(PROPERTY);
    if (value == null || value.isBlank()) {
      return Duration.ofSeconds(DEFAULT_SECONDS);
    }
    long seconds;
    try {
      seconds = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          PROPERTY + " must be a whole number of seconds > 0, got '" + value + "'", e);
    }
    if (seconds <= 0) {
      throw new IllegalArgumentException(
          PROPERTY + " must be a whole number of seconds > 0, got '" + value + "'");
    }
    return Duration.ofSeconds(seconds);
  }

  @Override
  public void interceptTestMethod(
      Invocation<Void> invocation,
      ReflectiveInvocationContext<Method> invocationContext,
      ExtensionContext extensionContext)
      throws Throwable {
    bounded(invocation, "test " + extensionContext.getDisplayName());
  }

  @Override
  public void interceptBeforeEachMethod(
      Invocation<Void> invocation,
      ReflectiveInvocationContext<Method> invocationContext,
      ExtensionContext extensionContext)
      throws Throwable {
    bounded(
        invocation,
        "@BeforeEach "
            + invocationContext.getExecutable().getName()
            + " of "
            + extensionContext.getDisplayName());
  }

  @Override
  public void interceptAfterEachMethod(
      Invocation<Void> invocation,
      ReflectiveInvocationContext<Method> invocationContext,
      ExtensionContext extensionContext)
      throws Throwable {
    bounded(
        invocation,
        "@AfterEach "
            + invocationContext.getExecutable().getName()
            + " of "
            + extensionContext.getDisplayName());
  }

  private static void bounded(Invocation<Void> invocation, String what) throws Throwable {
    Duration timeout = timeout();
    Throwable[] thrown = new Throwable[1];
    FutureTask<Void> task =
        new FutureTask<>(
            () -> {
              try {
                invocation.proceed();
              } catch (Throwable t) {
                thrown[0] = t;
              }
              return null;
            });
    Thread runner = new Thread(task, "tandem-tck-" + what);
    runner.setDaemon(true);
    runner.start();
    try {
      task.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      StackTraceElement[] stack = runner.getStackTrace();
      runner.interrupt();
      Throwable where = new Throwable("stack of the test thread when the time ran out");
      where.setStackTrace(stack);
      fail(
          what
              + " did not finish within "
              + timeout.toSeconds()
              + " s (system property "
              + PROPERTY
              + "). If this fails, check: a lock or transaction left open by an earlier failed"
              + " commit, a blocking call without a timeout, an unreachable server; the cause shows"
              + " where the test thread was blocked.",
          where);
    } catch (ExecutionException e) {
      throw e.getCause();
    }
    // FutureTask.get happens-after the task body, so thrown[0] is visible here.
    if (thrown[0] != null) {
      throw thrown[0];
    }
  }
}
