package io.tandem.tck.model;

import io.tandem.spi.Partition;
import java.util.List;

/**
 * One planned operation of an actor. Commit ranges are symbolic: each range starts at the actor's
 * last known position of its partition plus {@code a[i]} (0 mostly; a negative skew is a stale or
 * overlapping range, a positive one a gap) and is {@code b[i]} long, so a shrunk plan still makes
 * sense against whatever the store answered before.
 *
 * @param kind what to call
 * @param partitions the partitions the call names
 * @param a per partition: the start of an initialize, the value of an overwrite, the skew of a
 *     commit range
 * @param b per partition: the length of a commit range; unused otherwise
 * @param failWriter whether a commit's writer throws after writing its key
 */
record Op(Kind kind, List<Partition> partitions, long[] a, long[] b, boolean failWriter) {

  /** The operations the model knows. */
  enum Kind {
    INITIALIZE,
    COMMIT,
    READ,
    READ_GROUP,
    OVERWRITE,
    DELETE_PARTITIONS,
    DELETE_GROUP,
    REOPEN,
    PREPARE
  }

  Op {
    partitions = List.copyOf(partitions);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder(kind.name().toLowerCase(java.util.Locale.ROOT));
    if (failWriter) {
      s.append("(writer throws)");
    }
    if (partitions.isEmpty()) {
      return s.toString();
    }
    s.append(' ');
    for (int i = 0; i < partitions.size(); i++) {
      s.append(i == 0 ? "[" : ", ").append(partitions.get(i));
      switch (kind) {
        case INITIALIZE, OVERWRITE -> s.append('=').append(a[i]);
        case COMMIT ->
            s.append(" from known")
                .append(a[i] >= 0 ? "+" : "")
                .append(a[i])
                .append(" len ")
                .append(b[i]);
        default -> {}
      }
    }
    return s.append(']').toString();
  }
}
