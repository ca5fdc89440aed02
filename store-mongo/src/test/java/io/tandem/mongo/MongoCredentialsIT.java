package io.tandem.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoSecurityException;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.StoreAccessDeniedException;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.testing.MongoServer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Refused credentials stop a consumer instead of having it retry forever: the driver's own
 * MongoSecurityException, raised while it authenticates the store's first connection, becomes a
 * non-retriable {@link StoreAccessDeniedException}.
 */
class MongoCredentialsIT {

  @Test
  void refusedLoginIsAccessDeniedNotUnavailableAndHidesThePassword() {
    // mongo-java-server keeps no users: the SASL exchange the driver starts for credentials in the
    // URI fails, and the driver reports that as MongoSecurityException, as for a real server's
    // AuthenticationFailed (code 18).
    String uri =
        MongoServer.inProcess()
                .uri()
                .replaceFirst("^mongodb://", "mongodb://tandem-nobody:hunter2-secret@")
            + (MongoServer.inProcess().uri().contains("?") ? "&" : "?")
            + "serverSelectionTimeoutMS=5000";
    assertThatThrownBy(() -> OffsetStores.open(uri, Map.of("collection", "credentials_it")))
        .isInstanceOf(StoreAccessDeniedException.class)
        .isInstanceOf(StoreConfigurationException.class)
        .isNotInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("Not retriable")
        .hasMessageNotContaining("hunter2-secret")
        .satisfies(e -> assertThat(causeChainHasSecurityException(e)).isTrue());
  }

  private static boolean causeChainHasSecurityException(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof MongoSecurityException) {
        return true;
      }
    }
    return false;
  }
}
