package io.tandem.spring.boot;

import io.tandem.spring.TandemConfigurationException;
import io.tandem.spring.TandemKafka;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.AbstractMessageListenerContainer;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * Configures every {@code @KafkaListener} container (or those of {@code tandem.listener-ids})
 * before the registry starts them: a lifecycle phase just below the registry's.
 */
final class TandemContainers implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(TandemContainers.class);

  // Looked up in start(), not injected: an injected Lifecycle dependency is started first, and the
  // registry would start the containers before they are configured.
  private final ObjectProvider<KafkaListenerEndpointRegistry> registry;
  private final TandemKafka tandem;
  private final List<String> ids;
  private volatile boolean running;

  TandemContainers(
      ObjectProvider<KafkaListenerEndpointRegistry> registry,
      TandemKafka tandem,
      List<String> ids) {
    this.registry = registry;
    this.tandem = tandem;
    this.ids = ids;
  }

  @Override
  public void start() {
    int managed = 0;
    for (MessageListenerContainer c : registry.getObject().getAllListenerContainers()) {
      String id = c.getListenerId();
      if (!ids.isEmpty() && !ids.contains(id)) {
        log.info("Listener container '{}' is not in tandem.listener-ids: left alone", id);
        continue;
      }
      if (!(c instanceof AbstractMessageListenerContainer<?, ?> container)) {
        throw new TandemConfigurationException(
            "Listener container '"
                + id
                + "' is a "
                + c.getClass().getName()
                + " (a share-group container?). Share groups have no partition positions, so"
                + " Tandem cannot make them exactly-once; list the other listeners in"
                + " tandem.listener-ids or set tandem.enabled=false.");
      }
      tandem.configure(container);
      managed++;
    }
    if (!ids.isEmpty() && managed < ids.size()) {
      throw new TandemConfigurationException(
          "tandem.listener-ids names " + ids + " but only " + managed + " such listener exists");
    }
    running = true;
  }

  @Override
  public void stop() {
    running = false;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    // The registry starts containers at AbstractMessageListenerContainer.DEFAULT_PHASE.
    return AbstractMessageListenerContainer.DEFAULT_PHASE - 100;
  }
}
