package io.tandem.mongo;

import io.tandem.spi.OffsetStore;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import io.tandem.testing.MongoServer;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The TCK on the in-process mongo-java-server emulator: standalone, no transactions, so the store
 * runs IDEMPOTENT. An emulator, not MongoDB.
 */
class MongoInProcessTckIT extends OffsetStoreVerification<MongoResults> {

  private static final String DATABASE = "tandem_tck";
  private static MongoResultProbe probe;
  private static final AtomicInteger TESTS = new AtomicInteger();
  private static volatile String collection = "offsets_0";

  /**
   * A fresh offsets collection per test. The jongodb emulator copies a collection for every
   * transaction on it (measured: 2 ms per transaction on a small collection, about 10 s at 30 MB),
   * so one collection shared by the whole kit, whose scale rules leave MB-sized groups behind,
   * would make every later commit slow.
   */
  @RegisterExtension
  static final BeforeEachCallback FRESH_COLLECTION =
      context -> collection = "offsets_" + TESTS.incrementAndGet();

  /** The layout under test: the default; a subclass runs the kit on the other. */
  MongoLayout layout() {
    return MongoLayout.GROUP;
  }

  @Override
  protected OffsetStore<MongoResults> newStore() {
    return MongoOffsetStore.open(
        MongoStoreConfig.builder()
            .connectionString(MongoServer.inProcess().uri())
            .database(DATABASE)
            .collection(collection)
            .layout(layout())
            .build());
  }

  /**
   * Credentials in the connection string make the driver authenticate every connection it opens.
   * mongo-java-server keeps no users, so the SASL exchange fails and the driver itself throws its
   * MongoSecurityException at the store's first command: the same exception, on the same path, as a
   * real server's AuthenticationFailed (code 18).
   */
  @Override
  protected OffsetStore<MongoResults> newStoreWithRefusedCredentials() {
    String uri = MongoServer.inProcess().uri();
    return MongoOffsetStore.open(
        MongoStoreConfig.builder()
            .connectionString(uri.replaceFirst("^mongodb://", "mongodb://tandem-nobody:wrong@"))
            .database(DATABASE)
            .collection(collection)
            .layout(layout())
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
