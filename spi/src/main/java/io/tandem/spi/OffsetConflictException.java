package io.tandem.spi;

import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * A commit found stored positions that differ from its ranges' {@code from}: another consumer
 * advanced or owns the partitions, or the caller lost track. Nothing of the commit's offsets moved.
 * The caller drops its buffered work for these partitions, re-reads positions and re-seeks.
 *
 * @since 0.1
 */
public class OffsetConflictException extends OffsetStoreException {
  private static final long serialVersionUID = 1L;

  /**
   * One mismatch.
   *
   * @param partition the partition
   * @param expected the range's {@code from}
   * @param found the stored position, or empty if none is stored
   */
  public record Conflict(Partition partition, long expected, OptionalLong found) {

    /**
     * Checks every field against the rules above.
     *
     * @param partition see the record's description
     * @param expected see the record's description
     * @param found see the record's description
     * @throws NullPointerException if {@code partition} or {@code found} is null
     */
    public Conflict {
      Objects.requireNonNull(partition, "partition must not be null");
      Objects.requireNonNull(found, "found must not be null (use OptionalLong.empty())");
    }

    /**
     * A mismatch where a position is stored.
     *
     * @param partition the partition
     * @param expected the range's {@code from}
     * @param found the stored position
     * @return the conflict
     */
    public static Conflict of(Partition partition, long expected, long found) {
      return new Conflict(partition, expected, OptionalLong.of(found));
    }

    /**
     * A mismatch where no position is stored.
     *
     * @param partition the partition
     * @param expected the range's {@code from}
     * @return the conflict
     */
    public static Conflict missing(Partition partition, long expected) {
      return new Conflict(partition, expected, OptionalLong.empty());
    }

    @Override
    public String toString() {
      return partition
          + " expected "
          + expected
          + ", found "
          + (found.isPresent() ? String.valueOf(found.getAsLong()) : "no position");
    }
  }

  /** The conflicts, serialized as a plain list. */
  private final transient List<Conflict> conflicts;

  private final String group;

  /**
   * Creates an exception listing every conflict of one commit.
   *
   * @param group the consumer group
   * @param conflicts every mismatch; not empty
   * @throws IllegalArgumentException if {@code conflicts} is empty
   */
  public OffsetConflictException(String group, List<Conflict> conflicts) {
    super(message(group, conflicts));
    this.group = group;
    this.conflicts = List.copyOf(conflicts);
  }

  private static String message(String group, List<Conflict> conflicts) {
    if (conflicts.isEmpty()) {
      throw new IllegalArgumentException("an OffsetConflictException needs at least one conflict");
    }
    return "Offset conflict in group '"
        + group
        + "' on "
        + conflicts.size()
        + " partition(s): "
        + conflicts.stream().map(Conflict::toString).collect(Collectors.joining("; "))
        + ". Another consumer advanced or owns these partitions; nothing was committed."
        + " Re-read positions and re-seek.";
  }

  /**
   * The consumer group of the failed commit.
   *
   * @return the group
   */
  public String group() {
    return group;
  }

  /**
   * Every mismatch of the failed commit.
   *
   * @return the conflicts, not empty
   */
  public List<Conflict> conflicts() {
    return conflicts == null ? List.of() : conflicts;
  }
}
