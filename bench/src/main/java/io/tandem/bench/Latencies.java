package io.tandem.bench;

import java.util.Arrays;

/** A growable list of durations in nanoseconds, with percentiles. Thread-safe. */
final class Latencies {

  private long[] values = new long[1024];
  private int size;

  synchronized void add(long nanos) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = nanos;
  }

  synchronized int size() {
    return size;
  }

  /**
   * The p-th percentile (nearest rank), in milliseconds; NaN when empty.
   *
   * @param p between 0 and 100
   */
  synchronized double percentileMillis(double p) {
    return percentile(Arrays.copyOf(values, size), p) / 1e6;
  }

  /** Nearest-rank percentile of {@code sample} (sorted in place); NaN when empty. */
  static double percentile(long[] sample, double p) {
    if (sample.length == 0) {
      return Double.NaN;
    }
    if (p < 0 || p > 100) {
      throw new IllegalArgumentException("percentile must be in [0, 100], got " + p);
    }
    Arrays.sort(sample);
    int rank = (int) Math.ceil(p / 100.0 * sample.length);
    return sample[Math.max(0, Math.min(sample.length - 1, rank - 1))];
  }
}
