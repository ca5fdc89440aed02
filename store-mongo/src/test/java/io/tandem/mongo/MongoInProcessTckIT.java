package io.tandem.mongo;

import io.tandem.spi.OffsetStore;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import io.tandem.testing.MongoServer;
import org.junit.jupiter.api.AfterAll;

/**
 * The TCK on the in-process mongo-java-server emulator: standalone, no transactions, so the store
 * runs IDEMPOTENT. An emulator, not MongoDB.
 */
class MongoInProcessTckIT extends OffsetStoreVerification<MongoResults> {

  private static final String DATABASE = "tandem_tck";
  private static MongoResultProbe probe;

  @Override
  protected OffsetStore<MongoResults> newStore() {
    return MongoOffsetStore.open(
        MongoStoreConfig.builder()
            .connectionString(MongoServer.inProcess().uri())
            .database(DATABASE)
            .build());
  }

  @Override
  protected synchronized ResultProbe<MongoResults> probe() {
    if (probe == null) {
      probe = new MongoResultProbe(MongoServer.inProcess().uri(), DATABASE);
    }
    return probe;
  }

  @AfterAll
  static synchronized void closeProbe() {
    if (probe != null) {
      probe.close();
      probe = null;
    }
  }
}
