package io.tandem.spi;

import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * Keeps consumer positions per group and partition, and commits a batch's results together with the
 * positions it moves. This interface is the normative statement of Tandem's contract; the TCK
 * ({@code tandem-tck}, rules in its {@code RULES.md}) checks an implementation against it.
 *
 * <h2>Positions</h2>
 *
 * A position is the next offset to read. A store keeps at most one position per (group, partition).
 * A partition with no stored position is <em>unknown</em>: it is an absent key in every map
 * returned, never a null or a sentinel value. Groups and topics are kept exactly as given, whatever
 * characters they contain.
 *
 * <h2>Commit</h2>
 *
 * {@link #commit(String, Collection, ResultWriter)} takes ranges {@code [from, until)} and a {@link
 * ResultWriter}:
 *
 * <ol>
 *   <li><b>Contiguity.</b> For every range, the stored position must equal {@code from}. A
 *       different position (a gap, an overlap, a stale {@code from}) or a missing position is a
 *       conflict.
 *   <li><b>Every conflict at once.</b> All mismatching ranges of the call are reported in one
 *       {@link OffsetConflictException}, each with expected and found position.
 *   <li><b>{@link Guarantee#TRANSACTIONAL}:</b> results and positions commit all or nothing. On a
 *       conflict, a writer failure or any error, no result and no position of the call stays.
 *   <li><b>{@link Guarantee#IDEMPOTENT}:</b> results are written first, then every position
 *       advances conditionally. On a conflict the results written may stand (they are keyed, so a
 *       replay overwrites them), but no position moves.
 *   <li><b>Across partitions.</b> When {@link Capabilities#atomicAcrossPartitions()} is true, the
 *       positions of one call move all together or none; otherwise each range is independent and
 *       callers should commit one partition per call.
 *   <li><b>Concurrency.</b> Of several concurrent commits of the same range, at most one succeeds;
 *       the others get a conflict. Commits of disjoint partitions do not conflict.
 * </ol>
 *
 * <h2>Arguments</h2>
 *
 * Group names must not be empty; ranges of one call must name distinct partitions and be at most
 * {@link Capabilities#maxRangesPerCommit()}; positions are {@code >= 0}. A violation throws {@link
 * InvalidBatchException} before anything is written. Null arguments throw {@link
 * NullPointerException}. {@link StoreArguments} has the checks for implementations.
 *
 * <h2>Errors</h2>
 *
 * Every failure is an {@link OffsetStoreException}: {@link OffsetConflictException}, {@link
 * StoreUnavailableException} (retriable: re-read positions and retry), {@link
 * InvalidBatchException} (the caller's fault), {@link ResultWriteException} (the writer threw).
 * After a {@link StoreUnavailableException} the outcome of a commit may be unknown to the caller;
 * implementations resolve it by reading back where they can, and callers must re-read positions
 * before going on, never assume.
 *
 * <p>Implementations are thread-safe and usable as soon as they are constructed or opened; {@link
 * #close()} is idempotent.
 *
 * @param <T> the store's unit-of-work handle passed to {@link ResultWriter}s: a JDBC {@code
 *     Connection}, a Redis transaction, a list of ZooKeeper ops, ...
 * @since 0.1
 */
public interface OffsetStore<T> extends AutoCloseable {

  /**
   * What this store guarantees, as configured and as its server is configured now.
   *
   * @return the capabilities; never null
   * @throws StoreUnavailableException if the store must ask its server and cannot reach it
   */
  Capabilities capabilities();

  /**
   * The type of handle this store passes to {@link ResultWriter}s.
   *
   * @return the handle type
   */
  Class<T> handleType();

  /**
   * Reads the stored positions of some partitions.
   *
   * @param group the consumer group
   * @param partitions the partitions to read; may be empty
   * @return the positions found; a partition with no stored position is absent
   * @throws InvalidBatchException if {@code group} is empty
   * @throws StoreUnavailableException if the store cannot be reached
   */
  Map<Partition, Long> positions(String group, Collection<Partition> partitions);

  /**
   * Stores positions for partitions that have none. Existing positions win and are not changed.
   *
   * @param group the consumer group
   * @param starts the position to store for each partition that has none; each {@code >= 0}
   * @return the positions that now stand for every partition of {@code starts}
   * @throws InvalidBatchException if {@code group} is empty or a position is negative
   * @throws StoreUnavailableException if the store cannot be reached
   */
  Map<Partition, Long> initialize(String group, Map<Partition, Long> starts);

  /**
   * Commits {@code results} together with moving each range's position from {@code from} to {@code
   * until}, under the rules of the class documentation.
   *
   * @param group the consumer group
   * @param ranges the ranges of this batch, distinct partitions, not empty
   * @param results writes the batch's results through the store's handle; {@link
   *     ResultWriter#none()} for none
   * @throws OffsetConflictException if any stored position differs from its range's {@code from};
   *     it lists every one
   * @throws ResultWriteException if {@code results} threw
   * @throws InvalidBatchException if the arguments break a rule, before anything is written
   * @throws StoreUnavailableException if the store cannot be reached; the outcome may be unknown
   */
  void commit(String group, Collection<OffsetRange> ranges, ResultWriter<T> results);

  /**
   * Lists the groups that have at least one stored position.
   *
   * @return the group names
   * @throws StoreUnavailableException if the store cannot be reached
   */
  Set<String> groups();

  /**
   * Reads every stored position of a group.
   *
   * @param group the consumer group
   * @return every partition with a stored position; empty if the group has none
   * @throws InvalidBatchException if {@code group} is empty
   * @throws StoreUnavailableException if the store cannot be reached
   */
  Map<Partition, Long> positions(String group);

  /**
   * Sets positions unconditionally, for administration (reset to earliest, skip a poison record).
   * Bypasses the contiguity check: never call it while consumers of the group run. All positions of
   * the call are written together where the store is atomic across partitions.
   *
   * @param group the consumer group
   * @param positions the positions to set; each {@code >= 0}
   * @throws InvalidBatchException if {@code group} is empty or a position is negative
   * @throws StoreUnavailableException if the store cannot be reached
   */
  void overwrite(String group, Map<Partition, Long> positions);

  /**
   * Deletes every stored position of a group. Results are the user's and are not touched.
   *
   * @param group the consumer group
   * @return whether the group had any stored position
   * @throws InvalidBatchException if {@code group} is empty
   * @throws StoreUnavailableException if the store cannot be reached
   */
  boolean delete(String group);

  /**
   * Deletes the stored positions of some partitions of a group.
   *
   * @param group the consumer group
   * @param partitions the partitions whose positions to delete
   * @return the number of positions deleted
   * @throws InvalidBatchException if {@code group} is empty
   * @throws StoreUnavailableException if the store cannot be reached
   */
  int delete(String group, Collection<Partition> partitions);

  /**
   * Creates what this store needs on its server, where it is missing: tables, indexes, collections,
   * root nodes. Deployment steps and administration tools call it once after {@link
   * OffsetStores#open}, so a store can be set up without knowing its class. Idempotent, and safe
   * while other processes call it or use the store: what exists is kept, and no stored position or
   * result is changed. A store with nothing to prepare does nothing, which is the default.
   *
   * <p>Stores that create what they need lazily still do so; this call only makes it happen now,
   * for example with a user entitled to create tables before the application runs with one that is
   * not.
   *
   * @throws StoreUnavailableException if the store cannot be reached
   * @throws StoreConfigurationException if the server refuses to create what is missing (no right
   *     to) or something the store must not create itself is missing (such as a Cassandra keyspace,
   *     whose replication is the operator's choice); the message says what to do
   * @throws OffsetStoreException for any other failure
   * @since 0.1
   */
  default void prepare() {}

  /**
   * Releases connections and pools this store opened. Idempotent; a user-supplied connection source
   * is left open.
   */
  @Override
  void close();
}
