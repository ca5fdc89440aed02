package io.tandem.bench;

import java.util.List;

/**
 * One pipeline run.
 *
 * @param store backend name
 * @param variant {@code tandem}, {@code at-least-once}, {@code hand-written} or {@code no-kafka}
 * @param consumers consumers (threads) at once
 * @param poll {@code max.poll.records} (for no-kafka: the batch size, Tandem's mean batch)
 * @param records records processed
 * @param seconds wall time from the consumers' start to the last record committed
 * @param p50Ms median commit latency
 * @param p99Ms 99th percentile commit latency
 * @param meanBatch records per commit
 * @param peakHeapAfterGc largest heap in use after a GC during the run, bytes
 * @param peakRssKb largest resident set sampled during the run, KiB
 * @param heapAt heap after the last GC at 25, 50 and 100% of the records, bytes
 * @param rssAt resident set at 25, 50 and 100% of the records, KiB
 * @param machineBusy fraction of all the machine's CPU time busy during the run (every process),
 *     NaN if unknown
 * @param conflictsPerCommit commits that failed (offset conflict or store unavailable, each retried
 *     by the runtime) per successful commit; NaN if not counted
 * @param retriesPerCommit retries inside the store (Redis WATCH aborts with unchanged values) per
 *     successful commit; NaN where the store exposes no counter
 */
record PipelineResult(
    String store,
    String variant,
    int consumers,
    int poll,
    long records,
    double seconds,
    double p50Ms,
    double p99Ms,
    double meanBatch,
    long peakHeapAfterGc,
    long peakRssKb,
    List<Long> heapAt,
    List<Long> rssAt,
    double machineBusy,
    double conflictsPerCommit,
    double retriesPerCommit) {

  /** A run whose conflicts and retries were not counted (every variant but Tandem's). */
  PipelineResult(
      String store,
      String variant,
      int consumers,
      int poll,
      long records,
      double seconds,
      double p50Ms,
      double p99Ms,
      double meanBatch,
      long peakHeapAfterGc,
      long peakRssKb,
      List<Long> heapAt,
      List<Long> rssAt,
      double machineBusy) {
    this(
        store,
        variant,
        consumers,
        poll,
        records,
        seconds,
        p50Ms,
        p99Ms,
        meanBatch,
        peakHeapAfterGc,
        peakRssKb,
        heapAt,
        rssAt,
        machineBusy,
        Double.NaN,
        Double.NaN);
  }

  /** The same run with its conflicts and store-internal retries per commit. */
  PipelineResult withContention(double conflicts, double retries) {
    return new PipelineResult(
        store,
        variant,
        consumers,
        poll,
        records,
        seconds,
        p50Ms,
        p99Ms,
        meanBatch,
        peakHeapAfterGc,
        peakRssKb,
        heapAt,
        rssAt,
        machineBusy,
        conflicts,
        retries);
  }

  double recordsPerSecond() {
    return records / seconds;
  }
}
