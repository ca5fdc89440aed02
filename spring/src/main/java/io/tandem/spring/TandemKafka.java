package io.tandem.spring;

import io.tandem.spi.OffsetStore;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.listener.AbstractMessageListenerContainer;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.ContainerProperties.AckMode;
import org.springframework.kafka.listener.ContainerProperties.AssignmentCommitOption;
import org.springframework.kafka.listener.GenericMessageListener;
import org.springframework.kafka.listener.adapter.AsyncRepliesAware;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Makes Spring Kafka listener containers exactly-once over an {@link OffsetStore}: each batch's
 * results and offsets commit together through {@link OffsetStore#commit}.
 *
 * <p>{@link #configure(AbstractMessageListenerContainer)} a container before it starts (or pass
 * {@code tandem::configure} as the container factory's {@code ContainerCustomizer}). It then:
 *
 * <ul>
 *   <li>on every assignment (eager, cooperative, or the consumer protocol of KIP-848, whose
 *       callbacks name only the partitions that changed) reads the assigned partitions' positions
 *       from the store, initializes missing ones by the {@link ResetPolicy}, and seeks, inside the
 *       rebalance callback, so the first record of a partition the listener sees is the one at the
 *       stored position;
 *   <li>runs the listener inside {@link OffsetStore#commit} with the batch's exact ranges: from the
 *       stored position to the last record's offset + 1. A record listener commits each record on
 *       its own. With a {@link PlatformTransactionManager} (JDBC stores on the application's
 *       DataSource), the commit runs inside a Spring transaction, so {@code JdbcTemplate} and
 *       {@code @Transactional} code of the listener writes in the same database transaction as the
 *       offsets. For other stores the listener writes through the store's handle ({@link
 *       StoreHandles}, or a handle-typed listener parameter);
 *   <li>on a conflict (another member moved the partition) drops the batch and re-seeks from the
 *       store; that is not a delivery failure and never reaches the error handler; on an
 *       unreachable store it drops the batch, backs off and reloads the positions (the commit's
 *       outcome may be unknown), again without involving the error handler;
 *   <li>a listener exception rolls the batch back and reaches the container's error handler as the
 *       listener's own exception, so retries, back-off and dead-letter publishing work as usual; a
 *       record skipped by the error handler (recovered) counts as consumed with the next commit;
 *   <li>turns Kafka's offset commits off: {@code enable.auto.commit=false}, {@link AckMode#MANUAL}
 *       with nothing acknowledged, no commit on assignment, and {@code auto.offset.reset=none}
 *       (positions come from the store only; a stored position that retention deleted fails loudly
 *       instead of jumping). Optionally each store commit is mirrored to Kafka asynchronously for
 *       lag tools; it is never read back.
 * </ul>
 *
 * <p>Refused at {@code configure} time, with the reason: a container transaction manager (it would
 * open a second transaction, or commit to Kafka), an {@code AckMode} other than the default (it
 * would commit offsets to Kafka), asynchronous acknowledgments or replies, and listeners that are
 * not Spring Kafka message listeners. Share-group containers have no partition offsets and cannot
 * be configured here.
 *
 * <p>Not supported: {@code ConsumerSeekAware} listeners (their seek callbacks are not called:
 * positions come from the store; reset them with the {@code tandem} tool instead).
 *
 * @since 0.1
 */
public final class TandemKafka {

  private static final Logger log = LoggerFactory.getLogger(TandemKafka.class);

  private final OffsetStore<?> store;
  private final String group;
  private final ResetPolicy resetPolicy;
  private final TransactionTemplate transactions;
  private final boolean mirrorToKafka;
  private final TandemListenerMetrics metrics;
  private final Duration maxBackoff;

  private TandemKafka(Builder b) {
    this.store = b.store;
    this.group = b.group;
    this.resetPolicy = b.resetPolicy;
    this.transactions =
        b.transactionManager == null ? null : new TransactionTemplate(b.transactionManager);
    this.mirrorToKafka = b.mirrorToKafka;
    this.metrics = b.metrics;
    this.maxBackoff = b.maxBackoff;
  }

  /**
   * Starts a configuration.
   *
   * @param store the store holding the positions and, for transactional stores, the results
   * @return a builder
   */
  public static Builder builder(OffsetStore<?> store) {
    return new Builder(store);
  }

  /**
   * The store.
   *
   * @return the store
   */
  public OffsetStore<?> store() {
    return store;
  }

  /**
   * The store group, or null when each container's consumer group id is used.
   *
   * @return the group
   */
  public String group() {
    return group;
  }

  /**
   * Makes a container exactly-once. Call before the container starts; calling again is harmless.
   *
   * @param container a record or batch listener container (concurrent or single)
   * @throws TandemConfigurationException if the container is set up in a way that would commit
   *     offsets elsewhere or split the transaction; the message says what to change
   */
  // getTransactionManager() is deprecated in Spring Kafka 4 but still honoured by the container, so
  // a container that sets one must still be refused.
  @SuppressWarnings("removal")
  public void configure(AbstractMessageListenerContainer<?, ?> container) {
    Objects.requireNonNull(container, "container must not be null");
    ContainerProperties props = container.getContainerProperties();
    Object listener = props.getMessageListener();
    String name =
        container.getListenerId() != null ? container.getListenerId() : container.toString();
    if (listener instanceof ExactlyOnceListener<?, ?>) {
      return;
    }
    if (container.isRunning()) {
      throw new TandemConfigurationException(
          "Listener container '"
              + name
              + "' is already running: configure it before it starts (as a ContainerCustomizer,"
              + " or with autoStartup=false and start it afterwards).");
    }
    if (!(listener instanceof GenericMessageListener<?> generic)) {
      throw new TandemConfigurationException(
          "Listener container '"
              + name
              + "' has no Spring Kafka message listener (found "
              + (listener == null ? "none" : listener.getClass().getName())
              + "); Tandem can only run MessageListener or BatchMessageListener variants.");
    }
    String storeGroup = storeGroup(container, name);
    if (props.getTransactionManager() != null || props.getKafkaAwareTransactionManager() != null) {
      throw new TandemConfigurationException(
          "Listener container '"
              + name
              + "' has a transaction manager ("
              + (props.getTransactionManager() != null
                  ? props.getTransactionManager().getClass().getName()
                  : props.getKafkaAwareTransactionManager().getClass().getName())
              + "). Tandem runs each batch in the store's own transaction, which Spring JDBC code"
              + " joins; a container transaction would open a second transaction that does not"
              + " cover the store's offsets (or commit offsets to Kafka). Remove it from the"
              + " container factory.");
    }
    AckMode ack = props.getAckMode();
    if (ack != AckMode.BATCH && ack != AckMode.MANUAL) {
      throw new TandemConfigurationException(
          "Listener container '"
              + name
              + "' uses AckMode."
              + ack
              + ", which commits offsets to Kafka. Tandem commits them to the store with the"
              + " results; leave the ack mode at its default (spring.kafka.listener.ack-mode"
              + " unset).");
    }
    if (props.isAsyncAcks()
        || (listener instanceof AsyncRepliesAware async && async.isAsyncReplies())) {
      throw new TandemConfigurationException(
          "Listener container '"
              + name
              + "' acknowledges asynchronously (async acks or a listener returning a"
              + " CompletableFuture/Mono). Tandem commits while the listener runs; make the"
              + " listener synchronous.");
    }
    ExactlyOnceListener<?, ?> wrapped =
        new ExactlyOnceListener<>(
            generic,
            store,
            storeGroup,
            resetPolicy,
            transactions,
            mirrorToKafka,
            metrics,
            maxBackoff,
            props.getConsumerRebalanceListener());
    props.setAckMode(AckMode.MANUAL);
    props.setAssignmentCommitOption(AssignmentCommitOption.NEVER);
    Properties overrides = props.getKafkaConsumerProperties();
    overrides.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    overrides.setProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    props.setKafkaConsumerProperties(overrides);
    props.setConsumerRebalanceListener(wrapped.rebalanceListener());
    container.setupMessageListener(wrapped);
    log.info(
        "Tandem manages listener container '{}': store group '{}', store {}, {} listener",
        name,
        storeGroup,
        store,
        wrapped.batchDelegate() ? "batch" : "record");
  }

  private String storeGroup(AbstractMessageListenerContainer<?, ?> container, String name) {
    String kafkaGroup = container.getGroupId();
    if (group == null) {
      if (kafkaGroup == null || kafkaGroup.isEmpty()) {
        throw new TandemConfigurationException(
            "Listener container '"
                + name
                + "' has no consumer group id and no Tandem group is set: name one"
                + " (spring.kafka.consumer.group-id, @KafkaListener(groupId = ...), or"
                + " tandem.group).");
      }
      return kafkaGroup;
    }
    if (kafkaGroup != null && !kafkaGroup.isEmpty() && !kafkaGroup.equals(group)) {
      throw new TandemConfigurationException(
          "Listener container '"
              + name
              + "' consumes as Kafka group '"
              + kafkaGroup
              + "' but the Tandem group is '"
              + group
              + "'. Positions are kept per group: use one name for both (or leave tandem.group"
              + " unset to use the consumer group id).");
    }
    return group;
  }

  /** Builds a {@link TandemKafka}. */
  public static final class Builder {
    private final OffsetStore<?> store;
    private String group;
    private ResetPolicy resetPolicy = ResetPolicy.EARLIEST;
    private PlatformTransactionManager transactionManager;
    private boolean mirrorToKafka;
    private TandemListenerMetrics metrics = TandemListenerMetrics.NONE;
    private Duration maxBackoff = Duration.ofSeconds(10);

    private Builder(OffsetStore<?> store) {
      this.store = Objects.requireNonNull(store, "store must not be null");
    }

    /**
     * The group positions are stored under. Default: each container's consumer group id; when set,
     * a container consuming as another Kafka group is refused.
     *
     * @param group the store group, not empty
     * @return this builder
     */
    public Builder group(String group) {
      if (group != null && group.isEmpty()) {
        throw new IllegalArgumentException("group must not be empty (null means: the consumer's)");
      }
      this.group = group;
      return this;
    }

    /**
     * Where partitions with no stored position start. Default {@link ResetPolicy#EARLIEST}.
     *
     * @param resetPolicy the policy
     * @return this builder
     */
    public Builder resetPolicy(ResetPolicy resetPolicy) {
      this.resetPolicy = Objects.requireNonNull(resetPolicy, "resetPolicy must not be null");
      return this;
    }

    /**
     * The Spring transaction manager of the DataSource the JDBC store writes to (the store must be
     * opened on a {@code TransactionAwareDataSourceProxy} of that DataSource, as the starter does):
     * each commit then runs inside its transaction, and the listener's Spring JDBC code joins it.
     * Leave unset for other stores.
     *
     * @param transactionManager a {@code DataSourceTransactionManager} of the store's DataSource
     * @return this builder
     */
    public Builder transactionManager(PlatformTransactionManager transactionManager) {
      this.transactionManager = transactionManager;
      return this;
    }

    /**
     * Whether to mirror each committed position to Kafka's group offsets (asynchronously, for lag
     * tools; never read back, failures only logged). Default false.
     *
     * @param mirror true to mirror
     * @return this builder
     */
    public Builder mirrorToKafka(boolean mirror) {
      this.mirrorToKafka = mirror;
      return this;
    }

    /**
     * Where measurements go. Default: nowhere.
     *
     * @param metrics the receiver
     * @return this builder
     */
    public Builder metrics(TandemListenerMetrics metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics must not be null");
      return this;
    }

    /**
     * The longest pause between attempts while the store is unreachable. Default 10 s; keep it well
     * below {@code max.poll.interval.ms}.
     *
     * @param maxBackoff the longest pause, positive
     * @return this builder
     */
    public Builder maxBackoff(Duration maxBackoff) {
      if (maxBackoff == null || maxBackoff.isNegative() || maxBackoff.isZero()) {
        throw new IllegalArgumentException("maxBackoff must be positive, got " + maxBackoff);
      }
      this.maxBackoff = maxBackoff;
      return this;
    }

    /**
     * Builds the configuration.
     *
     * @return the configuration
     */
    public TandemKafka build() {
      return new TandemKafka(this);
    }
  }
}
