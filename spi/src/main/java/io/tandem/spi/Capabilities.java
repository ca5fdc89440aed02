package io.tandem.spi;

import java.util.Objects;

/**
 * What a store declares about itself; the TCK and the consumer runtime decide by it.
 *
 * @param guarantee transactional or idempotent, see {@link Guarantee}
 * @param atomicAcrossPartitions whether one commit over several partitions moves all of them or
 *     none; when false the runtime commits partition by partition
 * @param maxRangesPerCommit the most ranges one commit accepts; more is an {@link
 *     InvalidBatchException}. {@link Integer#MAX_VALUE} when unbounded
 * @param durable whether a commit that returned survives a restart of the store's server, as the
 *     server is configured now (for example Redis without {@code appendfsync always} is not)
 * @param description one line for humans: server, version, mode and anything that weakens the
 *     guarantee
 * @since 0.1
 */
public record Capabilities(
    Guarantee guarantee,
    boolean atomicAcrossPartitions,
    int maxRangesPerCommit,
    boolean durable,
    String description) {

  /**
   * Checks every field against the rules above.
   *
   * @param guarantee see the record's description
   * @param atomicAcrossPartitions see the record's description
   * @param maxRangesPerCommit see the record's description
   * @param durable see the record's description
   * @param description see the record's description
   * @throws IllegalArgumentException if {@code maxRangesPerCommit < 1}
   */
  public Capabilities {
    Objects.requireNonNull(guarantee, "guarantee must not be null");
    Objects.requireNonNull(description, "description must not be null");
    if (maxRangesPerCommit < 1) {
      throw new IllegalArgumentException(
          "maxRangesPerCommit must be >= 1, got maxRangesPerCommit=" + maxRangesPerCommit);
    }
  }

  /**
   * Whether results and offsets commit together, all or nothing.
   *
   * @return {@code guarantee() == Guarantee.TRANSACTIONAL}
   */
  public boolean transactional() {
    return guarantee == Guarantee.TRANSACTIONAL;
  }
}
