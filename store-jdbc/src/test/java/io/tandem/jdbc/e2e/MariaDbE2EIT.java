package io.tandem.jdbc.e2e;

import io.tandem.tck.e2e.ExactlyOnceVerification;
import io.tandem.tck.e2e.KillableStore;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.MariaDbServer;
import java.util.Map;

/**
 * The end-to-end kit on MariaDB (InnoDB, {@code innodb_flush_log_at_trx_commit=1}). [E6] kills a
 * private embedded server of its own ({@link MariaDbServer#startPrivate()}; the shared one serves
 * the other rules) and restarts it on the same data directory.
 *
 * <p>CI runs [E1]-[E4], the lost reply [E5] and the store kill [E6], the two faults whose outcome
 * depends on the store. The faults that do not ([E7] broker bounce, [E8] rebalance storm, [E9]
 * aborted transactions, [E10] retention, [E12] compacted input) exercise the runtime and the broker
 * the same way on every store and run in CI on PostgreSQL, the other JDBC dialect; here they run
 * with {@code -Dtandem.e2e.faults.mariadb=true}, which keeps MariaDB's share of CI's fault budget
 * small.
 */
class MariaDbE2EIT extends ExactlyOnceVerification {

  /** The property that runs [E7]-[E10] and [E12] here as well. */
  static final String ALL_FAULTS = "tandem.e2e.faults.mariadb";

  /** Skips [E7]-[E10] and [E12] unless {@link #ALL_FAULTS} is set; see the class comment. */
  @Override
  protected String storeIndependentFaultsSkippedReason() {
    return Boolean.getBoolean(ALL_FAULTS)
        ? null
        : "broker, group and input faults run in CI on PostgreSQL (the same runtime path); on"
            + " MariaDB with -D"
            + ALL_FAULTS
            + "=true";
  }

  @Override
  protected String bootstrapServers() {
    return KafkaBroker.shared().bootstrapServers();
  }

  @Override
  protected String storeUri() {
    return MariaDbServer.shared().jdbcUrl();
  }

  @Override
  protected Map<String, String> storeProperties() {
    MariaDbServer db = MariaDbServer.shared();
    return Map.of("user", db.user(), "password", db.password());
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
    MariaDbServer db = MariaDbServer.startPrivate();
    return new KillableStore() {
      @Override
      public String uri() {
        return db.jdbcUrl();
      }

      @Override
      public Map<String, String> properties() {
        return Map.of("user", db.user(), "password", db.password());
      }

      @Override
      public void kill() {
        db.kill();
      }

      @Override
      public void restart() {
        db.restart();
      }

      @Override
      public String description() {
        return db.description() + " (innodb_flush_log_at_trx_commit=1, no binary log)";
      }

      @Override
      public void close() {
        db.close();
      }
    };
  }
}
