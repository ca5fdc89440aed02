package io.tandem.kafka;

import io.tandem.spi.Partition;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The store holds no position for some assigned partitions and the reset policy is {@link
 * ResetPolicy#FAIL}.
 *
 * @since 0.1
 */
public final class MissingPositionException extends TandemConsumerException {
  private static final long serialVersionUID = 1L;

  private final transient List<Partition> partitions;

  /**
   * Creates an exception.
   *
   * @param group the Tandem group
   * @param partitions the partitions without a stored position
   */
  public MissingPositionException(String group, Set<Partition> partitions) {
    super(
        "No stored position in group '"
            + group
            + "' for "
            + new TreeSet<>(partitions)
            + " and the reset policy is FAIL. Initialize the positions (tandem offsets set) or"
            + " choose ResetPolicy.EARLIEST or LATEST.",
        null);
    this.partitions = List.copyOf(new TreeSet<>(partitions));
  }

  /**
   * The partitions without a stored position.
   *
   * @return the partitions, sorted
   */
  public List<Partition> partitions() {
    return partitions == null ? List.of() : partitions;
  }
}
