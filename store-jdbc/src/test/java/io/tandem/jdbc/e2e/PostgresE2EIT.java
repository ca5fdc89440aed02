package io.tandem.jdbc.e2e;

import io.tandem.tck.e2e.ExactlyOnceVerification;
import io.tandem.tck.e2e.KillableStore;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.PostgresServer;
import java.util.Map;

/**
 * The end-to-end kit on PostgreSQL (durable: fsync and synchronous commit on). [E6] kills a private
 * embedded server of its own (the shared one serves the other rules).
 */
class PostgresE2EIT extends ExactlyOnceVerification {

  @Override
  protected String bootstrapServers() {
    return KafkaBroker.shared().bootstrapServers();
  }

  @Override
  protected String storeUri() {
    return PostgresServer.shared().jdbcUrl();
  }

  @Override
  protected Map<String, String> storeProperties() {
    PostgresServer pg = PostgresServer.shared();
    return Map.of("user", pg.user(), "password", pg.password());
  }

  @Override
  protected Class<? extends ResultModel<?>> resultModel() {
    return JdbcResultModel.class;
  }

  @Override
  protected Map<String, String> consumerProperties() {
    return E2eBrokerSettings.consumerProperties(super.consumerProperties());
  }

  @Override
  protected KillableStore killableStore() {
    PostgresServer pg = PostgresServer.startPrivate();
    return new KillableStore() {
      @Override
      public String uri() {
        return pg.jdbcUrl();
      }

      @Override
      public Map<String, String> properties() {
        return Map.of("user", pg.user(), "password", pg.password());
      }

      @Override
      public void kill() {
        pg.kill();
      }

      @Override
      public void restart() {
        pg.restart();
      }

      @Override
      public String description() {
        return pg.description();
      }

      @Override
      public void close() {
        pg.close();
      }
    };
  }
}
