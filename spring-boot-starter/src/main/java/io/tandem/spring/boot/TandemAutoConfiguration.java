package io.tandem.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.tandem.spi.OffsetStore;
import io.tandem.spring.StoreHandleArgumentResolver;
import io.tandem.spring.TandemKafka;
import io.tandem.spring.TandemListenerMetrics;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.KafkaListenerConfigurer;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.util.ClassUtils;

/**
 * Tandem for Spring Boot: the {@link OffsetStore} from {@code tandem.store.uri} (through
 * ServiceLoader; a JDBC URI naming the application's DataSource reuses it and its transactions),
 * exactly-once {@code @KafkaListener} containers, the store's handle as a listener parameter,
 * Actuator health and Micrometer metrics.
 *
 * @since 0.1
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
      "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration"
    })
@ConditionalOnClass(KafkaListenerEndpointRegistry.class)
@ConditionalOnProperty(
    prefix = "tandem",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(TandemProperties.class)
public class TandemAutoConfiguration {

  private static final boolean JDBC =
      ClassUtils.isPresent("io.tandem.jdbc.JdbcOffsetStore", null)
          && ClassUtils.isPresent("org.springframework.jdbc.datasource.DataSourceUtils", null)
          && ClassUtils.isPresent("javax.sql.DataSource", null);

  /** For Spring. */
  public TandemAutoConfiguration() {}

  /**
   * The store of {@code tandem.store.uri}.
   *
   * @param properties Tandem's settings
   * @param dataSources the application's DataSource, if it has one
   * @return the open store, closed with the context
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(OffsetStore.class)
  public OffsetStore<?> tandemOffsetStore(
      TandemProperties properties, ObjectProvider<DataSource> dataSources) {
    String uri = TandemStoreFactory.requireUri(properties);
    DataSource ds = onDataSource(uri, dataSources);
    if (ds != null) {
      return JdbcStores.openOnDataSource(uri, properties.getStore().getProperties(), ds);
    }
    return TandemStoreFactory.open(uri, properties.getStore().getProperties());
  }

  /**
   * The adapter configuration every managed container gets.
   *
   * @param properties Tandem's settings
   * @param store the store
   * @param dataSources the application's DataSource, if it has one
   * @param transactionManagers the application's transaction managers
   * @param metrics where measurements go
   * @return the configuration
   */
  @Bean
  @ConditionalOnMissingBean
  public TandemKafka tandemKafka(
      TandemProperties properties,
      OffsetStore<?> store,
      ObjectProvider<DataSource> dataSources,
      ObjectProvider<PlatformTransactionManager> transactionManagers,
      ObjectProvider<TandemListenerMetrics> metrics) {
    TandemKafka.Builder b =
        TandemKafka.builder(store)
            .group(properties.getGroup())
            .resetPolicy(properties.getResetPolicy())
            .mirrorToKafka(properties.isMirrorToKafka())
            .maxBackoff(properties.getMaxBackoff())
            .metrics(metrics.getIfAvailable(() -> TandemListenerMetrics.NONE));
    String uri = properties.getStore().getUri();
    DataSource ds = uri == null ? null : onDataSource(uri.trim(), dataSources);
    if (ds != null && JdbcStores.isJdbcStore(store)) {
      b.transactionManager(
          JdbcStores.transactionManager(ds, transactionManagers.orderedStream().toList()));
    }
    return b.build();
  }

  private static DataSource onDataSource(String uri, ObjectProvider<DataSource> dataSources) {
    if (!JDBC || !TandemStoreFactory.isJdbc(uri)) {
      return null;
    }
    return dataSources.getIfUnique();
  }

  /**
   * Configures the {@code @KafkaListener} containers before the registry starts them.
   *
   * @param registry the listener registry
   * @param tandem the adapter configuration
   * @param properties Tandem's settings
   * @return the lifecycle bean
   */
  @Bean
  public TandemContainers tandemContainers(
      ObjectProvider<KafkaListenerEndpointRegistry> registry,
      TandemKafka tandem,
      TandemProperties properties) {
    return new TandemContainers(registry, tandem, List.copyOf(properties.getListenerIds()));
  }

  /**
   * Lets listener methods declare a parameter of the store's handle type.
   *
   * @param store the store
   * @return the configurer
   */
  @Bean
  public KafkaListenerConfigurer tandemStoreHandleResolver(OffsetStore<?> store) {
    StoreHandleArgumentResolver resolver = new StoreHandleArgumentResolver(store.handleType());
    return registrar -> registrar.setCustomMethodArgumentResolvers(resolver);
  }

  /** Micrometer meters, when Micrometer is on the class path. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterRegistry.class)
  static class Metrics {

    @Bean
    @ConditionalOnMissingBean
    TandemListenerMetrics tandemListenerMetrics(ObjectProvider<MeterRegistry> registry) {
      MeterRegistry r = registry.getIfAvailable();
      return r == null ? TandemListenerMetrics.NONE : new MicrometerTandemMetrics(r);
    }
  }

  /** Actuator health, when Spring Boot's health support is on the class path. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(AbstractHealthIndicator.class)
  static class Health {

    @Bean
    @ConditionalOnMissingBean(name = "tandemHealthIndicator")
    AbstractHealthIndicator tandemHealthIndicator(OffsetStore<?> store) {
      return new TandemHealthIndicator(store);
    }
  }
}
