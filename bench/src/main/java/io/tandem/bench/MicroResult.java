package io.tandem.bench;

/**
 * One commit microbenchmark cell: Tandem's commit and the plain write of the same data.
 *
 * @param store backend name
 * @param partitions ranges per commit
 * @param results keyed results per commit
 * @param tandemMeanMs mean latency of a Tandem commit
 * @param tandemP50Ms its median
 * @param tandemP99Ms its 99th percentile
 * @param tandemSamples commits measured
 * @param plainMeanMs mean latency of the plain write
 * @param plainP50Ms its median
 * @param plainP99Ms its 99th percentile
 * @param plainSamples plain writes measured
 */
record MicroResult(
    String store,
    int partitions,
    int results,
    double tandemMeanMs,
    double tandemP50Ms,
    double tandemP99Ms,
    long tandemSamples,
    double plainMeanMs,
    double plainP50Ms,
    double plainP99Ms,
    long plainSamples) {

  /** Commits per second of one thread: 1000 / mean latency in ms. */
  double tandemPerSecond() {
    return 1000.0 / tandemMeanMs;
  }

  double plainPerSecond() {
    return 1000.0 / plainMeanMs;
  }

  /** Tandem's rate over the plain write's rate. */
  double ratio() {
    return tandemPerSecond() / plainPerSecond();
  }
}
