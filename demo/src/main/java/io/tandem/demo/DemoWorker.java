package io.tandem.demo;

import io.tandem.kafka.ConsumerStats;
import io.tandem.kafka.TandemConsumer;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.tck.e2e.E2eRecord;
import io.tandem.testing.ForkChannel;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One consumer of the demo, in its own JVM so that the demo can kill it for real (SIGKILL): a
 * {@link TandemConsumer} whose transactional processor applies payments to the ledger inside the
 * store's commit. Driven by {@link DemoCommand} through standard input ({@code hang}: the next
 * batch blocks inside its commit, after writing, until the kill; {@code stop}: close cleanly) and
 * reports over the same {@link ForkChannel} ({@code started|hang|stats ...|stopped}).
 */
public final class DemoWorker {

  private static final AtomicBoolean hangNext = new AtomicBoolean();
  private static ForkChannel channel;

  private DemoWorker() {}

  private static void event(String line) {
    channel.event(line);
  }

  /**
   * Runs one demo consumer until {@code stop} or a kill.
   *
   * @param args {@code --key=value}: bootstrap, store, storeProps (file), group, topic, run,
   *     instance, sessionTimeoutMs, model (a result model class, for a store that is not jdbc:)
   * @throws Exception on a setup failure
   */
  public static void main(String[] args) throws Exception {
    channel =
        ForkChannel.open(
            command -> {
              if (command.equals("hang")) {
                hangNext.set(true);
              } else {
                event("unknown-command " + command);
              }
            });
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("arguments are --key=value, got '" + arg + "'");
      }
      a.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    Map<String, String> storeProps = new HashMap<>();
    if (a.containsKey("storeProps")) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(Path.of(a.get("storeProps")))) {
        p.load(r);
      }
      p.stringPropertyNames().forEach(k -> storeProps.put(k, p.getProperty(k)));
    }
    // jdbc: stores apply payments to the SQL ledger; other stores through their result model.
    String modelClass = a.get("model");
    @SuppressWarnings("unchecked")
    OffsetStore<Object> store = (OffsetStore<Object>) OffsetStores.open(a.get("store"), storeProps);
    boolean transactional = store.capabilities().transactional();
    DemoLedger sql = modelClass == null ? new DemoLedger(a.get("run")) : null;
    ModelLedger model =
        modelClass == null
            ? null
            : ModelLedger.open(
                modelClass,
                a.get("store"),
                storeProps,
                ModelLedger.namespace(a.get("run")),
                transactional);
    try {
      TandemConsumer.Builder<String, String, Object> builder =
          TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
              .bootstrapServers(a.get("bootstrap"))
              .group(a.get("group"))
              .topics(a.get("topic"))
              // Static membership: a restarted worker takes its slot back at once, without
              // waiting for the dead one's session to expire.
              .property("group.instance.id", a.get("instance"))
              .property("client.id", a.get("instance"))
              .property("session.timeout.ms", a.getOrDefault("sessionTimeoutMs", "6000"))
              .property("heartbeat.interval.ms", "500")
              .property("max.poll.records", "500")
              .processor(
                  (batch, handle) -> {
                    if (sql != null) {
                      List<DemoLedger.Payment> payments = new ArrayList<>(batch.size());
                      for (ConsumerRecord<String, String> r : batch.records()) {
                        payments.add(DemoLedger.Payment.decode(r.key(), r.value()));
                      }
                      sql.apply((Connection) handle, payments);
                    } else {
                      List<E2eRecord> payments = new ArrayList<>(batch.size());
                      for (ConsumerRecord<String, String> r : batch.records()) {
                        payments.add(E2eRecord.decode(r.key(), r.value()));
                      }
                      model.apply(handle, payments);
                    }
                    if (hangNext.compareAndSet(true, false)) {
                      event("hang");
                      new CountDownLatch(1).await(); // inside the open commit, until SIGKILL
                    }
                  });
      if (!transactional) {
        // An IDEMPOTENT store: the model writes keyed results, which the runtime requires to be
        // declared.
        builder.keyedResults();
      }
      TandemConsumer<String, String, Object> consumer = builder.build();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread runner =
          new Thread(
              () -> {
                try {
                  consumer.run();
                } catch (Throwable t) {
                  failure.set(t);
                }
              },
              "demo-consumer");
      runner.start();
      event("started");
      while (!channel.awaitStop(200, TimeUnit.MILLISECONDS)) {
        stats(consumer);
        if (failure.get() != null) {
          failure.get().printStackTrace();
          event("failed " + String.valueOf(failure.get().getMessage()).replace('\n', ' '));
          System.exit(3);
        }
      }
      consumer.close();
      runner.join(TimeUnit.SECONDS.toMillis(30));
      stats(consumer);
    } finally {
      if (model != null) {
        model.close();
      }
      store.close();
    }
    event("stopped");
    System.exit(0);
  }

  private static void stats(TandemConsumer<?, ?, ?> consumer) {
    ConsumerStats s = consumer.stats();
    event(
        "stats commits="
            + s.batches()
            + " records="
            + s.records()
            + " conflicts="
            + s.conflicts()
            + " lag="
            + s.lag());
  }
}
