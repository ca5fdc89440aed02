package io.tandem.testing;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says which server a test run used, once per server, on the log and on standard error, so that a
 * CI log always shows whether a store was tested against a real server, a container or an emulator.
 */
public final class ServerLog {

  private static final Logger log = LoggerFactory.getLogger(ServerLog.class);

  private ServerLog() {}

  /**
   * Reports the server a launcher started or found.
   *
   * @param kind the server kind, such as {@code PostgreSQL}
   * @param how how it was obtained and where: {@code embedded zonky PostgreSQL 14.22 on
   *     127.0.0.1:41234}, {@code from TANDEM_POSTGRES_URL}, ...
   */
  @SuppressWarnings("SystemOut")
  public static void using(String kind, String how) {
    log.info("[tandem-testing] {}: {}", kind, how);
    // Standard error too: test logging is often at WARN, and this line must show in CI.
    System.err.println("[tandem-testing] " + kind + ": " + how);
  }
}
