package io.tandem.redis.internal;

import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.StoreAccessDeniedException;
import io.tandem.spi.StoreUnavailableException;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Internal: may change in any release.
 *
 * <p>The one place where Jedis errors become Tandem's exceptions.
 */
public final class Failures {

  private Failures() {}

  /**
   * Maps a Jedis error.
   *
   * @param what the operation and address, for the message
   * @param e the error
   * @return the exception to throw
   */
  public static OffsetStoreException map(String what, JedisException e) {
    // First: a refused login reaches us wrapped ("Could not get a resource from the pool" with the
    // AUTH reply as cause), and retrying the same credentials never helps.
    Throwable denied = accessDenied(e);
    if (denied != null) {
      return new StoreAccessDeniedException(
          what
              + " failed: Redis refused the credentials or the user lacks permission ("
              + denied.getMessage()
              + "). Not retriable: check user, password and ACL.",
          e);
    }
    if (e instanceof JedisConnectionException || transientServerState(e)) {
      // Connection refused or reset, socket timeout, pool exhausted; or a server that is loading
      // its AOF, busy in a script, or a replica / failing-over primary refusing writes.
      return new StoreUnavailableException(
          what
              + " failed: Redis is unreachable or not ready ("
              + e.getMessage()
              + ")."
              + " Retry after re-reading positions.",
          e);
    }
    return new OffsetStoreException(what + " failed: " + e.getMessage(), e);
  }

  /**
   * The refusal in a failure's cause chain: Jedis's access-control error, or a reply with one of
   * the prefixes Redis uses for it ({@code NOAUTH} authentication required, {@code WRONGPASS}
   * invalid user or password, {@code NOPERM} an ACL denies the command or key); null if none.
   */
  static Throwable accessDenied(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof JedisAccessControlException) {
        return c;
      }
      if (c instanceof JedisDataException) {
        String m = String.valueOf(c.getMessage());
        if (m.startsWith("NOAUTH") || m.startsWith("WRONGPASS") || m.startsWith("NOPERM")) {
          return c;
        }
      }
    }
    return null;
  }

  /** Error prefixes Redis sends for states that pass by themselves. */
  private static boolean transientServerState(JedisException e) {
    if (!(e instanceof JedisDataException)) {
      // "Could not get a resource from the pool": every connection busy (NoSuchElementException
      // after the pool's wait) or none could be made.
      return e.getCause() instanceof JedisConnectionException
          || e.getCause() instanceof java.util.NoSuchElementException;
    }
    String m = String.valueOf(e.getMessage());
    return m.startsWith("LOADING")
        || m.startsWith("BUSY")
        || m.startsWith("MASTERDOWN")
        || m.startsWith("READONLY")
        || m.startsWith("TRYAGAIN")
        || m.startsWith("CLUSTERDOWN")
        || m.startsWith("NOREPLICAS");
  }
}
