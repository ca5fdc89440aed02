package io.tandem.tck.e2e.internal;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.tck.e2e.E2eRecord;
import io.tandem.tck.e2e.ResultModel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

/**
 * The end-to-end kit's consumer worker: a {@code TandemConsumer} in its own JVM that writes each
 * batch's results through a {@link ResultModel} inside the store's commit. The test drives it
 * through standard input and reads {@code @e2e ...} lines from its standard output:
 *
 * <ul>
 *   <li>commands: {@code hang} (the next batch's writer blocks forever inside the commit, after
 *       writing its results, so a kill lands mid-commit), {@code go} (release a poll held by {@link
 *       GateInterceptor}), {@code stop} (close the consumer cleanly and exit 0);
 *   <li>events: {@code started}, {@code hang}, {@code gate ...}, {@code released}, {@code stats
 *       commits=.. records=.. conflicts=..} (every 100 ms, runtime counters), {@code stopped}.
 * </ul>
 *
 * <p>Arguments ({@code --key=value}): bootstrap, topic, group, store, storeProps (a properties
 * file), model (class name), namespace, name, gateAtPoll (0), maxPollRecords (200), workMs (0: time
 * spent in each batch's writer, inside the commit), and consumer properties as {@code
 * --consumer.<kafka key>=<value>}.
 *
 * <p>Internal: may change in any release.
 */
public final class Worker {

  // The protocol goes to the real standard output; everything else (logs) to standard error.
  private static final PrintStream OUT = System.out;

  private static final AtomicBoolean hangNext = new AtomicBoolean();

  private Worker() {}

  static void event(String line) {
    synchronized (OUT) {
      OUT.println(WorkerProcess.PREFIX + line);
      OUT.flush();
    }
  }

  /**
   * Runs the worker until {@code stop} or a kill.
   *
   * @param args {@code --key=value} arguments, see the class documentation
   * @throws Exception on a setup failure (the worker exits non-zero)
   */
  public static void main(String[] args) throws Exception {
    System.setOut(System.err);
    Map<String, String> a = new HashMap<>();
    Map<String, Object> consumerProps = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || arg.indexOf('=') < 0) {
        throw new IllegalArgumentException("arguments are --key=value, got '" + arg + "'");
      }
      String key = arg.substring(2, arg.indexOf('='));
      String value = arg.substring(arg.indexOf('=') + 1);
      if (key.startsWith("consumer.")) {
        consumerProps.put(key.substring("consumer.".length()), value);
      } else {
        a.put(key, value);
      }
    }
    Map<String, String> storeProps = new HashMap<>();
    if (a.containsKey("storeProps")) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(Path.of(a.get("storeProps")))) {
        p.load(r);
      }
      p.stringPropertyNames().forEach(k -> storeProps.put(k, p.getProperty(k)));
    }
    GateInterceptor.gateAtPoll = Integer.parseInt(a.getOrDefault("gateAtPoll", "0"));
    long workMs = Long.parseLong(a.getOrDefault("workMs", "0"));

    @SuppressWarnings("unchecked")
    ResultModel<Object> model =
        (ResultModel<Object>)
            Class.forName(required(a, "model")).getDeclaredConstructor().newInstance();
    model.open(required(a, "store"), storeProps, required(a, "namespace"));

    CountDownLatch stop = new CountDownLatch(1);
    Thread commands = new Thread(() -> readCommands(stop), "e2e-commands");
    commands.setDaemon(true);
    commands.start();

    consumerProps.put("bootstrap.servers", required(a, "bootstrap"));
    consumerProps.putIfAbsent("max.poll.records", a.getOrDefault("maxPollRecords", "200"));
    consumerProps.put("interceptor.classes", GateInterceptor.class.getName());
    consumerProps.putIfAbsent("client.id", a.getOrDefault("name", "worker"));

    @SuppressWarnings("unchecked")
    OffsetStore<Object> store =
        (OffsetStore<Object>) OffsetStores.open(required(a, "store"), storeProps);
    RuntimeBridge consumer =
        RuntimeBridge.build(
            store,
            consumerProps,
            required(a, "group"),
            required(a, "topic"),
            // The model's contract: on an idempotent store its results are keyed upserts.
            !store.capabilities().transactional(),
            (records, handle) -> {
              List<E2eRecord> batch = decode(records);
              model.write(handle, batch);
              if (workMs > 0) {
                // Simulated processing time inside the commit: widens the window in which a
                // random kill lands with the transaction open.
                TimeUnit.MILLISECONDS.sleep(workMs);
              }
              if (hangNext.compareAndSet(true, false)) {
                event("hang batch=" + batch.size());
                new CountDownLatch(1).await(); // until SIGKILL
              }
            });
    GateInterceptor.commits = () -> consumer.stat("batches");
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
            "e2e-consumer");
    runner.start();
    event("started");
    while (!stop.await(100, TimeUnit.MILLISECONDS)) {
      printStats(consumer);
      if (failure.get() != null) {
        event("failed " + failure.get().toString().replace('\n', ' '));
        failure.get().printStackTrace();
        System.exit(3);
      }
    }
    consumer.close();
    runner.join(TimeUnit.SECONDS.toMillis(30));
    printStats(consumer);
    store.close();
    model.close();
    event("stopped");
    System.exit(failure.get() == null ? 0 : 3);
  }

  private static void printStats(RuntimeBridge consumer) {
    event(
        "stats commits="
            + consumer.stat("batches")
            + " records="
            + consumer.stat("records")
            + " conflicts="
            + consumer.stat("conflicts")
            + " retries="
            + consumer.stat("retries")
            + " assigned="
            + consumer.stat("assignedPartitions"));
  }

  private static void readCommands(CountDownLatch stop) {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        switch (line.trim()) {
          case "hang" -> hangNext.set(true);
          case "go" -> GateInterceptor.RELEASE.countDown();
          case "stop" -> stop.countDown();
          default -> event("unknown-command " + line);
        }
      }
    } catch (IOException e) {
      // The test JVM is gone: stop with it.
    }
    stop.countDown();
  }

  private static String required(Map<String, String> a, String key) {
    String v = a.get(key);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("missing --" + key + "=...");
    }
    return v;
  }

  static List<E2eRecord> decode(List<ConsumerRecord<String, String>> rs) {
    List<E2eRecord> out = new ArrayList<>();
    for (var r : rs) {
      out.add(E2eRecord.decode(r.key(), r.value()));
    }
    return out;
  }
}
