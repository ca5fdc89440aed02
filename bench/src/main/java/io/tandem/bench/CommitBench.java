package io.tandem.bench;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One commit of {@code partitions} ranges (one position each) with {@code results} keyed upserts
 * ({@code k0 .. k<results-1>}, overwritten by every commit), against the same writes done by the
 * backend's own client with the positions blind-written and nothing read or compared ({@code
 * plain}: the store's durable write rate for the same data).
 *
 * <p>Run with {@code forks(0)} by {@link Bench}: the servers are started once per JVM and shared by
 * every benchmark, which a forked JVM per benchmark would start again each time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CommitBench {

  private static final AtomicInteger SEQ = new AtomicInteger();

  /** The backend. */
  @Param({
    "postgres",
    "redis",
    "zookeeper",
    "cassandra",
    "cassandra-partition",
    "mongo",
    "mongo-partition"
  })
  public String store;

  /** Ranges per commit. */
  @Param({"1", "10", "100"})
  public int partitions;

  /** Keyed results per commit. */
  @Param({"0", "100", "1000"})
  public int results;

  private Backend<?> backend;
  private String group;
  private String namespace;
  private List<Partition> parts;
  private long position;

  /** Starts (or reuses) the backend and gives this trial its own group and namespace. */
  @Setup
  public void setUp() throws Exception {
    backend = Backends.get(store);
    int n = SEQ.incrementAndGet();
    String id = Long.toString(System.currentTimeMillis() % 100_000_000L, 36) + "_" + n;
    group = "micro_" + id;
    namespace = "m" + id;
    backend.prepare(namespace, Math.max(results, 1), partitions);
    parts = new ArrayList<>(partitions);
    Map<Partition, Long> starts = new LinkedHashMap<>();
    for (int p = 0; p < partitions; p++) {
      Partition part = new Partition("micro", p);
      parts.add(part);
      starts.put(part, 0L);
    }
    backend.store().initialize(group, starts);
    position = 0;
  }

  private List<Row> rows() {
    List<Row> rows = new ArrayList<>(results);
    for (int i = 0; i < results; i++) {
      rows.add(new Row("k" + i, "v" + position + "-" + i));
    }
    return rows;
  }

  /** Tandem: a conditional commit of the ranges with the results, through the store. */
  @Benchmark
  public void tandem() {
    commit(backend);
  }

  private <T> void commit(Backend<T> b) {
    List<OffsetRange> ranges = new ArrayList<>(partitions);
    for (Partition p : parts) {
      ranges.add(new OffsetRange(p, position, position + 1));
    }
    b.store().commit(group, ranges, b.writer(namespace, rows()));
    position++;
  }

  /** The same writes with the backend's own client, positions written blind. */
  @Benchmark
  public void plain() throws Exception {
    Map<Partition, Long> positions = new LinkedHashMap<>();
    for (Partition p : parts) {
      positions.put(p, position + 1);
    }
    backend.write(namespace, rows(), positions);
    position++;
  }
}
