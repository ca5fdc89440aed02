package io.tandem.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import java.net.SocketTimeoutException;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

class FailuresTest {

  @Test
  void connectionErrorsAndTimeoutsAreUnavailable() {
    OffsetStoreException e =
        Failures.map(
            "Commit", new JedisConnectionException(new SocketTimeoutException("Read timed out")));
    assertThat(e)
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageStartingWith("Commit failed");
  }

  @Test
  void exhaustedPoolIsUnavailable() {
    JedisException e =
        new JedisException(
            "Could not get a resource from the pool",
            new NoSuchElementException("Timeout waiting for idle object"));
    assertThat(Failures.map("Commit", e)).isInstanceOf(StoreUnavailableException.class);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "LOADING Redis is loading the dataset in memory",
        "BUSY Redis is busy running a script.",
        "READONLY You can't write against a read only replica.",
        "MASTERDOWN Link with MASTER is down",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "CLUSTERDOWN The cluster is down",
        "NOREPLICAS Not enough good replicas to write."
      })
  void passingServerStatesAreUnavailable(String message) {
    assertThat(Failures.map("Commit", new JedisDataException(message)))
        .isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void refusedCredentialsAreAConfigurationError() {
    assertThat(
            Failures.map(
                "Open",
                new JedisAccessControlException("WRONGPASS invalid username-password pair")))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("credentials");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "NOAUTH Authentication required.",
        "WRONGPASS invalid username-password pair or user is disabled.",
        "NOPERM User app has no permissions to run the 'set' command"
      })
  void refusalsAreAccessDeniedEvenWrappedByThePool(String reply) {
    JedisException wrapped =
        new JedisException("Could not get a resource from the pool", new JedisDataException(reply));
    assertThat(Failures.map("Open", wrapped))
        .isInstanceOf(io.tandem.spi.StoreAccessDeniedException.class)
        .isNotInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining(reply.substring(0, 6))
        .hasMessageContaining("Not retriable");
    assertThat(Failures.map("Commit", new JedisDataException(reply)))
        .isInstanceOf(io.tandem.spi.StoreAccessDeniedException.class);
  }

  @Test
  void otherServerErrorsAreNeitherRetriableNorConfiguration() {
    OffsetStoreException e =
        Failures.map("Read", new JedisDataException("WRONGTYPE Operation against a key"));
    assertThat(e)
        .isNotInstanceOf(StoreUnavailableException.class)
        .isNotInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("WRONGTYPE");
  }
}
