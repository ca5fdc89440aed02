package io.tandem.kafka.internal;

import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Internal: may change in any release. Where the runtime reports what it did; a no-op unless
 * Micrometer is on the class path.
 */
public interface Metrics {

  /**
   * Records whose results were committed.
   *
   * @param count how many
   */
  void records(long count);

  /** One successful commit. */
  void batch();

  /**
   * The duration of one store commit call, successful or not.
   *
   * @param nanos its duration
   * @param outcome {@code committed}, {@code conflict}, {@code unavailable} or {@code failed}
   */
  void commit(long nanos, String outcome);

  /** One conflict. */
  void conflict();

  /** One retry after an outage. */
  void retry();

  /** One dead letter. */
  void deadLetter();

  /**
   * Positions skipped after retention removed them.
   *
   * @param count how many
   */
  void skipped(long count);

  /**
   * Registers the lag gauge.
   *
   * @param lag reads the current lag, -1 when unknown
   */
  void lag(LongSupplier lag);

  /**
   * Registers the gauges of one partition assigned to this consumer, tagged {@code topic} and
   * {@code partition}: {@code tandem.consumer.partition.lag} and {@code
   * tandem.consumer.partition.since.commit}.
   *
   * @param topic the topic
   * @param partition the partition number
   * @param lag reads the partition's lag, -1 when unknown
   * @param millisSinceCommit reads the milliseconds since this consumer last committed the
   *     partition (since it was assigned, before its first commit)
   */
  void partitionAssigned(
      String topic, int partition, LongSupplier lag, LongSupplier millisSinceCommit);

  /**
   * Removes the gauges of a partition no longer assigned.
   *
   * @param topic the topic
   * @param partition the partition number
   */
  void partitionRemoved(String topic, int partition);

  /** Removes this consumer's meters. */
  void close();

  /**
   * Metrics for a consumer: Micrometer when it is on the class path, else nothing.
   *
   * @param registry a {@code MeterRegistry}, or null for Micrometer's global registry
   * @param group the Tandem group, a tag on every meter
   * @return the metrics
   * @throws IllegalArgumentException if {@code registry} is not a {@code MeterRegistry}
   */
  static Metrics create(Object registry, String group) {
    if (!MicrometerPresence.PRESENT) {
      if (registry != null) {
        throw new IllegalArgumentException(
            "meterRegistry must be an io.micrometer.core.instrument.MeterRegistry, got "
                + registry.getClass().getName()
                + " (and Micrometer is not on the class path)");
      }
      return NoMetrics.INSTANCE;
    }
    // Only this line links to Micrometer: MicrometerMetrics is loaded only when it is present.
    return MicrometerMetrics.create(registry, group);
  }

  /** Whether Micrometer is on the class path, checked once. */
  final class MicrometerPresence {
    static final boolean PRESENT = present();

    private MicrometerPresence() {}

    private static boolean present() {
      try {
        Class.forName(
            "io.micrometer.core.instrument.MeterRegistry", false, Metrics.class.getClassLoader());
        return true;
      } catch (ClassNotFoundException | LinkageError e) {
        Logger log = LoggerFactory.getLogger(Metrics.class);
        log.debug("Micrometer is not on the class path: Tandem consumer metrics only in stats()");
        return false;
      }
    }
  }

  /** Does nothing. */
  enum NoMetrics implements Metrics {
    /** The instance. */
    INSTANCE;

    @Override
    public void records(long count) {}

    @Override
    public void batch() {}

    @Override
    public void commit(long nanos, String outcome) {}

    @Override
    public void conflict() {}

    @Override
    public void retry() {}

    @Override
    public void deadLetter() {}

    @Override
    public void skipped(long count) {}

    @Override
    public void lag(LongSupplier lag) {}

    @Override
    public void partitionAssigned(
        String topic, int partition, LongSupplier lag, LongSupplier millisSinceCommit) {}

    @Override
    public void partitionRemoved(String topic, int partition) {}

    @Override
    public void close() {}
  }
}
