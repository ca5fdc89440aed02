package io.tandem.spring;

import io.tandem.spi.Partition;
import java.util.Collection;

/**
 * Receives what Tandem's listener containers measure. Calls come from the consumer threads;
 * implementations must be quick and thread-safe. The Spring Boot starter supplies a Micrometer one.
 *
 * @since 0.1
 */
public interface TandemListenerMetrics {

  /** Measures nothing. */
  TandemListenerMetrics NONE = new TandemListenerMetrics() {};

  /**
   * A batch committed its results and offsets.
   *
   * @param group the store group
   * @param nanos how long the store's commit took, listener included
   * @param records how many records the batch held
   */
  default void committed(String group, long nanos, int records) {}

  /**
   * A commit was refused because another member had moved the partitions; the batch was dropped and
   * the partitions re-sought from the store.
   *
   * @param group the store group
   * @param partitions the partitions of the dropped batch
   */
  default void conflict(String group, Collection<Partition> partitions) {}

  /**
   * The store could not be reached; the batch was dropped and will be delivered again.
   *
   * @param group the store group
   */
  default void storeUnavailable(String group) {}

  /**
   * The distance from a partition's committed position to its log end, after a commit.
   *
   * @param group the store group
   * @param partition the partition
   * @param lag records between the stored position and the log end
   */
  default void lag(String group, Partition partition, long lag) {}

  /**
   * A partition left this member (revoked or lost): stop reporting its lag.
   *
   * @param group the store group
   * @param partition the partition
   */
  default void released(String group, Partition partition) {}
}
