package io.tandem.kafka;

import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import io.tandem.spi.StoreUnavailableException;
import java.time.Duration;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Told what a {@link TandemConsumer} does with partitions and commits: which partitions it owns,
 * where the store says they stand, each commit's ranges and latency, conflicts and retries.
 * Registered with {@link TandemConsumer.Builder#listener(ConsumerListener)}; every method has an
 * empty default, so a listener overrides only what it needs.
 *
 * <p>Methods are called on the thread that runs {@link TandemConsumer#run()}, in the order the
 * events happen, after the event (a commit is reported once the store's commit returned). Keep them
 * quick: the consumer waits for them, and a slow listener delays polls and can cost the group
 * membership. An exception thrown by a listener is logged at WARN and otherwise ignored: it never
 * breaks processing.
 *
 * @since 0.1
 */
public interface ConsumerListener {

  /**
   * Kafka assigned these partitions to this consumer (in assign mode: once, at start). Their
   * positions are not known yet; {@link #positionsLoaded} follows once the store was read.
   *
   * @param group the Tandem group
   * @param partitions the partitions added to this consumer's assignment; not empty
   */
  default void partitionsAssigned(String group, Set<Partition> partitions) {}

  /**
   * Kafka took these partitions away in an orderly rebalance. Batches of them not yet committed are
   * dropped; the next owner starts from the stored positions.
   *
   * @param group the Tandem group
   * @param partitions the partitions revoked; not empty
   */
  default void partitionsRevoked(String group, Set<Partition> partitions) {}

  /**
   * Kafka considers these partitions lost (for example this consumer's session expired): another
   * consumer may already own them. Batches of them not yet committed are dropped.
   *
   * @param group the Tandem group
   * @param partitions the partitions lost; not empty
   */
  default void partitionsLost(String group, Set<Partition> partitions) {}

  /**
   * Positions were read from the store (initialized from the reset policy where none was stored)
   * and the Kafka consumer was moved to them: after an assignment, and again after a conflict.
   * Reading goes on from exactly these positions.
   *
   * @param group the Tandem group
   * @param positions each partition's position as stored now
   */
  default void positionsLoaded(String group, Map<Partition, Long> positions) {}

  /**
   * A commit succeeded: the store moved every range's position to its {@code until}.
   *
   * @param event what was committed and how long it took
   */
  default void committed(CommitEvent event) {}

  /**
   * A commit found positions it did not expect: another writer moved them (or they were deleted).
   * The batch is dropped for these partitions, and their positions are read from the store again
   * ({@link #positionsLoaded} follows).
   *
   * @param event the ranges tried and what was found
   */
  default void conflicted(ConflictEvent event) {}

  /**
   * The store was unavailable; the runtime waits {@link RetryEvent#delay()} and tries again,
   * re-reading the stored positions first when a commit's outcome is unknown.
   *
   * @param event what failed, the attempt and the delay
   */
  default void retrying(RetryEvent event) {}

  /**
   * What a successful commit moved.
   *
   * @param group the Tandem group
   * @param ranges the ranges committed, one per partition, sorted by partition; each position now
   *     stands at {@code until}
   * @param kind what the commit carried
   * @param records the records of the ranges (1 for a dead letter, 0 for skipped positions)
   * @param latency the duration of the store's commit call that applied it
   * @param attempts the store calls this commit took, 1 without outage
   * @since 0.1
   */
  record CommitEvent(
      String group,
      List<OffsetRange> ranges,
      Kind kind,
      int records,
      Duration latency,
      int attempts) {

    /**
     * Copies the ranges.
     *
     * @param group see the record's description
     * @param ranges see the record's description
     * @param kind see the record's description
     * @param records see the record's description
     * @param latency see the record's description
     * @param attempts see the record's description
     * @throws NullPointerException if an object argument is null
     */
    public CommitEvent {
      Objects.requireNonNull(group, "group must not be null");
      ranges = sorted(ranges);
      Objects.requireNonNull(kind, "kind must not be null");
      Objects.requireNonNull(latency, "latency must not be null");
    }

    /**
     * The positions after the commit: each range's {@code until}.
     *
     * @return partition to position, sorted by partition
     */
    public Map<Partition, Long> positions() {
      Map<Partition, Long> out = new TreeMap<>();
      for (OffsetRange r : ranges) {
        out.put(r.partition(), r.until());
      }
      return out;
    }

    /** What a commit carried. */
    public enum Kind {
      /** A batch of records and its results. */
      RECORDS,
      /** One poison record set aside through the dead-letter writer. */
      DEAD_LETTER,
      /**
       * Positions skipped because retention removed them ({@link OutOfRangePolicy#SKIP}); no
       * records.
       */
      SKIPPED_POSITIONS
    }
  }

  /**
   * A commit refused because stored positions differ from the ranges' {@code from}.
   *
   * @param group the Tandem group
   * @param ranges the ranges the runtime tried to commit, sorted by partition
   * @param conflicts each partition found elsewhere, with expected and found position
   * @since 0.1
   */
  record ConflictEvent(String group, List<OffsetRange> ranges, List<Conflict> conflicts) {

    /**
     * Copies the lists.
     *
     * @param group see the record's description
     * @param ranges see the record's description
     * @param conflicts see the record's description
     * @throws NullPointerException if an argument is null
     */
    public ConflictEvent {
      Objects.requireNonNull(group, "group must not be null");
      ranges = sorted(ranges);
      conflicts = List.copyOf(conflicts);
    }
  }

  /**
   * A store call failed with {@link StoreUnavailableException} and will be tried again.
   *
   * @param group the Tandem group
   * @param operation what failed
   * @param partitions the partitions concerned, sorted
   * @param attempt the failed attempt's number, 1 for the first call
   * @param delay how long the runtime waits before the next attempt
   * @param cause what the store threw
   * @since 0.1
   */
  record RetryEvent(
      String group,
      Operation operation,
      Set<Partition> partitions,
      int attempt,
      Duration delay,
      StoreUnavailableException cause) {

    /**
     * Copies the partitions.
     *
     * @param group see the record's description
     * @param operation see the record's description
     * @param partitions see the record's description
     * @param attempt see the record's description
     * @param delay see the record's description
     * @param cause see the record's description
     * @throws NullPointerException if an object argument is null
     */
    public RetryEvent {
      Objects.requireNonNull(group, "group must not be null");
      Objects.requireNonNull(operation, "operation must not be null");
      partitions = Collections.unmodifiableSortedSet(new TreeSet<>(partitions));
      Objects.requireNonNull(delay, "delay must not be null");
      Objects.requireNonNull(cause, "cause must not be null");
    }

    /** The store call that failed. */
    public enum Operation {
      /** Reading (or initializing) positions after an assignment or a conflict. */
      READ_POSITIONS,
      /** A commit; its outcome may be unknown, so positions are re-read before the retry. */
      COMMIT
    }
  }

  private static List<OffsetRange> sorted(List<OffsetRange> ranges) {
    return ranges.stream().sorted(Comparator.comparing(OffsetRange::partition)).toList();
  }
}
