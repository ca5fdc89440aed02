package io.tandem.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoCommandException;
import com.mongodb.client.ClientSession;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import io.tandem.testing.MongoServer;
import java.util.UUID;
import org.bson.Document;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Facts about the jongodb emulator that decide what the kit can check on it. If one of these fails,
 * the emulator changed: revisit the skips that cite it.
 */
class JongodbFactsIT {

  /** Why a concurrency rule is skipped on jongodb. */
  static final String NO_WRITE_CONFLICTS =
      "jongodb 0.1.6 does not detect write conflicts between transactions updating one document:"
          + " both commit, the last one wins (see JongodbFactsIT). MongoDB answers the second"
          + " update with WriteConflict; this rule runs on a real MongoDB (TANDEM_MONGODB_URI or"
          + " Docker).";

  @BeforeAll
  static void onJongodb() {
    assumeTrue(
        MongoServer.best().map(s -> s.kind() == MongoServer.Kind.JONGODB).orElse(false),
        "facts about the jongodb emulator; it is not the server under test here");
  }

  @Test
  void concurrentTransactionsUpdatingOneDocumentBothCommit() {
    try (MongoClient client = MongoClients.create(MongoServer.best().orElseThrow().uri());
        ClientSession a = client.startSession();
        ClientSession b = client.startSession()) {
      MongoCollection<Document> c = client.getDatabase("tandem_it").getCollection("facts");
      String id = UUID.randomUUID().toString();
      c.insertOne(new Document("_id", id).append("x", 0));
      a.startTransaction();
      b.startTransaction();
      c.updateOne(a, Filters.eq("_id", id), Updates.set("x", 1));
      // MongoDB: WriteConflict (112, TransientTransactionError) here. jongodb: accepted.
      c.updateOne(b, Filters.eq("_id", id), Updates.set("x", 2));
      b.commitTransaction();
      a.commitTransaction();
      assertThat(c.find(Filters.eq("_id", id)).first().getInteger("x")).isEqualTo(1);
    }
  }

  /** MongoDB reports it as a write error (MongoWriteException); jongodb as a command error. */
  @Test
  void aDuplicateIdIsACommandErrorWithTheDuplicateKeyCode() {
    try (MongoClient client = MongoClients.create(MongoServer.best().orElseThrow().uri())) {
      MongoCollection<Document> c = client.getDatabase("tandem_it").getCollection("facts");
      String id = UUID.randomUUID().toString();
      c.insertOne(new Document("_id", id));
      assertThatThrownBy(() -> c.insertOne(new Document("_id", id)))
          .isInstanceOfSatisfying(
              MongoCommandException.class,
              e ->
                  assertThat(ErrorCategory.fromErrorCode(e.getErrorCode()))
                      .isEqualTo(ErrorCategory.DUPLICATE_KEY));
    }
  }
}
