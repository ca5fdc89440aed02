package io.tandem.kafka;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mirrors positions that a store has committed into Kafka's committed offsets of the consumer's
 * group, so that lag tools which read Kafka's group offsets (kafka-consumer-groups, Burrow,
 * exporters) see how far a Tandem group is. For monitoring only: the store stays the only source of
 * positions and Tandem never reads the mirror back (every assignment seeks from the store).
 *
 * <p>The mirror is {@link Consumer#commitAsync(Map,
 * org.apache.kafka.clients.consumer.OffsetCommitCallback)} on the consumer that polled the records:
 * a group member commits with its own generation, where an admin client's {@code
 * alterConsumerGroupOffsets} is refused while the group has members. It never blocks and never
 * throws: a failed mirror commit is counted and logged at DEBUG (WARN for the first), and
 * processing goes on. Call it on the consumer's thread, after the store commit returned; a later
 * mirror overtaking an earlier one is harmless since each carries the newest positions of its
 * partitions.
 *
 * <p>Framework adapters (Spring Kafka, Kafka Connect, Spark) that hold a {@link Consumer} use this
 * class as the runtime does; it depends on kafka-clients and the SPI only, not on the runtime's
 * loop.
 *
 * @since 0.1
 */
public final class OffsetMirror {
  private static final Logger log = LoggerFactory.getLogger(OffsetMirror.class);

  /** The metadata Tandem's mirrored offsets carry, so a reader can tell them from others. */
  public static final String METADATA = "tandem-mirror";

  private final String group;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  /**
   * A mirror for one group.
   *
   * @param group the group, for logs
   */
  public OffsetMirror(String group) {
    this.group = java.util.Objects.requireNonNull(group, "group must not be null");
  }

  /**
   * Sends the {@code until} of every range as the group's committed offset of its partition.
   * Returns at once; never throws.
   *
   * @param consumer the consumer that polled the ranges' records, on its own thread
   * @param ranges ranges the store has just committed
   */
  public void mirror(Consumer<?, ?> consumer, Collection<OffsetRange> ranges) {
    Map<Partition, Long> positions = new HashMap<>();
    for (OffsetRange r : ranges) {
      positions.put(r.partition(), r.until());
    }
    mirror(consumer, positions);
  }

  /**
   * Sends positions read from (or just committed to) the store as the group's committed offsets,
   * for example every position loaded on an assignment. Returns at once; never throws.
   *
   * @param consumer the consumer assigned these partitions, on its own thread
   * @param positions the positions the store holds
   */
  public void mirror(Consumer<?, ?> consumer, Map<Partition, Long> positions) {
    if (positions.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    positions.forEach(
        (p, pos) ->
            offsets.put(
                new TopicPartition(p.topic(), p.partition()),
                new OffsetAndMetadata(pos, METADATA)));
    try {
      consumer.commitAsync(
          offsets,
          (done, e) -> {
            if (e == null) {
              sent.incrementAndGet();
            } else {
              failure(e);
            }
          });
    } catch (RuntimeException e) {
      // A revoked partition, a closing consumer, a fenced member: monitoring only.
      failure(e);
    }
  }

  private void failure(Exception e) {
    if (failed.getAndIncrement() == 0) {
      log.warn(
          "group={}: mirroring committed positions to Kafka's group offsets failed ({}); lag"
              + " tools may lag behind. Processing is not affected; further failures at DEBUG",
          group,
          e.toString());
    } else {
      log.debug("group={}: offset mirror failed", group, e);
    }
  }

  /**
   * Mirror commits Kafka acknowledged.
   *
   * @return the count
   */
  public long mirrored() {
    return sent.get();
  }

  /**
   * Mirror commits that failed.
   *
   * @return the count
   */
  public long failures() {
    return failed.get();
  }
}
