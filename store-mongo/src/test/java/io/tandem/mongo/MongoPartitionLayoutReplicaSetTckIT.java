package io.tandem.mongo;

import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.tandem.testing.MongoServer;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link MongoReplicaSetTckIT} on the partition layout (a document per partition), against a real
 * MongoDB only (TANDEM_MONGODB_URI or Testcontainers).
 */
class MongoPartitionLayoutReplicaSetTckIT extends MongoReplicaSetTckIT {

  /**
   * On jongodb a commit of 1 000 ranges is 1 000 document updates in one transaction, and the
   * emulator copies the collection per transaction: the kit's run took 1 026 s here, with S3, V7
   * and S4 (1 000-range commits) past 180 s each. Its scale is the emulator's, not the layout's.
   */
  @BeforeAll
  static void realMongoDb() {
    assumeFalse(
        MongoServer.best().map(s -> s.kind() == MongoServer.Kind.JONGODB).orElse(true),
        "the partition layout's kit runs on a real MongoDB replica set (TANDEM_MONGODB_URI): on the"
            + " jongodb emulator its 1 000-document transactions took over 180 s each (S3, V7, S4;"
            + " 1 026 s for the kit)");
  }

  @Override
  MongoLayout layout() {
    return MongoLayout.PARTITION;
  }
}
