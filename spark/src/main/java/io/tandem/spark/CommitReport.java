package io.tandem.spark;

import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import java.util.List;

/**
 * What one batch's commit did, per Kafka partition: committed (with the range actually committed,
 * shorter than the batch's when an earlier run had committed its start), already committed before
 * (a replayed batch or a retried task: skipped, results not written again), or in conflict (the
 * store holds a position this batch cannot continue from: its results were not committed). A
 * conflict is reported, never retried: a batch that cannot continue from the stored position would
 * skip or repeat records. Stop the job and start it again; it then starts from the store.
 *
 * @param group the store group
 * @param committed ranges committed by this batch, as committed
 * @param alreadyCommitted ranges skipped because the store already holds their end
 * @param conflicts partitions whose results were not committed: the position the batch expected and
 *     the one found
 * @since 0.1.0
 */
public record CommitReport(
    String group,
    List<OffsetRange> committed,
    List<OffsetRange> alreadyCommitted,
    List<Conflict> conflicts) {

  /**
   * Copies the lists.
   *
   * @param group see the record's description
   * @param committed see the record's description
   * @param alreadyCommitted see the record's description
   * @param conflicts see the record's description
   */
  public CommitReport {
    committed = List.copyOf(committed);
    alreadyCommitted = List.copyOf(alreadyCommitted);
    conflicts = List.copyOf(conflicts);
  }

  /**
   * Whether some partition's results were not committed.
   *
   * @return true if there is a conflict
   */
  public boolean hasConflicts() {
    return !conflicts.isEmpty();
  }

  /**
   * Records committed by this batch (positions moved).
   *
   * @return the sum of the committed ranges' sizes
   */
  public long committedPositions() {
    return committed.stream().mapToLong(OffsetRange::size).sum();
  }

  /**
   * Fails when a partition was in conflict, so a job can stop instead of going on past it.
   *
   * @return this report, when there is no conflict
   * @throws OffsetConflictException naming every partition in conflict, expected and found
   */
  public CommitReport requireNoConflicts() {
    if (hasConflicts()) {
      throw new OffsetConflictException(group, conflicts);
    }
    return this;
  }
}
