package io.tandem.kafka;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InterruptException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses positions stored for another incarnation of a topic. Kafka gives every topic a {@link
 * Uuid} at creation; a topic deleted and re-created under the same name, or any topic of a
 * re-created cluster, gets a new one. The ID each topic had when the group's positions were first
 * stored is kept next to them, through the {@link OffsetStore} SPI alone, so every store keeps it
 * without change:
 *
 * <ul>
 *   <li>in the reserved group {@value #PREFIX}{@code <group>} (the {@code __tandem.} prefix that
 *       the {@code tandem} admin commands hide);
 *   <li>under the topic's own name, partitions 0 to 3 holding the ID's 128 bits as four 32-bit
 *       words, most significant first (positions must be {@code >= 0}, and a topic name is already
 *       known to fit the store).
 * </ul>
 *
 * On every load of positions (assignment, re-seek) the IDs of the topics concerned are asked of the
 * cluster and compared. An ID not recorded yet is recorded ({@code initialize}: existing wins, so
 * two instances agree). A different ID is adopted when the group has no stored position of the
 * topic at all (nothing to protect) or the user named the topic in {@link
 * TandemConsumer.Builder#adoptTopicIds(String...)}; otherwise {@link TopicIdMismatchException}.
 */
final class TopicIdGuard implements AutoCloseable {

  /** Prefix of the reserved group holding a group's topic IDs. */
  static final String PREFIX = "__tandem.topic-ids.";

  private static final Logger log = LoggerFactory.getLogger(TandemConsumer.class);
  private static final int WORDS = 4;

  /** Where the cluster's topic IDs come from. */
  interface Lookup extends AutoCloseable {
    /**
     * The current topic ID of each topic.
     *
     * @param topics topic names
     * @return an ID for every topic
     * @throws TandemConsumerException if a topic does not exist or the cluster cannot be asked
     */
    Map<String, Uuid> topicIds(Collection<String> topics);

    @Override
    default void close() {}
  }

  private final OffsetStore<?> store;
  private final String group;
  private final String reserved;
  private final Lookup lookup;
  private final Set<String> adopt;

  TopicIdGuard(OffsetStore<?> store, String group, Lookup lookup, Set<String> adopt) {
    this.store = store;
    this.group = group;
    this.reserved = PREFIX + group;
    this.lookup = lookup;
    this.adopt = Set.copyOf(adopt);
  }

  /**
   * Checks the topics whose positions are being loaded; records or adopts IDs as the class says.
   *
   * @throws TopicIdMismatchException if a topic's ID changed while the group has positions of it
   */
  void check(Collection<String> topics) {
    Set<String> names = new TreeSet<>(topics);
    if (names.isEmpty()) {
      return;
    }
    Map<String, Uuid> current = lookup.topicIds(names);
    List<Partition> keys = new ArrayList<>();
    for (String t : names) {
      for (int i = 0; i < WORDS; i++) {
        keys.add(Partition.of(t, i));
      }
    }
    Map<Partition, Long> recorded = store.positions(reserved, keys);
    for (String t : names) {
      Uuid now = current.get(t);
      if (now == null) {
        throw new TandemConsumerException(
            "the cluster returned no topic ID for topic '" + t + "' (group '" + group + "')", null);
      }
      int present = 0;
      for (int i = 0; i < WORDS; i++) {
        present += recorded.containsKey(Partition.of(t, i)) ? 1 : 0;
      }
      if (present == 0) {
        Uuid agreed = decode(t, store.initialize(reserved, encode(t, now)));
        if (now.equals(agreed)) {
          log.info("group={}: recorded topic ID {} of topic '{}'", group, now, t);
          continue;
        }
        mismatch(t, agreed, now); // another instance recorded another ID in the meantime
      } else if (present < WORDS) {
        // A record cut short by a crash of a store that is not atomic across keys carries no
        // trustworthy ID: write it whole.
        store.overwrite(reserved, encode(t, now));
        log.warn(
            "group={}: the topic ID record of '{}' was incomplete; recorded {}", group, t, now);
      } else {
        Uuid stored = decode(t, recorded);
        if (!now.equals(stored)) {
          mismatch(t, stored, now);
        }
      }
    }
  }

  private void mismatch(String topic, Uuid stored, Uuid now) {
    Map<Partition, Long> positions = new TreeMap<>();
    store
        .positions(group)
        .forEach(
            (p, at) -> {
              if (p.topic().equals(topic)) {
                positions.put(p, at);
              }
            });
    if (adopt.contains(topic)) {
      store.overwrite(reserved, encode(topic, now));
      log.warn(
          "group={}: topic '{}' changed its topic ID from {} to {} (deleted and re-created, or a"
              + " new cluster); ADOPTING the new topic as asked (adoptTopicIds), with the stored"
              + " positions {}",
          group,
          topic,
          stored,
          now,
          positions);
    } else if (positions.isEmpty()) {
      store.overwrite(reserved, encode(topic, now));
      log.info(
          "group={}: topic '{}' changed its topic ID from {} to {}; the group has no stored"
              + " position of it, so the new topic is recorded and starts from the reset policy",
          group,
          topic,
          stored,
          now);
    } else {
      throw new TopicIdMismatchException(
          group, topic, stored.toString(), now.toString(), positions);
    }
  }

  static Map<Partition, Long> encode(String topic, Uuid id) {
    long hi = id.getMostSignificantBits();
    long lo = id.getLeastSignificantBits();
    Map<Partition, Long> out = new TreeMap<>();
    out.put(Partition.of(topic, 0), hi >>> 32);
    out.put(Partition.of(topic, 1), hi & 0xffff_ffffL);
    out.put(Partition.of(topic, 2), lo >>> 32);
    out.put(Partition.of(topic, 3), lo & 0xffff_ffffL);
    return out;
  }

  /** The ID recorded for {@code topic}, or null unless all four words are there. */
  static Uuid decode(String topic, Map<Partition, Long> words) {
    long[] w = new long[WORDS];
    for (int i = 0; i < WORDS; i++) {
      Long v = words.get(Partition.of(topic, i));
      if (v == null) {
        return null;
      }
      w[i] = v & 0xffff_ffffL;
    }
    return new Uuid((w[0] << 32) | w[1], (w[2] << 32) | w[3]);
  }

  @Override
  public void close() {
    try {
      lookup.close();
    } catch (Exception e) {
      log.warn("closing the topic ID lookup of group={} failed", group, e);
    }
  }

  /**
   * Asks the cluster with an {@link Admin} client made from the consumer's properties (bootstrap
   * servers, security), created on first use.
   */
  static Lookup admin(Map<String, Object> consumerProperties) {
    Map<String, Object> props = new HashMap<>();
    Set<String> known = AdminClientConfig.configNames();
    consumerProperties.forEach(
        (k, v) -> {
          if (known.contains(k)) {
            props.put(k, v);
          }
        });
    Object clientId = consumerProperties.get(ConsumerConfig.CLIENT_ID_CONFIG);
    props.put(
        AdminClientConfig.CLIENT_ID_CONFIG, (clientId == null ? "tandem" : clientId) + "-ids");
    Object apiTimeout = consumerProperties.get(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG);
    Duration timeout =
        Duration.ofMillis(apiTimeout == null ? 60_000 : Long.parseLong(String.valueOf(apiTimeout)));
    return new AdminLookup(props, timeout);
  }

  private static final class AdminLookup implements Lookup {
    private final Map<String, Object> props;
    private final Duration timeout;
    private Admin admin;

    AdminLookup(Map<String, Object> props, Duration timeout) {
      this.props = props;
      this.timeout = timeout;
    }

    @Override
    public synchronized Map<String, Uuid> topicIds(Collection<String> topics) {
      if (admin == null) {
        admin = Admin.create(props);
      }
      Map<String, TopicDescription> described;
      try {
        described =
            admin
                .describeTopics(topics)
                .allTopicNames()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptException(e);
      } catch (ExecutionException | TimeoutException e) {
        Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
        throw new TandemConsumerException(
            "cannot read the topic IDs of "
                + topics
                + " from the cluster to check them against the stored positions: "
                + cause
                + ". Nothing was read. The check needs DESCRIBE on the topics; switch it off"
                + " with topicIdGuard(false) only if topics are never re-created",
            cause);
      }
      Map<String, Uuid> out = new HashMap<>();
      described.forEach((name, d) -> out.put(name, d.topicId()));
      return out;
    }

    @Override
    public synchronized void close() {
      if (admin != null) {
        admin.close(Duration.ofSeconds(5));
        admin = null;
      }
    }
  }
}
