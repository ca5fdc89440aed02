package io.tandem.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.NoNodeAvailableException;
import com.datastax.oss.driver.api.core.connection.HeartbeatException;
import com.datastax.oss.driver.api.core.servererrors.DefaultWriteType;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.SyntaxError;
import com.datastax.oss.driver.api.core.servererrors.UnavailableException;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import io.tandem.cassandra.internal.DriverErrors;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class DriverErrorsTest {

  private static final WriteTimeoutException CAS_TIMEOUT =
      new WriteTimeoutException(null, DefaultConsistencyLevel.SERIAL, 0, 1, DefaultWriteType.CAS);

  @Test
  void availabilityFailuresAreRetriable() {
    for (RuntimeException e :
        new RuntimeException[] {
          new NoNodeAvailableException(),
          new DriverTimeoutException("timed out"),
          CAS_TIMEOUT,
          new UnavailableException(null, DefaultConsistencyLevel.LOCAL_QUORUM, 2, 1),
          new HeartbeatException(new InetSocketAddress(9042), "no heartbeat", null)
        }) {
      assertThat(DriverErrors.map(e, "committing"))
          .isInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("while committing")
          .hasCause(e);
    }
  }

  @Test
  void onlyARequestNeverSentHasAKnownOutcome() {
    assertThat(DriverErrors.outcomeUnknown(new NoNodeAvailableException())).isFalse();
    assertThat(DriverErrors.outcomeUnknown(new SyntaxError(null, "bad"))).isFalse();
    assertThat(DriverErrors.outcomeUnknown(CAS_TIMEOUT)).isTrue();
    assertThat(
            DriverErrors.outcomeUnknown(
                new UnavailableException(null, DefaultConsistencyLevel.LOCAL_QUORUM, 2, 1)))
        .isTrue();
    assertThat(
            DriverErrors.outcomeUnknown(
                new HeartbeatException(new InetSocketAddress(9042), "lost", null)))
        .isTrue();
    assertThat(DriverErrors.outcomeUnknown(new DriverTimeoutException("t"))).isTrue();
  }

  @Test
  void missingTableNamesCreateSchema() {
    assertThat(
            DriverErrors.map(
                new InvalidQueryException(null, "unconfigured table tandem_offsets"), "reading"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("createSchema");
  }

  @Test
  void otherErrorsKeepTheDriverCause() {
    SyntaxError e = new SyntaxError(null, "line 1: no viable alternative");
    assertThat(DriverErrors.map(e, "reading"))
        .isExactlyInstanceOf(OffsetStoreException.class)
        .hasCause(e);
  }
}
