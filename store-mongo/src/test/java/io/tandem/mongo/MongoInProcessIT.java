package io.tandem.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.testing.MongoServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The store on the in-process mongo-java-server emulator: a standalone server without transactions,
 * so the IDEMPOTENT path. An emulator, not MongoDB.
 */
class MongoInProcessIT extends MongoStoreITBase {

  @Override
  protected MongoServer.Instance server() {
    return MongoServer.inProcess();
  }

  @Override
  protected Guarantee expectedGuarantee() {
    return Guarantee.IDEMPOTENT;
  }

  @Test
  void requireTransactionsRefusesAStandaloneServer() {
    assertThatThrownBy(() -> MongoOffsetStore.open(config().requireTransactions(true).build()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("requireTransactions")
        .hasMessageContaining("STANDALONE")
        .hasMessageContaining("replica set");
  }

  @Test
  void incrementIsRefusedWithAReasonOnAnIdempotentStore() {
    store.initialize(group, Map.of(p(0), 0L));
    assertThatThrownBy(
            () ->
                store.commit(
                    group,
                    List.of(new OffsetRange(p(0), 0, 1)),
                    tx -> tx.increment("counts", "k", "n", 1)))
        .isInstanceOf(ResultWriteException.class)
        .cause()
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("IDEMPOTENT")
        .hasMessageContaining("count twice");
    assertThat(store.positions(group)).isEqualTo(Map.of(p(0), 0L));
  }

  @Test
  void ofConcurrentCommitsOfOneRangeOneSucceeds() throws Exception {
    store.initialize(group, Map.of(p(0), 0L));
    assertThat(concurrentCommits(4, new OffsetRange(p(0), 0, 10))).isEqualTo(1);
    assertThat(store.positions(group)).isEqualTo(Map.of(p(0), 10L));
  }
}
