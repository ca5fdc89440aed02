package io.tandem.spark.internal;

import io.tandem.spark.CommitReport;
import io.tandem.spark.PartitionProcessor;
import io.tandem.spark.StoreSpec;
import io.tandem.spark.internal.Outcome.Status;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Internal: may change in any release.
 *
 * <p>The commit rules every Spark adapter shares: read the stored positions, drop what was
 * committed before ({@link Pending}), compute the rest, commit it with its exact ranges, and treat
 * a conflict as a report, never as a reason to retry.
 */
public final class Commits {

  private static final Logger log = LoggerFactory.getLogger(Commits.class);

  private Commits() {}

  /**
   * Commits one RDD partition's results with its Kafka range, in the task.
   *
   * @param spec the store
   * @param group the store group
   * @param range the partition's range of this batch
   * @param records the partition's records
   * @param processor computes the results
   * @param <R> the element type
   * @param <T> the handle type
   * @return what happened
   * @throws Exception what the processor threw: the task fails and nothing is committed
   */
  public static <R, T> Outcome commitPartition(
      StoreSpec<T> spec,
      String group,
      OffsetRange range,
      Iterator<R> records,
      PartitionProcessor<R, T> processor)
      throws Exception {
    if (range.size() == 0) {
      return Outcome.of(range, Status.EMPTY);
    }
    OffsetStore<T> store = spec.store();
    Partition p = range.partition();
    Map<Partition, Long> stored = store.positions(group, List.of(p));
    Pending pending =
        Pending.of(
            range, stored.containsKey(p) ? OptionalLong.of(stored.get(p)) : OptionalLong.empty());
    if (pending.alreadyCommitted()) {
      log.info(
          "group '{}': {} was committed before; its results are not written again", group, range);
      return Outcome.of(range, Status.ALREADY_COMMITTED);
    }
    if (pending.conflict() != null) {
      log.warn("group '{}': {} not committed: {}", group, range, pending.conflict());
      return Outcome.conflict(range, pending.conflict().found());
    }
    Iterator<R> input =
        pending.trimmed() ? from(records, pending.pending().from(), range) : records;
    ResultWriter<T> writer = processor.process(input);
    return commit(store, group, pending.pending(), writer);
  }

  /**
   * Commits a range with its results; a conflict becomes an outcome, never a retry.
   *
   * @param store the store
   * @param group the group
   * @param range the range to commit
   * @param writer the results
   * @param <T> the handle type
   * @return what happened
   */
  static <T> Outcome commit(
      OffsetStore<T> store, String group, OffsetRange range, ResultWriter<T> writer) {
    try {
      store.commit(group, List.of(range), writer);
      return Outcome.of(range, Status.COMMITTED);
    } catch (OffsetConflictException e) {
      Conflict c = e.conflicts().isEmpty() ? null : e.conflicts().get(0);
      if (c != null && c.found().isPresent() && c.found().getAsLong() >= range.until()) {
        // Another attempt of the same task (speculation, a retry racing a zombie) committed it.
        log.info("group '{}': {} was committed by another attempt meanwhile", group, range);
        return Outcome.of(range, Status.ALREADY_COMMITTED);
      }
      log.warn("group '{}': {} not committed: {}", group, range, e.getMessage());
      return Outcome.conflict(range, c == null ? OptionalLong.empty() : c.found());
    }
  }

  /**
   * Decides, on the driver, what part of every range of a batch is still to commit.
   *
   * @param store the store
   * @param group the group
   * @param ranges the batch's ranges
   * @return one decision per range, in order
   */
  public static List<Pending> plan(
      OffsetStore<?> store, String group, Collection<OffsetRange> ranges) {
    List<Partition> partitions = ranges.stream().map(OffsetRange::partition).toList();
    Map<Partition, Long> stored = store.positions(group, partitions);
    List<Pending> out = new ArrayList<>();
    for (OffsetRange r : ranges) {
      Long s = stored.get(r.partition());
      out.add(Pending.of(r, s == null ? OptionalLong.empty() : OptionalLong.of(s)));
    }
    return out;
  }

