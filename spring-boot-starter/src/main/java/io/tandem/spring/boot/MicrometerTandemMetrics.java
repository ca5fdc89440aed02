package io.tandem.spring.boot;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tandem.spi.Partition;
import io.tandem.spring.TandemListenerMetrics;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tandem's listener measurements as Micrometer meters: {@code tandem.commit} (timer, per group),
 * {@code tandem.commit.records}, {@code tandem.conflicts}, {@code tandem.store.unavailable}
 * (counters) and {@code tandem.lag} (gauge per group, topic and partition, while owned).
 */
final class MicrometerTandemMetrics implements TandemListenerMetrics {

  private final MeterRegistry registry;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<Partition, AtomicLong> lags = new ConcurrentHashMap<>();
  private final Map<Partition, Gauge> gauges = new ConcurrentHashMap<>();

  MicrometerTandemMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void committed(String group, long nanos, int records) {
    timers
        .computeIfAbsent(
            group,
            g ->
                Timer.builder("tandem.commit")
                    .description("Store commits of listener batches, listener included")
                    .tag("group", g)
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
    Counter.builder("tandem.commit.records")
        .tag("group", group)
        .register(registry)
        .increment(records);
  }

  @Override
  public void conflict(String group, Collection<Partition> partitions) {
    Counter.builder("tandem.conflicts")
        .description("Batches dropped because another member had moved their partitions")
        .tag("group", group)
        .register(registry)
        .increment();
  }

  @Override
  public void storeUnavailable(String group) {
    Counter.builder("tandem.store.unavailable").tag("group", group).register(registry).increment();
  }

  @Override
  public void lag(String group, Partition partition, long lag) {
    lags.computeIfAbsent(
            partition,
            p -> {
              AtomicLong v = new AtomicLong();
              gauges.put(
                  p,
                  Gauge.builder("tandem.lag", v, AtomicLong::get)
                      .description("Records between the stored position and the log end")
                      .tag("group", group)
                      .tag("topic", p.topic())
                      .tag("partition", Integer.toString(p.partition()))
                      .register(registry));
              return v;
            })
        .set(lag);
  }

  @Override
  public void released(String group, Partition partition) {
    lags.remove(partition);
    Gauge g = gauges.remove(partition);
    if (g != null) {
      registry.remove(g);
    }
  }
}
