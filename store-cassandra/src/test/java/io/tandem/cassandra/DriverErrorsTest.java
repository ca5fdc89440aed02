package io.tandem.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.NoNodeAvailableException;
import com.datastax.oss.driver.api.core.auth.AuthenticationException;
import com.datastax.oss.driver.api.core.connection.HeartbeatException;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.datastax.oss.driver.api.core.servererrors.DefaultWriteType;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.SyntaxError;
import com.datastax.oss.driver.api.core.servererrors.UnauthorizedException;
import com.datastax.oss.driver.api.core.servererrors.UnavailableException;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import com.datastax.oss.driver.internal.core.metadata.DefaultEndPoint;
import io.tandem.cassandra.internal.DriverErrors;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.StoreAccessDeniedException;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.util.Map;
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
  void refusedLoginAndMissingGrantsAreAccessDeniedEvenWhenEveryNodeRefused() {
    AuthenticationException refused =
        new AuthenticationException(
            new DefaultEndPoint(new InetSocketAddress("127.0.0.1", 9042)),
            "Provided username app and/or password are incorrect");
    Node node =
        (Node)
            Proxy.newProxyInstance(
                Node.class.getClassLoader(),
                new Class<?>[] {Node.class},
                (proxy, method, args) ->
                    switch (method.getName()) {
                      case "hashCode" -> System.identityHashCode(proxy);
                      case "equals" -> proxy == args[0];
                      case "toString" -> "node1";
                      default -> null;
                    });
    AllNodesFailedException allFailed = AllNodesFailedException.fromErrors(Map.of(node, refused));
    for (Throwable e :
        new Throwable[] {
          refused,
          allFailed,
          new UnauthorizedException(null, "User app has no MODIFY permission on tandem_offsets")
        }) {
      assertThat(DriverErrors.map(e, "opening the store"))
          .isInstanceOf(StoreAccessDeniedException.class)
          .isNotInstanceOf(StoreUnavailableException.class)
          .hasMessageContaining("Not retriable");
    }
    // Without a refusal among its errors, all nodes failing stays an outage.
    assertThat(
            DriverErrors.map(
                AllNodesFailedException.fromErrors(
                    Map.of(node, new DriverTimeoutException("timed out"))),
                "opening the store"))
        .isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void otherErrorsKeepTheDriverCause() {
    SyntaxError e = new SyntaxError(null, "line 1: no viable alternative");
    assertThat(DriverErrors.map(e, "reading"))
        .isExactlyInstanceOf(OffsetStoreException.class)
        .hasCause(e);
  }
}
