package io.tandem.jdbc;

import io.tandem.spi.InvalidBatchException;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.StoreAccessDeniedException;
import io.tandem.spi.StoreUnavailableException;
import java.io.EOFException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one place where driver errors become Tandem exceptions. SQLStates are standard across the
 * drivers for what matters here; where a driver deviates, the vendor code is named.
 */
final class SqlErrors {

  /** Server going away or refusing new work; the next attempt may succeed. */
  private static final Set<String> UNAVAILABLE_STATES =
      Set.of(
          "57P01", // PostgreSQL admin_shutdown
          "57P02", // PostgreSQL crash_shutdown
          "57P03", // PostgreSQL cannot_connect_now (starting up, recovery)
          "53300", // PostgreSQL too_many_connections
          "57014", // PostgreSQL query_canceled (statement_timeout)
          "HYT00", // timeout (H2 lock timeout, MariaDB query timeout)
          "HYT01", // connection timeout
          "90067", // H2 connection broken
          "90098", // H2 database closed
          "90121", // H2 database called at shutdown
          "90020"); // H2 database file in use by another process

  /**
   * Errors that a concurrent transaction caused and that a re-run may not get: serialization
   * failure (40001: PostgreSQL under REPEATABLE READ/SERIALIZABLE, MariaDB/MySQL deadlock 1213, H2
   * deadlock), PostgreSQL deadlock (40P01), H2 concurrent update (90131), lock wait timeouts
   * (MariaDB/MySQL 1205, H2 HYT00).
   */
  private static final Set<String> CONCURRENCY_STATES = Set.of("40001", "40P01", "90131", "HYT00");

  private static final Set<String> UNDEFINED_TABLE_STATES = Set.of("42P01", "42S02", "42102");

  /**
   * Vendor codes of refused credentials or privileges whose SQLState is not class 28 or 42501:
   * MariaDB/MySQL 1044 (access denied to a database, 42000), 1142/1143 (table/column command
   * denied, 42000), 1227 (needs a privilege such as SUPER, 42000); H2 90096 (not enough rights).
   */
  private static final Set<Integer> ACCESS_DENIED_CODES = Set.of(1044, 1142, 1143, 1227, 90096);

  private SqlErrors() {}

  /**
   * Whether the database refused the credentials or a privilege: SQLState class 28 (invalid
   * authorization specification: PostgreSQL 28P01 wrong password, 28000 no such role or pg_hba
   * rejection; MariaDB/MySQL 1045 access denied; H2 28000), 42501 (PostgreSQL insufficient
   * privilege), or a vendor code above. Looked for in the whole chain, since HikariCP wraps the
   * driver's refusal in its own timeout or initialization exception.
   */
  static boolean accessDenied(Throwable t) {
    for (SQLException e : sqlExceptions(t)) {
      String state = e.getSQLState();
      if (state != null && (state.startsWith("28") || state.equals("42501"))
          || ACCESS_DENIED_CODES.contains(e.getErrorCode())) {
        return true;
      }
    }
    return false;
  }

  /** Every SQLException in a throwable's cause and next-exception chains, the first first. */
  static List<SQLException> sqlExceptions(Throwable t) {
    List<SQLException> out = new ArrayList<>();
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    collect(t, out, seen);
    return out;
  }

  private static void collect(Throwable t, List<SQLException> out, Map<Throwable, Boolean> seen) {
    while (t != null && seen.put(t, Boolean.TRUE) == null) {
      if (t instanceof SQLException sql) {
        out.add(sql);
        SQLException next = sql.getNextException();
        if (next != null) {
          collect(next, out, seen);
        }
      }
      t = t.getCause();
    }
  }

