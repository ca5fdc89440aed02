package io.tandem.kafka.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Internal: may change in any release. Micrometer meters of one consumer, all tagged {@code group}
 * and {@code instance} (a number unique in this JVM: several consumers of one group in one JVM must
 * not share, and on close remove, each other's meters). The only class of the runtime that links to
 * Micrometer.
 */
final class MicrometerMetrics implements Metrics {

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final MeterRegistry registry;
  private final Tags tags;
  private final Counter records;
  private final Counter batches;
  private final Counter conflicts;
  private final Counter retries;
  private final Counter deadLetters;
  private final Counter skipped;
  private final List<Meter> meters = new ArrayList<>();
  // Guarded by meters.
  private final Map<String, List<Meter>> partitions = new HashMap<>();

  private MicrometerMetrics(MeterRegistry registry, String group) {
    this.registry = registry;
    this.tags = Tags.of("group", group, "instance", String.valueOf(INSTANCES.incrementAndGet()));
    records = counter("tandem.consumer.records", "records whose results were committed");
    batches = counter("tandem.consumer.batches", "successful commits");
    conflicts = counter("tandem.consumer.conflicts", "commits refused by an offset conflict");
    retries = counter("tandem.consumer.retries", "store calls retried after an outage");
    deadLetters = counter("tandem.consumer.dead.letters", "poison records set aside");
    skipped =
        counter("tandem.consumer.skipped.positions", "positions skipped after retention loss");
  }

  static Metrics create(Object registry, String group) {
    if (registry != null && !(registry instanceof MeterRegistry)) {
      throw new IllegalArgumentException(
          "meterRegistry must be an io.micrometer.core.instrument.MeterRegistry, got "
              + registry.getClass().getName());
    }
    MeterRegistry target =
        registry == null
            ? io.micrometer.core.instrument.Metrics.globalRegistry
            : (MeterRegistry) registry;
    return new MicrometerMetrics(target, group);
  }

  private Counter counter(String name, String description) {
    Counter c = Counter.builder(name).description(description).tags(tags).register(registry);
    meters.add(c);
    return c;
  }

  @Override
  public void records(long count) {
    records.increment(count);
  }

  @Override
  public void batch() {
    batches.increment();
  }

  @Override
  public void commit(long nanos, String outcome) {
    Timer t =
        Timer.builder("tandem.consumer.commit")
            .description("store commit latency")
            .tags(tags.and("outcome", outcome))
            .register(registry);
    synchronized (meters) {
      if (!meters.contains(t)) {
        meters.add(t);
      }
    }
    t.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void conflict() {
    conflicts.increment();
  }

  @Override
  public void retry() {
    retries.increment();
  }

  @Override
  public void deadLetter() {
    deadLetters.increment();
  }

  @Override
  public void skipped(long count) {
    skipped.increment(count);
  }

  @Override
  public void lag(LongSupplier lag) {
    Gauge g =
        Gauge.builder("tandem.consumer.lag", lag, MicrometerMetrics::unknownAsNaN)
            .description("records between the consumer's positions and the log end")
            // Gauges hold their state weakly by default; nothing else holds this supplier.
            .strongReference(true)
            .tags(tags)
            .register(registry);
    synchronized (meters) {
      meters.add(g);
    }
  }

  @Override
  public void partitionAssigned(
      String topic, int partition, LongSupplier lag, LongSupplier millisSinceCommit) {
    Tags at = tags.and("topic", topic, "partition", Integer.toString(partition));
    Gauge l =
        Gauge.builder("tandem.consumer.partition.lag", lag, MicrometerMetrics::unknownAsNaN)
            .description("records between this consumer's position and the log end")
            .strongReference(true)
            .tags(at)
            .register(registry);
    TimeGauge since =
        TimeGauge.builder(
                "tandem.consumer.partition.since.commit",
                millisSinceCommit,
                TimeUnit.MILLISECONDS,
                MicrometerMetrics::unknownAsNaN)
            .description(
                "time since this consumer last committed the partition (since it was assigned,"
                    + " before its first commit)")
            .strongReference(true)
            .tags(at)
            .register(registry);
    synchronized (meters) {
      List<Meter> old = partitions.put(key(topic, partition), List.of(l, since));
      if (old != null) {
        for (Meter m : old) {
          if (m != l && m != since) {
            registry.remove(m);
          }
        }
      }
    }
  }

  @Override
  public void partitionRemoved(String topic, int partition) {
    synchronized (meters) {
      List<Meter> old = partitions.remove(key(topic, partition));
      if (old != null) {
        old.forEach(registry::remove);
      }
    }
  }

  private static String key(String topic, int partition) {
    return partition + "@" + topic;
  }

  @Override
  public void close() {
    synchronized (meters) {
      for (Meter m : meters) {
        registry.remove(m);
      }
      meters.clear();
      for (List<Meter> ms : partitions.values()) {
        ms.forEach(registry::remove);
      }
      partitions.clear();
    }
  }

  /** A negative lag means "not known yet": shown as NaN, not as a number. */
  private static double unknownAsNaN(LongSupplier lag) {
    long v = lag.getAsLong();
    return v < 0 ? Double.NaN : v;
  }
}
