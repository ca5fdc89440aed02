package io.tandem.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.StoreAccessDeniedException;
import io.tandem.spi.StoreUnavailableException;
import java.net.ConnectException;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlErrorsTest {

  @Test
  void connectionClassAndTimeoutsAreUnavailable() {
    assertThat(SqlErrors.translate("x", "u", new SQLException("gone", "08006")))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("u")
        .hasMessageContaining("08006");
    assertThat(SqlErrors.translate("x", "u", new SQLException("shutdown", "57P01")))
        .isInstanceOf(StoreUnavailableException.class);
    assertThat(
            SqlErrors.translate(
                "x", "u", new SQLTransientConnectionException("pool timeout", (String) null)))
        .isInstanceOf(StoreUnavailableException.class);
    assertThat(
            SqlErrors.translate(
                "x", "u", new SQLException("io", null, new ConnectException("refused"))))
        .isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void refusedCredentialsAndPrivilegesAreAccessDeniedNeverUnavailable() {
    for (SQLException refused :
        List.of(
            new SQLException("password authentication failed for user \"app\"", "28P01"),
            new SQLException("role \"app\" does not exist", "28000"),
            new SQLException("permission denied for table tandem_offsets", "42501"),
            new SQLException("Access denied for user 'app'@'%' to database 'x'", "42000", 1044),
            new SQLException("UPDATE command denied to user 'app'", "42000", 1142),
            new SQLException("Not enough rights for object", "90096", 90096))) {
      assertThat(SqlErrors.translate("x", "u", refused))
          .as(refused.getMessage())
          .isInstanceOf(StoreAccessDeniedException.class)
          .hasMessageContaining("Not retriable");
    }
    // HikariCP reports a refused login as a pool timeout whose cause is the driver's refusal.
    SQLException poolTimeout =
        new SQLTransientConnectionException(
            "HikariPool-1 - Connection is not available, request timed out after 10000ms.",
            "08001",
            new SQLException("password authentication failed", "28P01"));
    assertThat(SqlErrors.translate("x", "u", poolTimeout))
        .isInstanceOf(StoreAccessDeniedException.class);
    assertThat(SqlErrors.accessDenied(new SQLException("syntax", "42000", 1064))).isFalse();
  }

  @Test
  void otherErrorsAreStoreErrorsWithCause() {
    SQLException syntax = new SQLException("syntax", "42601");
    OffsetStoreException e = SqlErrors.translate("committing group 'g'", "u", syntax);
    assertThat(e).isNotInstanceOf(StoreUnavailableException.class).hasCause(syntax);
    assertThat(e.getMessage()).contains("committing group 'g'", "42601");
  }

  @Test
  void missingTableGetsAHint() {
    assertThat(SqlErrors.translate("x", "u", new SQLException("no table", "42P01")))
        .hasMessageContaining("prepare()");
  }

  @Test
  void batchFailuresAreReadThroughNextException() {
    BatchUpdateException batch = new BatchUpdateException("batch", "", 0, new int[0], null);
    batch.setNextException(new SQLException("could not serialize", "40001"));
    assertThat(SqlErrors.concurrency(batch)).isTrue();
    assertThat(SqlErrors.describe(batch)).contains("40001", "could not serialize");
    SQLException deadlock = new SQLException("Deadlock found", "40001", 1213);
    assertThat(SqlErrors.concurrency(deadlock)).isTrue();
    assertThat(SqlErrors.concurrency(new SQLException("dup", "23505"))).isFalse();
    assertThat(SqlErrors.uniqueViolation(new SQLException("dup", "23505"))).isTrue();
  }
}
