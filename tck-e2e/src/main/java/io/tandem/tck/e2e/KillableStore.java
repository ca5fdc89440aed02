package io.tandem.tck.e2e;

import java.util.Map;

/**
 * A store server that the end-to-end kit may kill with SIGKILL and start again on the same data,
 * for rule {@code [E6]}. A backend returns one from {@link ExactlyOnceVerification#killableStore()}
 * when its test launcher runs the server in a process of its own (usually a private server, not the
 * one the other rules share); the kit closes it after the run.
 *
 * @since 0.1
 */
@SuppressWarnings("try") // close() may throw anything a launcher throws
public interface KillableStore extends AutoCloseable {

  /**
   * The URI workers open the store with; the store's durable configuration (fsync on, {@code
   * appendfsync always}, commitlog {@code batch}...), since acknowledged commits must survive.
   *
   * @return a URI for {@link io.tandem.spi.OffsetStores#open}
   */
  String uri();

  /**
   * Options beside {@link #uri()}.
   *
   * @return store properties; empty by default
   */
  default Map<String, String> properties() {
    return Map.of();
  }

  /**
   * Kills the server process with SIGKILL (no shutdown, no flush beyond what its durability
   * settings already did). Returns when the process is gone.
   *
   * @throws Exception if it cannot be killed
   */
  void kill() throws Exception;

  /**
   * Starts the killed server on the same data and address; returns when it accepts requests.
   *
   * @throws Exception if it does not come back
   */
  void restart() throws Exception;

  /**
   * What runs, for the report.
   *
   * @return one line
   */
  String description();

  /**
   * Stops the server and discards its data.
   *
   * @throws Exception if stopping fails
   */
  @Override
  void close() throws Exception;
}
