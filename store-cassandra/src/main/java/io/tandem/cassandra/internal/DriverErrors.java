package io.tandem.cassandra.internal;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.InvalidKeyspaceException;
import com.datastax.oss.driver.api.core.NoNodeAvailableException;
import com.datastax.oss.driver.api.core.RequestThrottlingException;
import com.datastax.oss.driver.api.core.auth.AuthenticationException;
import com.datastax.oss.driver.api.core.connection.BusyConnectionException;
import com.datastax.oss.driver.api.core.connection.ClosedConnectionException;
import com.datastax.oss.driver.api.core.connection.ConnectionInitException;
import com.datastax.oss.driver.api.core.connection.HeartbeatException;
import com.datastax.oss.driver.api.core.servererrors.BootstrappingException;
import com.datastax.oss.driver.api.core.servererrors.CASWriteUnknownException;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.OverloadedException;
import com.datastax.oss.driver.api.core.servererrors.QueryExecutionException;
import com.datastax.oss.driver.api.core.servererrors.ServerError;
import com.datastax.oss.driver.api.core.servererrors.TruncateException;
import com.datastax.oss.driver.api.core.servererrors.UnauthorizedException;
import com.datastax.oss.driver.api.core.servererrors.UnavailableException;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.StoreAccessDeniedException;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import java.util.Locale;

/**
 * Maps driver exceptions to Tandem's, in one place. Internal: may change in any release.
 *
 * <p>Unavailable (retriable): no node reachable ({@link NoNodeAvailableException}, {@link
 * AllNodesFailedException}), client and server timeouts, unavailable replicas, overloaded or
 * bootstrapping nodes, lost or busy connections, throttling. Access denied (never retriable, even
 * when every node refused the login): authentication, authorization. Configuration: a missing
 * keyspace or table. Anything else (a bug in a statement) stays a plain {@link
 * OffsetStoreException} with the driver's exception as cause.
 */
public final class DriverErrors {

  private DriverErrors() {}

  /**
   * Maps a driver failure.
   *
   * @param e the driver's exception (or any throwable from a driver future)
   * @param action what the store was doing, for the message: "reading positions of group 'g'"
   * @return the exception to throw
   */
  public static OffsetStoreException map(Throwable e, String action) {
    if (e instanceof OffsetStoreException ose) {
      return ose;
    }
    // Before isUnavailable(): a refused login while connecting arrives inside an
    // AllNodesFailedException (one error per contact point), which alone reads as "no node", and
    // retrying the same credentials never helps.
    Throwable denied = accessDenied(e, 0);
    if (denied != null) {
      return new StoreAccessDeniedException(
          "Cassandra refused "
              + action
              + ": "
              + denied.getMessage()
              + ". Not retriable: check credentials and grants.",
          e);
    }
    if (isUnavailable(e)) {
      return new StoreUnavailableException(
          "Cassandra unavailable while " + action + ": " + e.getMessage() + ". Retry later.", e);
    }
    if (isMissingSchema(e)) {
      return new StoreConfigurationException(
          "Cassandra has no offsets table for "
              + action
              + ": "
              + e.getMessage()
              + ". Create it once with CassandraOffsetStore.createSchema(...).",
          e);
    }
    return new OffsetStoreException("Cassandra failed " + action + ": " + e, e);
  }

  /**
   * The authentication or authorization failure in a failure's causes, suppressed exceptions, or
   * per-node errors of an {@link AllNodesFailedException}; null if none.
   */
  static Throwable accessDenied(Throwable e, int depth) {
    if (e == null || depth > 8) {
      return null;
    }
    if (e instanceof AuthenticationException || e instanceof UnauthorizedException) {
      return e;
    }
    if (e instanceof AllNodesFailedException all) {
      for (java.util.List<Throwable> errors : all.getAllErrors().values()) {
        for (Throwable t : errors) {
          Throwable found = accessDenied(t, depth + 1);
          if (found != null) {
            return found;
          }
        }
      }
    }
    for (Throwable s : e.getSuppressed()) {
      Throwable found = accessDenied(s, depth + 1);
      if (found != null) {
        return found;
      }
    }
    return e.getCause() == e ? null : accessDenied(e.getCause(), depth + 1);
  }

  /**
   * Whether a failure means the cluster could not be reached or did not answer in time.
   *
   * @param e the failure
   * @return true for retriable availability failures
   */
  public static boolean isUnavailable(Throwable e) {
    return e instanceof AllNodesFailedException // includes NoNodeAvailableException
        || e instanceof DriverTimeoutException
        || e instanceof RequestThrottlingException
        || e instanceof QueryExecutionException // timeouts, unavailable, read/write failures
        || e instanceof OverloadedException
        || e instanceof BootstrappingException
        || e instanceof TruncateException
        || e instanceof ServerError
        || e instanceof ClosedConnectionException
        || e instanceof HeartbeatException // not a ClosedConnectionException in driver 4.19
        || e instanceof BusyConnectionException
        || e instanceof ConnectionInitException;
  }

  /**
   * Whether a failed conditional write may still have been applied, so that only a serial read can
   * tell: every failure after the request may have reached a coordinator. A write timeout of the
   * Paxos (CAS) phase, a {@link CASWriteUnknownException}, an {@link UnavailableException} raised
   * in the commit phase, a lost connection or heartbeat ({@link HeartbeatException}), a client
   * timeout. Only {@link NoNodeAvailableException} (never sent) and validation errors are sure not
   * to have applied it.
   *
   * @param e the failure
   * @return true when the outcome is unknown
   */
  public static boolean outcomeUnknown(Throwable e) {
    if (e instanceof NoNodeAvailableException) {
      return false;
    }
    return e instanceof WriteTimeoutException
        || e instanceof CASWriteUnknownException
        || e instanceof UnavailableException
        || isUnavailable(e);
  }

  private static boolean isMissingSchema(Throwable e) {
    if (e instanceof InvalidKeyspaceException) {
      return true;
    }
    if (e instanceof InvalidQueryException) {
      String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      return m.contains("unconfigured table")
          || m.contains("does not exist")
          || m.contains("keyspace") && m.contains("not exist");
    }
    return false;
  }
}