  /**
   * Commits every pending range of a batch at once, on the driver, after the plan had no conflict.
   *
   * @param store the store
   * @param group the group
   * @param plan the decisions of {@link #plan}
   * @param writer the batch's results
   * @param <T> the handle type
   * @return the report
   */
  public static <T> CommitReport commitAll(
      OffsetStore<T> store, String group, List<Pending> plan, ResultWriter<T> writer) {
    List<OffsetRange> ranges = new ArrayList<>();
    List<OffsetRange> already = new ArrayList<>();
    for (Pending p : plan) {
      if (p.conflict() != null) {
        throw new IllegalArgumentException("commitAll needs a plan without conflicts: " + p);
      }
      if (p.pending() != null) {
        ranges.add(p.pending());
      } else {
        already.add(p.range());
      }
    }
    if (ranges.isEmpty()) {
      return new CommitReport(group, List.of(), already, List.of());
    }
    try {
      store.commit(group, ranges, writer);
      return new CommitReport(group, ranges, already, List.of());
    } catch (OffsetConflictException e) {
      boolean allAhead = !e.conflicts().isEmpty();
      for (Conflict c : e.conflicts()) {
        long until =
            ranges.stream()
                .filter(r -> r.partition().equals(c.partition()))
                .mapToLong(OffsetRange::until)
                .findFirst()
                .orElse(Long.MAX_VALUE);
        allAhead &= c.found().isPresent() && c.found().getAsLong() >= until;
      }
      if (allAhead && e.conflicts().size() == ranges.size()) {
        log.info("group '{}': {} were committed by another run meanwhile", group, ranges);
        already.addAll(ranges);
        return new CommitReport(group, List.of(), already, List.of());
      }
      log.warn("group '{}': batch not committed: {}", group, e.getMessage());
      return new CommitReport(group, List.of(), already, e.conflicts());
    }
  }

  /**
   * The report of a plan that had conflicts: nothing is committed.
   *
   * @param group the group
   * @param plan the decisions
   * @return the report
   */
  public static CommitReport conflicts(String group, List<Pending> plan) {
    List<OffsetRange> already = new ArrayList<>();
    List<Conflict> conflicts = new ArrayList<>();
    for (Pending p : plan) {
      if (p.conflict() != null) {
        conflicts.add(p.conflict());
      } else if (p.alreadyCommitted()) {
        already.add(p.range());
      }
    }
    return new CommitReport(group, List.of(), already, conflicts);
  }

  /**
   * The report of per-partition outcomes.
   *
   * @param group the group
   * @param outcomes the tasks' outcomes
   * @return the report
   */
  public static CommitReport report(String group, List<Outcome> outcomes) {
    List<OffsetRange> committed = new ArrayList<>();
    List<OffsetRange> already = new ArrayList<>();
    List<Conflict> conflicts = new ArrayList<>();
    for (Outcome o : outcomes) {
      switch (o.status()) {
        case COMMITTED -> committed.add(o.range());
        case ALREADY_COMMITTED -> already.add(o.range());
        case CONFLICT -> conflicts.add(o.conflict());
        case EMPTY -> {}
      }
    }
    return new CommitReport(group, committed, already, conflicts);
  }

  /**
   * The records of a partition from a position on: those before it were committed by an earlier
   * run. Needs {@link ConsumerRecord} elements (the stream's own RDD, or a filter of it).
   *
   * @param records the partition's records
   * @param position the first offset to keep
   * @param range the partition's range, for messages
   * @param <R> the element type
   * @return the records at or after the position
   */
  public static <R> Iterator<R> from(Iterator<R> records, long position, OffsetRange range) {
    return filter(
        records,
        r -> {
          if (!(r instanceof ConsumerRecord<?, ?> cr)) {
            throw new IllegalStateException(
                "an earlier run committed "
                    + range.partition()
                    + " up to "
                    + position
                    + ", inside this batch's range "
                    + range
                    + "; dropping the records before it needs the stream's ConsumerRecords, but"
                    + " the RDD holds "
                    + (r == null ? "null" : r.getClass().getName())
                    + ". Commit on the stream's own RDD (map inside the processor)");
          }
          return cr.offset() >= position;
        });
  }

  private static <R> Iterator<R> filter(Iterator<R> in, Function<R, Boolean> keep) {
    return new Iterator<>() {
      private R next;
      private boolean ready;

      @Override
      public boolean hasNext() {
        while (!ready && in.hasNext()) {
          R r = in.next();
          if (keep.apply(r)) {
            next = r;
            ready = true;
          }
        }
        return ready;
      }

      @Override
      public R next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        ready = false;
        R r = next;
        next = null;
        return r;
      }
    };
  }
}
