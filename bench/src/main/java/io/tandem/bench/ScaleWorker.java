package io.tandem.bench;

import io.tandem.kafka.ConsumerListener;
import io.tandem.kafka.ConsumerStats;
import io.tandem.kafka.TandemConsumer;
import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.testing.ForkChannel;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One consumer JVM of the scale run ({@link Scale}): a member of every group, each a {@link
 * TandemConsumer} subscribed to the topic on a thread of its own, all sharing one store (and its
 * connection pool). It writes its events ({@link ScaleLog}) to its own file, whole lines only, and
 * samples its heap after a full GC every few seconds. Driven over the {@link ForkChannel}: event
 * {@code started}; command {@code stop} closes every consumer and exits 0; the run SIGKILLs one.
 *
 * <p>Arguments ({@code --key=value}): bootstrap, topic, groups (group names, comma-separated), out
 * (its event file), poll (max.poll.records), session (session.timeout.ms), pool (store pool size),
 * heapSeconds, and the store's ({@link ScaleStore#workerArgs()}).
 */
public final class ScaleWorker {

  private static final StringBuilder pending = new StringBuilder();

  private ScaleWorker() {}

  private static void line(String s) {
    synchronized (pending) {
      pending.append(s).append('\n');
    }
  }

  /** Writes the whole lines gathered so far in one write: a SIGKILL never cuts a line. */
  private static void flush(OutputStream out) throws IOException {
    byte[] bytes;
    synchronized (pending) {
      if (pending.length() == 0) {
        return;
      }
      bytes = pending.toString().getBytes(StandardCharsets.UTF_8);
      pending.setLength(0);
    }
    out.write(bytes);
  }

  /**
   * Runs the worker until {@code stop} or a kill.
   *
   * @param args see the class documentation
   * @throws Exception if it cannot start
   */
  public static void main(String[] args) throws Exception {
    ForkChannel channel = ForkChannel.open(command -> {});
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("arguments are --key=value, got '" + arg + "'");
      }
      a.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    List<String> groups = List.of(a.get("groups").split(","));
    ScaleStore scaleStore = ScaleStore.fromArgs(a);
    OffsetStore<Object> store = scaleStore.open(Integer.parseInt(a.getOrDefault("pool", "8")));
    if (store.capabilities().guarantee() != Guarantee.TRANSACTIONAL) {
      throw new IllegalArgumentException(
          "the scale run's results are increments: it needs a transactional store, "
              + scaleStore.name()
              + " is "
              + store.capabilities().guarantee());
    }
    long heapMillis =
        TimeUnit.SECONDS.toMillis(Long.parseLong(a.getOrDefault("heapSeconds", "10")));
    List<TandemConsumer<String, String, Object>> consumers = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try (OutputStream out = new FileOutputStream(Path.of(a.get("out")).toFile(), true)) {
      for (int g = 0; g < groups.size(); g++) {
        int number = g;
        String group = groups.get(g);
        Set<Integer> owned = new TreeSet<>();
        TandemConsumer<String, String, Object> consumer =
            TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
                .bootstrapServers(a.get("bootstrap"))
                .group(group)
                .topics(a.get("topic"))
                .property("max.poll.records", a.getOrDefault("poll", "500"))
                .property("session.timeout.ms", a.getOrDefault("session", "10000"))
                .property(
                    "heartbeat.interval.ms",
                    Integer.toString(Integer.parseInt(a.getOrDefault("session", "10000")) / 3))
                .property("client.id", a.get("name") + "-g" + g)
                .processor(scaleStore.processor(group))
                .listener(
                    new ConsumerListener() {
                      private void changed(Set<Partition> add, Set<Partition> remove) {
                        synchronized (owned) {
                          owned.addAll(ScaleStore.numbers(add));
                          ScaleStore.numbers(remove).forEach(owned::remove);
                          line(ScaleLog.owns(System.currentTimeMillis(), number, owned));
                        }
                      }

                      @Override
                      public void partitionsAssigned(String grp, Set<Partition> partitions) {
                        changed(partitions, Set.of());
                      }

                      @Override
                      public void partitionsRevoked(String grp, Set<Partition> partitions) {
                        changed(Set.of(), partitions);
                      }

                      @Override
                      public void partitionsLost(String grp, Set<Partition> partitions) {
                        changed(Set.of(), partitions);
                      }

                      @Override
                      public void committed(CommitEvent event) {
                        if (event.kind() != CommitEvent.Kind.RECORDS) {
                          return;
                        }
                        line(
                            ScaleLog.commit(
                                System.currentTimeMillis(),
                                number,
                                TimeUnit.NANOSECONDS.toMicros(event.latency().toNanos()),
                                event.records(),
                                ScaleStore.numbers(event.positions().keySet())));
                      }
                    })
                .build();
        consumers.add(consumer);
        Thread t =
            new Thread(
                () -> {
                  try {
                    consumer.run();
                  } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                  }
                },
                "scale-" + group);
        threads.add(t);
        t.start();
      }
      channel.event("started");
      long nextHeap = System.currentTimeMillis();
      while (!channel.awaitStop(500, TimeUnit.MILLISECONDS)) {
        if (failure.get() != null) {
          channel.event("failed " + failure.get());
          failure.get().printStackTrace();
          flush(out);
          System.exit(3);
        }
        long now = System.currentTimeMillis();
        if (now >= nextHeap) {
          // The live set: a full GC first (a pause of this JVM only, tens of ms every few s).
          ManagementFactory.getMemoryMXBean().gc();
          line(
              ScaleLog.heap(
                  now, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed()));
          stats(consumers, now);
          nextHeap = now + heapMillis;
        }
        flush(out);
      }
      consumers.forEach(TandemConsumer::shutdown);
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(60));
      }
      consumers.forEach(TandemConsumer::close);
      stats(consumers, System.currentTimeMillis());
      flush(out);
    }
    store.close();
    channel.event("stopped");
    System.exit(failure.get() == null ? 0 : 3);
  }

  private static void stats(List<TandemConsumer<String, String, Object>> consumers, long now) {
    long conflicts = 0;
    long retries = 0;
    for (TandemConsumer<String, String, Object> c : consumers) {
      ConsumerStats s = c.stats();
      conflicts += s.conflicts();
      retries += s.retries();
    }
    line(ScaleLog.stats(now, conflicts, retries));
  }
}
