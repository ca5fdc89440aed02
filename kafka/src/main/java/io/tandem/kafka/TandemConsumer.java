package io.tandem.kafka;

import io.tandem.kafka.internal.Metrics;
import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka consumer whose offsets live in an {@link OffsetStore}, committed together with each
 * batch's results: exactly-once processing without Kafka transactions on the consuming side.
 *
 * <p>How it runs: it never commits offsets to Kafka ({@code enable.auto.commit=false}). On every
 * assignment it reads the partitions' positions from the store, initializes missing ones from the
 * {@link ResetPolicy}, and seeks. Each poll becomes, per partition, a range from the position
 * before the poll to the consumer's position after it; the batch's results and those ranges are
 * committed in one {@link OffsetStore#commit} call (or one per partition, see {@link CommitScope}).
 * A conflict (another instance advanced the store) drops the batch for those partitions and
 * re-seeks from the store. A store outage is retried with backoff, re-reading positions before each
 * retry, so a commit whose outcome was unknown is never applied twice. Nothing counts as done
 * before the store's commit returns.
 *
 * <p>Threads: {@link #run()} blocks the calling thread and owns the Kafka consumer. With {@link
 * Builder#pipelined(boolean)} (off by default) processing and store commits run on one commit
 * thread of the consumer's own while the {@code run()} thread fetches the next batch. {@link
 * #shutdown()}, {@link #close()} and {@link #stats()} may be called from any thread. A {@link
 * ConsumerListener} is told of assignments, positions, commits, conflicts and retries.
 *
 * <pre>{@code
 * TandemConsumer<String, String, Connection> consumer =
 *     TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
 *         .bootstrapServers("localhost:9092")
 *         .group("order-totals")
 *         .topics("orders")
 *         .processor((batch, connection) -> { ... write through connection ... })
 *         .build();
 * Runtime.getRuntime().addShutdownHook(new Thread(consumer::close));
 * consumer.run();
 * }</pre>
 *
 * @param <K> the record key type
 * @param <V> the record value type
 * @param <T> the store's handle type
 * @since 0.1
 */
public final class TandemConsumer<K, V, T> implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TandemConsumer.class);

  /** The lifecycle of a consumer. */
  public enum State {
    /** Built; {@link #run()} not called yet. */
    NEW,
    /** {@link #run()} is polling and committing. */
    RUNNING,
    /** A stop was requested; the in-flight batch finishes or is abandoned. */
    STOPPING,
    /** Stopped cleanly. */
    STOPPED,
    /** {@link #run()} ended with an exception. */
    FAILED
  }

  private final Engine<K, V, T> engine;

  private TandemConsumer(Engine<K, V, T> engine) {
    this.engine = engine;
  }

  /**
   * Starts a builder.
   *
   * @param <K> the record key type
   * @param <V> the record value type
   * @param <T> the store's handle type
   * @param store where offsets (and, for a {@link BatchProcessor}, results) are committed; the
   *     consumer does not close it
   * @param keyDeserializer turns key bytes into keys; configured with the consumer properties and
   *     closed with the consumer
   * @param valueDeserializer turns value bytes into values; configured and closed likewise
   * @return a new builder
   * @throws NullPointerException if an argument is null
   */
  public static <K, V, T> Builder<K, V, T> builder(
      OffsetStore<T> store, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
    return new Builder<>(store, keyDeserializer, valueDeserializer);
  }

  /**
   * Polls and commits until {@link #shutdown()} or {@link #close()} is called from another thread,
   * or a failure stops it. Returns normally after a requested stop, having closed the Kafka
   * consumer; the in-flight batch is either committed or abandoned (never half-committed).
   *
   * @throws IllegalStateException if called twice, or after {@link #close()}
   * @throws PoisonRecordException if a record fails and no dead-letter writer is configured
   * @throws PositionOutOfRangeException if a stored position is before the log start under {@link
   *     OutOfRangePolicy#FAIL}, or beyond the log end under either policy
   * @throws TopicIdMismatchException if a topic was deleted and re-created (or the cluster
   *     re-created) since the group's positions of it were stored; see {@link
   *     Builder#topicIdGuard(boolean)}
   * @throws MissingPositionException if a partition has no stored position under {@link
   *     ResetPolicy#FAIL}
   * @throws io.tandem.spi.StoreUnavailableException if the store stays unavailable beyond the
   *     {@link RetryPolicy}
   * @throws io.tandem.spi.OffsetStoreException for any other store failure
   * @throws org.apache.kafka.common.KafkaException for a Kafka failure
   */
  public void run() {
    engine.run();
  }

  /**
   * Asks {@link #run()} to stop, without waiting: it finishes or abandons the in-flight batch
   * (never half-commits it), closes the Kafka consumer and returns. Unlike Kafka's {@code
   * KafkaConsumer.wakeup()}, this ends the consumer for good. Returns at once; safe from any
   * thread, from inside a processor, and idempotent. {@link #close()} does the same and waits.
   */
  public void shutdown() {
    engine.requestStop();
  }

  /**
   * Stops the consumer and waits, up to the close timeout, for {@link #run()} to return; releases
   * the Kafka consumer if {@link #run()} never ran. Idempotent; safe from any thread (from inside a
   * processor it only requests the stop). The store is not closed: it is the caller's.
   */
  @Override
  public void close() {
    engine.close();
  }

  /**
   * A snapshot of this consumer's counters.
   *
   * @return the counters
   */
  public ConsumerStats stats() {
    return engine.stats();
  }

  /**
   * The consumer's state now.
   *
   * @return the state
   */
  public State state() {
    return engine.state();
  }

  /**
   * The Tandem group: the name under which positions are kept in the store.
   *
   * @return the group
   */
  public String group() {
    return engine.settings().group();
  }

  /**
   * The commit scope in effect, after resolving the default against the store's capabilities.
   *
   * @return the scope
   */
  public CommitScope commitScope() {
    return engine.settings().scope();
  }

  /**
   * Configures and builds a {@link TandemConsumer}. Required: {@code bootstrap.servers} (directly
   * or as a property), a {@link #group(String)}, a source ({@link #topics(String...)}, {@link
   * #topicPattern(Pattern)} or {@link #assign(Collection)}) and exactly one of {@link
   * #processor(BatchProcessor)} or {@link #sink(IdempotentSink)}. Every option is checked in {@link
   * #build()}.
   *
   * @param <K> the record key type
   * @param <V> the record value type
   * @param <T> the store's handle type
   * @since 0.1
   */
  public static final class Builder<K, V, T> {

    /** The default poll timeout. */
    public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(500);

    /**
     * Whether a consumer fetches its next batch while the current one commits unless {@link
     * #pipelined(boolean)} says otherwise. Off: on the 2-core benchmark machine, saturated at the
     * time, pipelining measured slower (each batch's two thread hand-offs waited for a CPU); every
     * test of the kafka module and the PostgreSQL end-to-end kit pass with it on.
     */
    public static final boolean DEFAULT_PIPELINED = false;

    /** The default close timeout. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final OffsetStore<T> store;
    private final Deserializer<K> keyDeserializer;
    private final Deserializer<V> valueDeserializer;
    private final Map<String, Object> properties = new HashMap<>();
    private String group;
    private List<String> topics;
    private Pattern pattern;
    private List<Partition> assignment;
    private BatchProcessor<K, V, T> processor;
    private IdempotentSink<K, V> sink;
    private boolean keyedResults;
    private DeadLetterWriter<K, V, T> deadLetters;
    private ResetPolicy resetPolicy = ResetPolicy.EARLIEST;
    private CommitScope scope;
    private OutOfRangePolicy outOfRange = OutOfRangePolicy.FAIL;
    private RetryPolicy retry = RetryPolicy.defaults();
    private Duration pollTimeout = DEFAULT_POLL_TIMEOUT;
    private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;
    private Clock clock = Clock.systemUTC();
    private boolean mirrorOffsets = true;
    private boolean pipelined = DEFAULT_PIPELINED;
    private boolean requireDurable;
    private boolean topicIdGuard = true;
    private final Set<String> adoptTopicIds = new TreeSet<>();
    private Function<Map<String, Object>, TopicIdGuard.Lookup> topicIdLookup = TopicIdGuard::admin;
    private Object meterRegistry;
    private final List<ConsumerListener> listeners = new ArrayList<>();
    // Where the byte-reading Kafka consumer comes from; tests put a MockConsumer here.
    private Function<Map<String, Object>, Consumer<byte[], byte[]>> consumerFactory =
        props ->
            new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());

    private Builder(
        OffsetStore<T> store, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
      this.store = Objects.requireNonNull(store, "store must not be null");
      this.keyDeserializer =
          Objects.requireNonNull(keyDeserializer, "keyDeserializer must not be null");
      this.valueDeserializer =
          Objects.requireNonNull(valueDeserializer, "valueDeserializer must not be null");
    }

    /**
     * Sets {@code bootstrap.servers}.
     *
     * @param servers {@code host:port[,host:port...]}
     * @return this builder
     */
    public Builder<K, V, T> bootstrapServers(String servers) {
      return property(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    }

    /**
     * Sets one Kafka consumer property. The runtime sets some itself, and {@link #build()} refuses
     * values that contradict them (naming every one refused, and what to do instead): {@code
     * enable.auto.commit} may only be {@code false}; {@code isolation.level} only {@code
     * read_committed}; {@code auto.offset.reset} only the value matching the {@link
     * #resetPolicy(ResetPolicy)} ({@code earliest}, {@code latest}, or {@code none} for {@link
     * ResetPolicy#FAIL}), since the policy decides and Kafka is always given {@code none}; {@code
     * group.id} only the {@link #group(String)}; no deserializer classes.
     *
     * @param key the property name
     * @param value its value
     * @return this builder
     * @throws NullPointerException if {@code key} or {@code value} is null
     */
    public Builder<K, V, T> property(String key, Object value) {
      properties.put(
          Objects.requireNonNull(key, "property key must not be null"),
          Objects.requireNonNull(value, () -> "value of property " + key + " must not be null"));
      return this;
    }

    /**
     * Sets Kafka consumer properties, as {@link #property(String, Object)} does for each.
     *
     * @param props the properties
     * @return this builder
     */
    public Builder<K, V, T> properties(Map<String, ?> props) {
      Objects.requireNonNull(props, "properties must not be null");
      props.forEach(this::property);
      return this;
    }

    /**
     * Sets Kafka consumer properties from a {@link Properties}, as {@link #property(String,
     * Object)} does for each, defaults included (an entry of {@code props} wins over its default).
     *
     * @param props the properties; every key a {@code String}
     * @return this builder
     * @throws IllegalArgumentException if a key is not a {@code String}
     * @throws NullPointerException if {@code props} or a value is null
     */
    public Builder<K, V, T> properties(Properties props) {
      Objects.requireNonNull(props, "properties must not be null");
      // Entries keep non-String values (an Integer max.poll.records), as Kafka's own constructor
      // does; stringPropertyNames() adds the defaults chain, which entrySet() leaves out.
      for (Map.Entry<Object, Object> e : props.entrySet()) {
        if (!(e.getKey() instanceof String)) {
          throw new IllegalArgumentException(
              "property keys must be Strings, got "
                  + e.getKey()
                  + " ("
                  + e.getKey().getClass().getName()
                  + ")");
        }
      }
      for (String key : props.stringPropertyNames()) {
        if (!props.containsKey(key)) {
          property(key, props.getProperty(key)); // only in the defaults
        }
      }
      for (Map.Entry<Object, Object> e : props.entrySet()) {
        property((String) e.getKey(), e.getValue());
      }
      return this;
    }

    /**
     * Names the Tandem group: the key of this consumer's positions in the store. In subscribe mode
     * it is also the Kafka {@code group.id}; a {@code group.id} property that differs is refused by
     * {@link #build()}, since two deployments would then both consume every partition and meet only
     * as conflicts in the store. Required.
     *
     * @param name the group; not empty
     * @return this builder
     */
    public Builder<K, V, T> group(String name) {
      this.group = Objects.requireNonNull(name, "group must not be null");
      return this;
    }

    /**
     * Subscribes to topics with Kafka's group management.
     *
     * @param names the topics
     * @return this builder
     */
    public Builder<K, V, T> topics(String... names) {
      return topics(List.of(names));
    }

    /**
     * Subscribes to topics with Kafka's group management.
     *
     * @param names the topics; not empty
     * @return this builder
     */
    public Builder<K, V, T> topics(Collection<String> names) {
      this.topics = List.copyOf(new LinkedHashSet<>(names));
      return this;
    }

    /**
     * Subscribes to every topic matching a pattern, with Kafka's group management.
     *
     * @param topicPattern the pattern
     * @return this builder
     */
    public Builder<K, V, T> topicPattern(Pattern topicPattern) {
      this.pattern = Objects.requireNonNull(topicPattern, "topicPattern must not be null");
      return this;
    }

    /**
     * Reads exactly these partitions, without Kafka group management (no rebalances). The Tandem
     * {@link #group(String)} still names the positions in the store, so two consumers assigned the
     * same partition under one group conflict in the store instead of duplicating work. The group
     * is the Kafka consumer's {@code group.id} as well (never joined: it names whose committed
     * offsets the {@link #mirrorOffsets(boolean) mirror} writes, so lag tools see the group).
     *
     * @param partitions the partitions; not empty
     * @return this builder
     */
    public Builder<K, V, T> assign(Collection<Partition> partitions) {
      this.assignment = List.copyOf(new LinkedHashSet<>(partitions));
      return this;
    }

    /**
     * Processes each batch inside the store's commit, writing results through the store's handle.
     *
     * @param batchProcessor the processor
     * @return this builder
     */
    public Builder<K, V, T> processor(BatchProcessor<K, V, T> batchProcessor) {
      this.processor = Objects.requireNonNull(batchProcessor, "processor must not be null");
      return this;
    }

    /**
     * Writes each batch's keyed results anywhere before its offsets commit.
     *
     * @param idempotentSink the sink
     * @return this builder
     */
    public Builder<K, V, T> sink(IdempotentSink<K, V> idempotentSink) {
      this.sink = Objects.requireNonNull(idempotentSink, "sink must not be null");
      return this;
    }

    /**
     * Declares that the {@link BatchProcessor}'s writes are keyed upserts that a replay overwrites.
     * Required to use a processor with a store whose guarantee is {@link Guarantee#IDEMPOTENT}:
     * such a store may keep a batch's results after a conflict, so folds would count twice.
     *
     * @return this builder
     */
    public Builder<K, V, T> keyedResults() {
      this.keyedResults = true;
      return this;
    }

    /**
     * Sets poison records aside instead of stopping: a record that cannot be deserialized, or whose
     * processing fails on its own, is written by {@code writer} in the commit that moves past it.
     * When a batch fails, the runtime replays it record by record to find the poison ones; the
     * others commit normally. Without this, a poison record stops the consumer with a {@link
     * PoisonRecordException}.
     *
     * <p>A processor or sink that throws {@link io.tandem.spi.StoreUnavailableException} signals a
     * transient failure: it is retried under the {@link RetryPolicy}, never dead-lettered.
     *
     * @param writer writes the dead letter through the store's handle
     * @return this builder
     */
    public Builder<K, V, T> deadLetters(DeadLetterWriter<K, V, T> writer) {
      this.deadLetters = Objects.requireNonNull(writer, "deadLetters must not be null");
      return this;
    }

    /**
     * Where partitions without a stored position start. Default {@link ResetPolicy#EARLIEST}.
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder<K, V, T> resetPolicy(ResetPolicy policy) {
      this.resetPolicy = Objects.requireNonNull(policy, "resetPolicy must not be null");
      return this;
    }

    /**
     * How much one commit covers. Default: {@link CommitScope#PER_POLL} when the store is atomic
     * across partitions, else {@link CommitScope#PER_PARTITION}. Asking for {@code PER_POLL} on a
     * store that is not atomic across partitions is refused by {@link #build()}.
     *
     * @param commitScope the scope
     * @return this builder
     */
    public Builder<K, V, T> commitScope(CommitScope commitScope) {
      this.scope = Objects.requireNonNull(commitScope, "commitScope must not be null");
      return this;
    }

    /**
     * What to do when a stored position is no longer in the log. Default {@link
     * OutOfRangePolicy#FAIL}.
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder<K, V, T> outOfRange(OutOfRangePolicy policy) {
      this.outOfRange = Objects.requireNonNull(policy, "outOfRange must not be null");
      return this;
    }

    /**
     * How store outages are retried. Default {@link RetryPolicy#defaults()}.
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder<K, V, T> retry(RetryPolicy policy) {
      this.retry = Objects.requireNonNull(policy, "retry must not be null");
      return this;
    }

    /**
     * The longest a poll waits for records. Default 500 ms.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder<K, V, T> pollTimeout(Duration timeout) {
      this.pollTimeout = Objects.requireNonNull(timeout, "pollTimeout must not be null");
      return this;
    }

    /**
     * How long {@link TandemConsumer#close()} waits for {@link TandemConsumer#run()} to return, and
     * how long closing the Kafka consumer may take. Default 30 s.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder<K, V, T> closeTimeout(Duration timeout) {
      this.closeTimeout = Objects.requireNonNull(timeout, "closeTimeout must not be null");
      return this;
    }

    /**
     * The clock for latencies and timestamps in metrics and logs; tests pass a fixed or stepping
     * clock. Default the system UTC clock.
     *
     * @param source the clock
     * @return this builder
     */
    public Builder<K, V, T> clock(Clock source) {
      this.clock = Objects.requireNonNull(source, "clock must not be null");
      return this;
    }

    /**
     * Whether to mirror every committed position into Kafka's committed offsets of the group
     * ({@link OffsetMirror}), so that lag tools reading Kafka's group offsets see the group's
     * progress. Monitoring only: positions are always read from the store, never from the mirror,
     * and a failed mirror never affects processing. Default true.
     *
     * @param enabled false to leave Kafka's group offsets alone
     * @return this builder
     */
    public Builder<K, V, T> mirrorOffsets(boolean enabled) {
      this.mirrorOffsets = enabled;
      return this;
    }

    /**
     * Whether to fetch the next batch while the current one commits. With it, each batch's
     * processing and store commit run on one dedicated commit thread while the thread that called
     * {@link TandemConsumer#run()} (which alone calls the Kafka consumer) polls and decodes the
     * next batch, so the store's round trip and Kafka's fetch overlap. At most one fetched batch
     * waits; before it is processed the commit's outcome is applied: the records of a partition
     * whose commit conflicted, that was revoked or lost, or whose commit failed are dropped
     * unprocessed and the partition is re-read from its stored position. A revocation waits for the
     * commit in flight before it returns. The processor, sink and dead-letter writer then always
     * run on the commit thread, one batch at a time, never on the {@code run()} thread.
     * Deserializers still run on the {@code run()} thread; a record decoded ahead and then dropped
     * is decoded again when it is read again. Default {@link #DEFAULT_PIPELINED}.
     *
     * @param enabled true to overlap the commit with the next fetch, false to poll only after the
     *     commit
     * @return this builder
     */
    public Builder<K, V, T> pipelined(boolean enabled) {
      this.pipelined = enabled;
      return this;
    }

    /**
     * Refuses, at {@link #build()}, a store whose {@link Capabilities#durable()} says a commit that
     * returned may be lost when its server crashes as configured now (Redis without {@code
     * appendfsync always}, Cassandra with {@code commitlog_sync: periodic}, PostgreSQL with {@code
     * fsync} off, an in-memory store). Without it such a store gets one WARN at build.
     *
     * @return this builder
     */
    public Builder<K, V, T> requireDurable() {
      this.requireDurable = true;
      return this;
    }

    /**
     * Whether to check, on every assignment, that each topic is still the topic the group's
     * positions were stored for (its Kafka topic ID), and refuse with {@link
     * TopicIdMismatchException} a topic deleted and re-created under the same name or a re-created
     * cluster. The ID is asked of the cluster with an admin client made from the consumer's
     * properties (it needs DESCRIBE on the topics, which READ implies) and kept in the store under
     * the reserved group {@code __tandem.topic-ids.<group>}. Default true; switch it off only where
     * topics are never re-created or the cluster cannot be described.
     *
     * @param enabled false to skip the check
     * @return this builder
     */
    public Builder<K, V, T> topicIdGuard(boolean enabled) {
      this.topicIdGuard = enabled;
      return this;
    }

    /**
     * Accepts, for this run, a new topic ID of these topics while the group has positions stored
     * for the old one: the stored positions are read as positions of the new topic, and the new ID
     * is recorded. For an operator who re-created a topic and set the group's positions for it on
     * purpose (for example with {@code tandem offsets reset}); remove the call afterwards. A stored
     * position beyond the new topic's log end is still refused ({@link
     * PositionOutOfRangeException}).
     *
     * @param topicNames the topics whose new topic ID to adopt
     * @return this builder
     */
    public Builder<K, V, T> adoptTopicIds(String... topicNames) {
      for (String t : topicNames) {
        if (t == null || t.isEmpty()) {
          throw new IllegalArgumentException("adoptTopicIds: topic names must not be empty");
        }
        adoptTopicIds.add(t);
      }
      return this;
    }

    /** Replaces where topic IDs come from (tests). Not public API. */
    Builder<K, V, T> topicIdLookup(Function<Map<String, Object>, TopicIdGuard.Lookup> lookup) {
      this.topicIdLookup = Objects.requireNonNull(lookup, "topicIdLookup must not be null");
      return this;
    }

    /**
     * Publishes metrics to this Micrometer {@code io.micrometer.core.instrument.MeterRegistry}.
     * Without this call, when Micrometer is on the class path, metrics go to {@code
     * Metrics.globalRegistry}; without Micrometer there are only {@link TandemConsumer#stats()}.
     *
     * <p>The parameter is typed {@code Object} on purpose: a {@code MeterRegistry} in this
     * signature would make reflection over the builder (frameworks calling {@code getMethods()})
     * fail with {@code NoClassDefFoundError} wherever Micrometer is absent.
     *
     * @param registry a {@code MeterRegistry}
     * @return this builder
     * @throws IllegalArgumentException (from {@link #build()}) if {@code registry} is not a {@code
     *     MeterRegistry}
     */
    public Builder<K, V, T> meterRegistry(Object registry) {
      this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry must not be null");
      return this;
    }

    /**
     * Adds a listener told of assignments, positions, commits, conflicts and retries, on the thread
     * that runs {@link TandemConsumer#run()}. Listeners are called in the order added; what one
     * throws is logged and ignored.
     *
     * @param listener the listener
     * @return this builder
     * @throws NullPointerException if {@code listener} is null
     */
    public Builder<K, V, T> listener(ConsumerListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener must not be null"));
      return this;
    }

    /**
     * Replaces how the Kafka consumer is created from the resolved properties: the seam through
     * which unit tests drive the runtime over Kafka's {@code MockConsumer}. Not public API.
     */
    Builder<K, V, T> consumerFactory(
        Function<Map<String, Object>, Consumer<byte[], byte[]>> factory) {
      this.consumerFactory = Objects.requireNonNull(factory, "consumerFactory must not be null");
      return this;
    }

    /**
     * Checks every option and creates the consumer (and its Kafka consumer, which connects lazily).
     *
     * @return the consumer; call {@link TandemConsumer#run()}
     * @throws IllegalArgumentException if an option is missing or contradicts another, or if Kafka
     *     properties contradict what the runtime needs; the message names every refused property
     * @throws IllegalStateException if the store cannot support the chosen processing or scope
     * @throws io.tandem.spi.StoreUnavailableException if the store must be asked for its
     *     capabilities and cannot be reached
     */
    public TandemConsumer<K, V, T> build() {
      if (group == null || group.isEmpty()) {
        throw new IllegalArgumentException(
            "group is required: it names this consumer's positions in the store");
      }
      int sources = (topics != null ? 1 : 0) + (pattern != null ? 1 : 0);
      sources += assignment != null ? 1 : 0;
      if (sources != 1) {
        throw new IllegalArgumentException(
            "choose exactly one source: topics(...), topicPattern(...) or assign(...); got "
                + sources);
      }
      if (topics != null && topics.isEmpty()) {
        throw new IllegalArgumentException("topics must not be empty");
      }
      if (assignment != null && assignment.isEmpty()) {
        throw new IllegalArgumentException("assign(...) needs at least one partition");
      }
      if ((processor == null) == (sink == null)) {
        throw new IllegalArgumentException(
            "choose exactly one of processor(...) (results in the store's commit) or sink(...)"
                + " (keyed results written before the offsets commit)");
      }
      requirePositive("pollTimeout", pollTimeout);
      requirePositive("closeTimeout", closeTimeout);
      Map<String, Object> props = kafkaProperties();

      Capabilities caps = store.capabilities();
      if (!caps.durable()) {
        // The same words for every store: the runtime reads the capability, the store only
        // states it.
        String what =
            "the store is not durable as configured: a commit that returned may be lost when its"
                + " server crashes, and the consumer would then re-read records whose results are"
                + " gone ("
                + caps.description()
                + ")";
        if (requireDurable) {
          throw new IllegalStateException(
              "requireDurable(): "
                  + what
                  + ". Configure the server for durability, or drop requireDurable().");
        }
        log.warn("Tandem consumer group={}: {}", group, what);
      }
      if (processor != null && caps.guarantee() == Guarantee.IDEMPOTENT && !keyedResults) {
        throw new IllegalStateException(
            "the store is IDEMPOTENT ("
                + caps.description()
                + "): after a conflict a batch's results may stay while its offsets do not move,"
                + " so a BatchProcessor would apply a replayed batch twice. Use sink(...) with"
                + " keyed writes, or call keyedResults() if the processor only upserts by key.");
      }
      CommitScope resolved = scope;
      if (resolved == null) {
        resolved = caps.atomicAcrossPartitions() ? CommitScope.PER_POLL : CommitScope.PER_PARTITION;
      } else if (resolved == CommitScope.PER_POLL && !caps.atomicAcrossPartitions()) {
        throw new IllegalStateException(
            "commitScope PER_POLL needs a store that is atomic across partitions, but this one is"
                + " not ("
                + caps.description()
                + "). Use CommitScope.PER_PARTITION, or leave the scope unset to use the best the"
                + " store supports.");
      }
      Settings<K, V, T> settings =
          new Settings<>(
              store,
              group,
              topics,
              pattern,
              assignment,
              processor,
              sink,
              deadLetters,
              resetPolicy,
              resolved,
              caps.maxRangesPerCommit(),
              outOfRange,
              retry,
              pollTimeout,
              closeTimeout,
              clock,
              mirrorOffsets,
              pipelined,
              topicIdGuard ? topicIdLookup.apply(props) : null,
              adoptTopicIds,
              listeners);
      Metrics metrics = Metrics.create(meterRegistry, group);
      keyDeserializer.configure(props, true);
      valueDeserializer.configure(props, false);
      Consumer<byte[], byte[]> kafka = consumerFactory.apply(props);
      log.info(
          "Tandem consumer built: group={} source={} processing={} scope={} pipelined={}"
              + " store=\"{}\"",
          group,
          topics != null ? topics : pattern != null ? "pattern " + pattern : "assign " + assignment,
          processor != null ? "transactional processor" : "idempotent sink",
          resolved,
          pipelined,
          caps.description());
      return new TandemConsumer<>(
          new Engine<>(settings, kafka, keyDeserializer, valueDeserializer, metrics));
    }

    private Map<String, Object> kafkaProperties() {
      Map<String, Object> props = new HashMap<>(properties);
      if (!props.containsKey(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
        throw new IllegalArgumentException(
            "bootstrap.servers is required: call bootstrapServers(...) or set the property");
      }
      // Every refusal is collected, so one build() names them all.
      List<String> refused = new ArrayList<>();
      refuseUnless(
          refused,
          props,
          ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
          "false",
          "Tandem commits offsets to the store together with results and never to Kafka;"
              + " remove the property");
      Object reset = props.get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG);
      if (reset != null
          && !String.valueOf(reset)
              .trim()
              .toLowerCase(Locale.ROOT)
              .equals(kafkaResetName(resetPolicy))) {
        refused.add(
            "auto.offset.reset="
                + reset
                + " contradicts resetPolicy "
                + resetPolicy
                + " (auto.offset.reset="
                + kafkaResetName(resetPolicy)
                + "): partitions without a stored position start where the reset policy says."
                + " Call resetPolicy("
                + resetPolicyFor(reset)
                + ") and remove the property");
      }
      refuseUnless(
          refused,
          props,
          ConsumerConfig.ISOLATION_LEVEL_CONFIG,
          "read_committed",
          "read_uncommitted would process records of aborted producer transactions; Tandem"
              + " requires read_committed");
      Object groupId = props.get(ConsumerConfig.GROUP_ID_CONFIG);
      if (groupId != null && !String.valueOf(groupId).equals(group)) {
        refused.add(
            "group.id="
                + groupId
                + " differs from group(\""
                + group
                + "\"): Kafka would balance partitions among the members of '"
                + groupId
                + "' while positions are kept under '"
                + group
                + "', so two deployments would both consume everything and meet only as"
                + " conflicts. Remove the property (the group is the group.id) or set it equal");
      }
      // Share groups (KIP-932, Kafka 4.x) hand the records of one partition to several members and
      // track delivery per record, acknowledged to the broker: there is no position per partition
      // to keep in a store, so a contiguous range [from, until) cannot describe what a member got.
      // They are used through KafkaShareConsumer, configured by the share.* properties; the
      // group.protocol of a KafkaConsumer only knows classic and consumer.
      for (String key : new TreeSet<>(props.keySet())) {
        if (key.startsWith("share.")) {
          refused.add(
              key
                  + " configures a share group (KafkaShareConsumer). Share groups are refused:"
                  + " they deliver one partition's records to several members and acknowledge"
                  + " records one by one, so there is no position per partition to commit with"
                  + " the results. Tandem needs a consumer group (group.protocol classic or"
                  + " consumer); remove the property");
        }
      }
      Object protocol = props.get(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
      if (protocol != null
          && String.valueOf(protocol).trim().toLowerCase(Locale.ROOT).equals("share")) {
        refused.add(
            "group.protocol="
                + protocol
                + ": share groups are refused (records of one partition go to several members and"
                + " are acknowledged one by one, so there is no position per partition to commit"
                + " with the results). Use group.protocol=classic or consumer");
      }
      for (String key :
          List.of(
              ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
              ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG)) {
        if (props.containsKey(key)) {
          refused.add(
              key
                  + " must not be set: pass the deserializers to TandemConsumer.builder(...); the"
                  + " runtime reads bytes and deserializes itself so that a record that cannot be"
                  + " deserialized can be dead-lettered");
        }
      }
      if (!refused.isEmpty()) {
        throw new IllegalArgumentException(
            refused.size()
                + (refused.size() == 1 ? " Kafka property is" : " Kafka properties are")
                + " refused:\n  - "
                + String.join("\n  - ", refused));
      }
      props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      // none: a fetch outside the log must surface as OffsetOutOfRangeException, never as a silent
      // reset that skips or repeats records behind the store's back. The reset policy is applied
      // by the runtime, through the store's initialize().
      props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
      props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      // With assign() too: a consumer that assigns never joins the group, but without a group.id
      // Kafka refuses every mirror commit (InvalidGroupIdException) and lag tools see nothing.
      props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
      props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "tandem-" + group);
      return props;
    }

    /** The {@code auto.offset.reset} value that means what {@code policy} does. */
    private static String kafkaResetName(ResetPolicy policy) {
      return switch (policy) {
        case EARLIEST -> "earliest";
        case LATEST -> "latest";
        case FAIL -> "none";
      };
    }

    /** The reset policy a user meant by an {@code auto.offset.reset} value, for the message. */
    private static String resetPolicyFor(Object kafkaValue) {
      String v = String.valueOf(kafkaValue).trim().toLowerCase(Locale.ROOT);
      return switch (v) {
        case "earliest" -> "ResetPolicy.EARLIEST";
        case "latest" -> "ResetPolicy.LATEST";
        case "none" -> "ResetPolicy.FAIL";
        default -> "ResetPolicy.EARLIEST, LATEST or FAIL";
      };
    }

    private static void refuseUnless(
        List<String> refused, Map<String, Object> props, String key, String required, String why) {
      Object value = props.get(key);
      if (value != null
          && !String.valueOf(value).trim().toLowerCase(Locale.ROOT).equals(required)) {
        refused.add(
            key
                + "="
                + value
                + " conflicts with the runtime, which needs "
                + required
                + ": "
                + why);
      }
    }

    private static void requirePositive(String name, Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + name + "=" + d);
      }
    }
  }

  /** What the builder resolved; package-private for the engine. */
  record Settings<K, V, T>(
      OffsetStore<T> store,
      String group,
      List<String> topics,
      Pattern pattern,
      List<Partition> assignment,
      BatchProcessor<K, V, T> processor,
      IdempotentSink<K, V> sink,
      DeadLetterWriter<K, V, T> deadLetters,
      ResetPolicy resetPolicy,
      CommitScope scope,
      int maxRangesPerCommit,
      OutOfRangePolicy outOfRange,
      RetryPolicy retry,
      Duration pollTimeout,
      Duration closeTimeout,
      Clock clock,
      boolean mirrorOffsets,
      boolean pipelined,
      TopicIdGuard.Lookup topicIds,
      Set<String> adoptTopicIds,
      List<ConsumerListener> listeners) {
    Settings {
      topics = topics == null ? null : new ArrayList<>(topics);
      adoptTopicIds = Set.copyOf(adoptTopicIds);
      listeners = List.copyOf(listeners);
    }
  }
}