  /** Whether the failure says the database could not be reached or did not answer in time. */
  static boolean unavailable(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof SQLTransientConnectionException
          || c instanceof SQLNonTransientConnectionException
          || c instanceof SQLRecoverableException
          || c instanceof SQLTimeoutException
          || c instanceof ConnectException
          || c instanceof SocketTimeoutException
          || c instanceof UnknownHostException
          || c instanceof SocketException
          || c instanceof EOFException) {
        return true;
      }
    }
    for (SQLException e : sqlExceptions(t)) {
      String state = e.getSQLState();
      if (state != null && (state.startsWith("08") || UNAVAILABLE_STATES.contains(state))) {
        return true;
      }
    }
    return false;
  }

  /** Whether the failure is a serialization failure, deadlock or lock timeout. */
  static boolean concurrency(Throwable t) {
    for (SQLException e : sqlExceptions(t)) {
      String state = e.getSQLState();
      if (state != null && CONCURRENCY_STATES.contains(state)) {
        return true;
      }
      // MariaDB/MySQL report these with the unspecific HY000 in some versions.
      if (e.getErrorCode() == 1213 || e.getErrorCode() == 1205) {
        return true;
      }
    }
    return false;
  }

  /** Whether the failure is a unique-key violation (a concurrent insert of the same key). */
  static boolean uniqueViolation(Throwable t) {
    for (SQLException e : sqlExceptions(t)) {
      if ("23505".equals(e.getSQLState()) || e.getErrorCode() == 1062) {
        return true;
      }
    }
    return false;
  }

  static boolean tooLong(Throwable t) {
    for (SQLException e : sqlExceptions(t)) {
      // 22001 string data right truncation; MariaDB/MySQL 1406 "Data too long for column".
      if ("22001".equals(e.getSQLState()) || e.getErrorCode() == 1406) {
        return true;
      }
    }
    return false;
  }

  static boolean undefinedTable(Throwable t) {
    for (SQLException e : sqlExceptions(t)) {
      if (UNDEFINED_TABLE_STATES.contains(e.getSQLState()) || e.getErrorCode() == 1146) {
        return true;
      }
    }
    return false;
  }

  /** A short description of the driver's error: SQLState, vendor code, message. */
  static String describe(Throwable t) {
    List<SQLException> sql = sqlExceptions(t);
    if (sql.isEmpty()) {
      return t.toString();
    }
    // The deepest next-exception usually carries the server's own message (batch failures).
    SQLException e = sql.get(sql.size() - 1);
    return "SQLState " + e.getSQLState() + " (code " + e.getErrorCode() + "): " + e.getMessage();
  }

  /**
   * Maps a failure to the Tandem exception a caller can act on.
   *
   * @param action what the store was doing, such as {@code committing group 'g'}
   * @param where the masked URL
   * @param t the failure
   */
  static OffsetStoreException translate(String action, String where, Throwable t) {
    if (t instanceof OffsetStoreException known) {
      return known;
    }
    // Before unavailable(): HikariCP reports a refused login as a connection timeout whose cause
    // is the driver's refusal, and retrying the same credentials never helps.
    if (accessDenied(t)) {
      return new StoreAccessDeniedException(
          "Database refused access while "
              + action
              + " ("
              + where
              + "): "
              + describe(t)
              + ". Not retriable: check the user, password and grants, then open the store again.",
          t);
    }
    if (unavailable(t)) {
      return new StoreUnavailableException(
          "Database unavailable while "
              + action
              + " ("
              + where
              + "): "
              + describe(t)
              + ". Retriable: re-read positions, then retry.",
          t);
    }
    if (tooLong(t)) {
      // A value the column cannot hold (a group or topic over 255 characters on MariaDB/MySQL):
      // the caller's input, and the transaction was rolled back, so nothing was written.
      return new InvalidBatchException(
          "Value too long for the offsets table while "
              + action
              + " ("
              + where
              + "): "
              + describe(t)
              + ". Nothing was written. Use shorter group and topic names (MariaDB/MySQL hold 255"
              + " characters).");
    }
    String hint =
        undefinedTable(t)
            ? " The offsets table does not exist: call the store's prepare() or set"
                + " createSchema=true."
            : "";
    return new OffsetStoreException(
        "Database error while " + action + " (" + where + "): " + describe(t) + "." + hint, t);
  }
}
