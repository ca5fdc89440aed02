package io.tandem.tck.fault;

import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreUnavailableException;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A fault injector around a real store, for testing what drives a store (a runtime, an adapter):
 * fails the next commits with {@link StoreUnavailableException}, either before the commit reaches
 * the store ({@link #failBefore}) or after it landed ({@link #failAfter}: the outcome the caller
 * sees is unknown, the store moved), fails position reads ({@link #failReads}), and can run a hook
 * right before a commit (another writer racing this one). Every other call goes to the store as it
 * is. Thread-safe.
 *
 * @param <T> the store's handle type
 * @since 0.1
 */
public final class FaultyStore<T> implements OffsetStore<T> {

  private final OffsetStore<T> delegate;
  private final AtomicInteger failBefore = new AtomicInteger();
  private final AtomicInteger failAfter = new AtomicInteger();
  private final AtomicInteger failReads = new AtomicInteger();
  private final AtomicInteger commits = new AtomicInteger();
  private volatile Consumer<OffsetStore<T>> beforeNextCommit;

  /**
   * Wraps a store; no fault is armed.
   *
   * @param delegate the real store
   */
  public FaultyStore(OffsetStore<T> delegate) {
    this.delegate = java.util.Objects.requireNonNull(delegate, "delegate must not be null");
  }

  /**
   * The next {@code n} commits fail before reaching the store.
   *
   * @param n how many
   * @return this store
   */
  public FaultyStore<T> failBefore(int n) {
    failBefore.set(n);
    return this;
  }

  /**
   * The next {@code n} commits land in the store, then report unavailable.
   *
   * @param n how many
   * @return this store
   */
  public FaultyStore<T> failAfter(int n) {
    failAfter.set(n);
    return this;
  }

  /**
   * The next {@code n} reads of {@link #positions(String, Collection)} fail.
   *
   * @param n how many
   * @return this store
   */
  public FaultyStore<T> failReads(int n) {
    failReads.set(n);
    return this;
  }

  /**
   * Runs {@code hook} (with the real store) once, right before the next commit.
   *
   * @param hook what another writer does
   * @return this store
   */
  public FaultyStore<T> beforeNextCommit(Consumer<OffsetStore<T>> hook) {
    beforeNextCommit = hook;
    return this;
  }

  /**
   * Commits that reached the real store successfully.
   *
   * @return their number
   */
  public int commits() {
    return commits.get();
  }

  private static StoreUnavailableException outage(String what) {
    return new StoreUnavailableException(
        "injected outage (" + what + ")", new java.io.IOException("connection reset (injected)"));
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
    if (failReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw outage("positions");
    }
    return delegate.positions(group, partitions);
  }

  @Override
  public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
    return delegate.initialize(group, starts);
  }

  @Override
  public void commit(String group, Collection<OffsetRange> ranges, ResultWriter<T> results) {
    Consumer<OffsetStore<T>> hook = beforeNextCommit;
    if (hook != null) {
      beforeNextCommit = null;
      hook.accept(delegate);
    }
    if (failBefore.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw outage("before commit");
    }
    delegate.commit(group, ranges, results);
    commits.incrementAndGet();
    if (failAfter.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw outage("after commit landed");
    }
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
  public void prepare() {
    delegate.prepare();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
