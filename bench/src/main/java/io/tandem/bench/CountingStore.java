package io.tandem.bench;

import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A store that passes every call through and measures commits: their latency and the positions they
 * moved (records, since the benchmark's topic has no transaction markers).
 */
final class CountingStore<T> implements OffsetStore<T> {

  private final OffsetStore<T> delegate;
  final Latencies latencies = new Latencies();
  final AtomicLong committed = new AtomicLong();
  final AtomicLong commits = new AtomicLong();

  /** Commits that threw an offset conflict (another writer moved or holds the position). */
  final AtomicLong conflicts = new AtomicLong();

  /** Commits that threw anything else (store unavailable, ...); the runtime retries them. */
  final AtomicLong failures = new AtomicLong();

  CountingStore(OffsetStore<T> delegate) {
    this.delegate = delegate;
  }

  @Override
  public void commit(String group, Collection<OffsetRange> ranges, ResultWriter<T> results) {
    long t0 = System.nanoTime();
    try {
      delegate.commit(group, ranges, results);
    } catch (io.tandem.spi.OffsetConflictException e) {
      conflicts.incrementAndGet();
      throw e;
    } catch (RuntimeException e) {
      failures.incrementAndGet();
      throw e;
    }
    latencies.add(System.nanoTime() - t0);
    long moved = 0;
    for (OffsetRange r : ranges) {
      moved += r.until() - r.from();
    }
    commits.incrementAndGet();
    committed.addAndGet(moved);
  }

  @Override
  public Capabilities capabilities() {
    return delegate.capabilities();
  }

  @Override
  public Class<T> handleType() {
    return delegate.handleType();
  }

  @Override
  public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
    return delegate.positions(group, partitions);
  }

  @Override
  public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
    return delegate.initialize(group, starts);
  }

  @Override
  public Set<String> groups() {
    return delegate.groups();
  }

  @Override
  public Map<Partition, Long> positions(String group) {
    return delegate.positions(group);
  }

  @Override
  public void overwrite(String group, Map<Partition, Long> positions) {
    delegate.overwrite(group, positions);
  }

  @Override
  public boolean delete(String group) {
    return delegate.delete(group);
  }

  @Override
  public int delete(String group, Collection<Partition> partitions) {
    return delegate.delete(group, partitions);
  }

  @Override
  public void close() {
    // The delegate belongs to the backend.
  }
}
