package io.tandem.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.jdbc.JdbcOffsetStore;
import io.tandem.spi.OffsetStore;
import io.tandem.spring.TandemConfigurationException;
import io.tandem.spring.TandemKafka;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;
import org.springframework.transaction.support.DefaultTransactionStatus;

/** Slice tests of the auto-configuration: each misconfiguration is a clear startup failure. */
class TandemAutoConfigurationTest {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  DataSourceAutoConfiguration.class,
                  DataSourceTransactionManagerAutoConfiguration.class,
                  KafkaAutoConfiguration.class,
                  TandemAutoConfiguration.class));

  private static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  @Test
  void aMissingStoreUriFailsStartupNamingTheProperty() {
    runner.run(
        ctx -> {
          assertThat(ctx).hasFailed();
          assertThat(rootCause(ctx.getStartupFailure()))
              .isInstanceOf(TandemConfigurationException.class)
              .hasMessageContaining("tandem.store.uri is not set");
        });
  }

  @Test
  void anUnknownSchemeFailsStartupNamingTheSchemesOnTheClassPath() {
    runner
        .withPropertyValues("tandem.store.uri=foo://somewhere:1234")
        .run(
            ctx -> {
              assertThat(ctx).hasFailed();
              assertThat(rootCause(ctx.getStartupFailure()))
                  .hasMessageContaining("No Tandem store for scheme 'foo'")
                  .hasMessageContaining("jdbc");
            });
  }

  @Test
  void aJdbcUriThatIsNotTheApplicationsDataSourceFailsStartup() {
    runner
        .withPropertyValues(
            "spring.datasource.url=jdbc:h2:mem:app_a;DB_CLOSE_DELAY=-1",
            "tandem.store.uri=jdbc:h2:mem:other_b")
        .run(
            ctx -> {
              assertThat(ctx).hasFailed();
              assertThat(rootCause(ctx.getStartupFailure()))
                  .isInstanceOf(TandemConfigurationException.class)
                  .hasMessageContaining("is not the application's DataSource")
                  .hasMessageContaining("jdbc:h2:mem:app_a");
            });
  }

  @Test
  void theApplicationsDataSourceIsReusedWithItsTransactionManagerAndHealthReportsTheStore() {
    runner
        .withPropertyValues(
            "spring.datasource.url=jdbc:h2:mem:app_c;DB_CLOSE_DELAY=-1",
            "tandem.store.uri=jdbc:h2:mem:app_c",
            "tandem.group=payments")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx).getBean(OffsetStore.class).isInstanceOf(JdbcOffsetStore.class);
              assertThat(ctx.getBean(TandemKafka.class).group()).isEqualTo("payments");
              Health health =
                  ctx.getBean("tandemHealthIndicator", AbstractHealthIndicator.class).health(true);
              assertThat(health.getStatus()).isEqualTo(Status.UP);
              assertThat(health.getDetails()).containsEntry("guarantee", "TRANSACTIONAL");
            });
  }

  @Test
  void aTransactionManagerThatDoesNotCoverTheDataSourceFailsStartup() {
    runner
        .withUserConfiguration(ForeignTransactions.class)
        .withPropertyValues(
            "spring.datasource.url=jdbc:h2:mem:app_d;DB_CLOSE_DELAY=-1",
            "tandem.store.uri=jdbc:h2:mem:app_d")
        .run(
            ctx -> {
              assertThat(ctx).hasFailed();
              assertThat(rootCause(ctx.getStartupFailure()))
                  .isInstanceOf(TandemConfigurationException.class)
                  .hasMessageContaining("No transaction manager of the application covers");
            });
  }

  @Test
  void tandemCanBeTurnedOff() {
    runner
        .withPropertyValues("tandem.enabled=false")
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx).doesNotHaveBean(OffsetStore.class);
              assertThat(ctx).doesNotHaveBean(TandemKafka.class);
            });
  }

  /** An application whose only transaction manager is not over its DataSource. */
  @Configuration(proxyBeanMethods = false)
  static class ForeignTransactions {
    @Bean
    PlatformTransactionManager foreignTransactionManager() {
      return new AbstractPlatformTransactionManager() {
        private static final long serialVersionUID = 1L;

        @Override
        protected Object doGetTransaction() {
          return new Object();
        }

        @Override
        protected void doBegin(Object transaction, TransactionDefinition definition) {}

        @Override
        protected void doCommit(DefaultTransactionStatus status) {}

        @Override
        protected void doRollback(DefaultTransactionStatus status) {}
      };
    }
  }
}
