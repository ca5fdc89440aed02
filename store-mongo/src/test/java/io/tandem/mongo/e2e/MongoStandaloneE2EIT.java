package io.tandem.mongo.e2e;

import io.tandem.tck.e2e.ExactlyOnceVerification;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.MongoServer;
import java.util.Map;

/**
 * The end-to-end kit on a standalone MongoDB, where the store is IDEMPOTENT: the in-process
 * mongo-java-server emulator (an emulator, not MongoDB), served on a loopback port so the forked
 * worker JVMs reach it. Results are keyed ({@link MongoKeyedResultModel}); the kit skips its fold
 * rule [E2] on an idempotent store, with the reason.
 */
class MongoStandaloneE2EIT extends ExactlyOnceVerification {

  @Override
  protected String storeKillUnsupportedReason() {
    return "mongo-java-server runs inside the test JVM (an in-memory emulator): it has no process of"
        + " its own to kill and no data that would survive a restart";
  }

  @Override
  protected String bootstrapServers() {
    return KafkaBroker.shared().bootstrapServers();
  }

  @Override
  protected String storeUri() {
    return MongoE2eSettings.onDatabase(MongoServer.inProcess().uri());
  }

  @Override
  protected Class<? extends ResultModel<?>> resultModel() {
    return MongoKeyedResultModel.class;
  }

  @Override
  protected Map<String, String> consumerProperties() {
    return MongoE2eSettings.consumerProperties(super.consumerProperties());
  }
}
