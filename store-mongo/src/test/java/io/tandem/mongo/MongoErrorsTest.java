package io.tandem.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoException;
import com.mongodb.MongoSecurityException;
import com.mongodb.MongoSocketReadException;
import com.mongodb.ServerAddress;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

/** The classifier of refusals, on the driver's exception types and the server's error codes. */
class MongoErrorsTest {

  private static MongoCommandException command(int code, String name) {
    return new MongoCommandException(
        BsonDocument.parse(
            "{ok: 0, code: " + code + ", codeName: '" + name + "', errmsg: '" + name + "'}"),
        new ServerAddress());
  }

  @Test
  void securityExceptionsAndRefusalCodesAreAccessDenied() {
    MongoSecurityException login =
        new MongoSecurityException(
            MongoCredential.createCredential("app", "admin", "pw".toCharArray()),
            "Exception authenticating MongoCredential{mechanism=SCRAM-SHA-256, userName='app'}");
    assertThat(MongoOffsetStore.accessDenied(login)).isTrue();
    assertThat(MongoOffsetStore.accessDenied(command(18, "AuthenticationFailed"))).isTrue();
    assertThat(MongoOffsetStore.accessDenied(command(13, "Unauthorized"))).isTrue();
    assertThat(MongoOffsetStore.accessDenied(command(11, "UserNotFound"))).isTrue();
    assertThat(MongoOffsetStore.accessDenied(new MongoException("wrapped", login))).isTrue();
  }

  @Test
  void outagesAndOtherErrorsAreNot() {
    assertThat(MongoOffsetStore.accessDenied(command(112, "WriteConflict"))).isFalse();
    assertThat(
            MongoOffsetStore.accessDenied(
                new MongoSocketReadException("reset", new ServerAddress())))
        .isFalse();
  }
}
