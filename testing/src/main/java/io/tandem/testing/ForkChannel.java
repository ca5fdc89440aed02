package io.tandem.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The child's side of {@link ForkedJvm}'s line protocol. {@link #open} takes over the real standard
 * output for events ({@code @fork <event>} lines) and points {@code System.out} at standard error,
 * so nothing else the child prints can be mistaken for an event. Commands arrive one per line on
 * standard input; {@code stop} (and the end of input: the parent is gone) ends {@link #awaitStop},
 * every other line goes to the child's handler.
 */
public final class ForkChannel {

  /** The beginning of every event line. */
  public static final String PREFIX = "@fork ";

  /** The command that asks the child to stop cleanly. */
  public static final String STOP = "stop";

  private final PrintStream out;
  private final CountDownLatch stop = new CountDownLatch(1);

  private ForkChannel(PrintStream out) {
    this.out = out;
  }

  /**
   * Opens the channel, once per JVM, at the start of {@code main}, and starts reading commands.
   *
   * @param commands called with every command line except {@code stop}, on a reader thread
   * @return the channel
   */
  public static ForkChannel open(Consumer<String> commands) {
    Objects.requireNonNull(commands, "commands must not be null");
    ForkChannel channel = new ForkChannel(System.out);
    System.setOut(System.err);
    Thread reader = new Thread(() -> channel.read(commands), "fork-commands");
    reader.setDaemon(true);
    reader.start();
    return channel;
  }

  private void read(Consumer<String> commands) {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        String command = line.trim();
        if (command.equals(STOP)) {
          stop.countDown();
        } else {
          commands.accept(command);
        }
      }
    } catch (IOException e) {
      // The parent is gone: stop with it.
    }
    stop.countDown();
  }

  /**
   * Sends an event line to the parent.
   *
   * @param event one line, e.g. {@code started} or {@code stats commits=3 conflicts=0}
   */
  public void event(String event) {
    synchronized (out) {
      out.println(PREFIX + event.replace('\n', ' '));
      out.flush();
    }
  }

  /**
   * Waits for {@code stop} (or the end of input).
   *
   * @param timeout how long to wait at most
   * @param unit the timeout's unit
   * @return true if asked to stop
   * @throws InterruptedException if interrupted
   */
  public boolean awaitStop(long timeout, TimeUnit unit) throws InterruptedException {
    return stop.await(timeout, unit);
  }
}
