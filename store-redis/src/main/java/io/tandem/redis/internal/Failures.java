package io.tandem.redis.internal;

import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.StoreConfigurationException;
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
    if (e instanceof JedisAccessControlException) {
      return new StoreConfigurationException(
          what
              + " failed: Redis refused the credentials or the user lacks permission ("
              + e.getMessage()
              + "). Check user, password and ACL.",
          e);
    }
    return new OffsetStoreException(what + " failed: " + e.getMessage(), e);
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
