package io.tandem.tck.e2e.internal;

import io.tandem.kafka.Batch;
import io.tandem.kafka.ConsumerListener;
import io.tandem.kafka.ConsumerStats;
import io.tandem.kafka.RetryPolicy;
import io.tandem.kafka.TandemConsumer;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.tck.e2e.E2eRecord;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.testing.ForkChannel;
import io.tandem.testing.TcpProxy;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The end-to-end kit's consumer worker: a {@link TandemConsumer} in its own JVM that writes each
 * batch's results through a {@link ResultModel} inside the store's commit. The test drives it over
 * the {@link ForkChannel} line protocol:
 *
 * <ul>
 *   <li>commands: {@code hang} (the next batch's writer blocks forever inside the commit, after
 *       writing its results, so a kill lands mid-commit), {@code lose-reply} (the next batch's
 *       writer arms the store proxy, which then loses the reply to the commit), {@code go} (release
 *       a poll held by {@link GateInterceptor}), {@code stop} (close the consumer cleanly and exit
 *       0);
 *   <li>events: {@code started}, {@code hang}, {@code gate ...}, {@code released}, {@code stats
 *       commits=.. records=.. conflicts=.. gaps=..} (every 100 ms, runtime counters; gaps: offsets
 *       committed batches passed without a record, e.g. compacted away), {@code stopped}.
 * </ul>
 *
 * <p>Arguments ({@code --key=value}): bootstrap, topic, group, store, storeProps (a properties
 * file), storeEndpoint ({@code host:port} of the store inside the store URI: reach it through a
 * {@link TcpProxy}), model (class name), namespace, name, gateAtPoll (0), maxPollRecords (200),
 * workMs (0: time spent in each batch's writer, inside the commit), and consumer properties as
 * {@code --consumer.<kafka key>=<value>}.
 *
 * <p>Internal: may change in any release.
 */
public final class Worker {

  private static final AtomicBoolean hangNext = new AtomicBoolean();
  private static final AtomicBoolean loseReplyNext = new AtomicBoolean();
  private static final AtomicLong commitRetries = new AtomicLong();
  private static final AtomicLong resolved = new AtomicLong();
  private static final AtomicLong gaps = new AtomicLong();
  private static final AtomicLong pendingGaps = new AtomicLong();
  private static final AtomicBoolean unknownOutcome = new AtomicBoolean();
  private static volatile TcpProxy proxy;
  private static volatile ForkChannel channel;

  private Worker() {}

  static void event(String line) {
    channel.event(line);
  }

  /**
   * Runs the worker until {@code stop} or a kill.
   *
   * @param args {@code --key=value} arguments, see the class documentation
   * @throws Exception on a setup failure (the worker exits non-zero)
   */
  public static void main(String[] args) throws Exception {
    channel =
        ForkChannel.open(
            command -> {
              switch (command) {
                case "hang" -> hangNext.set(true);
                case "lose-reply" -> loseReplyNext.set(true);
                case "go" -> GateInterceptor.RELEASE.countDown();
                default -> event("unknown-command " + command);
              }
            });
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

    ResultModel<Object> model = Models.create(required(a, "model"));
    model.open(required(a, "store"), storeProps, required(a, "namespace"));

    // With --storeEndpoint the store (not the model's setup connection) is reached through a TCP
    // proxy in this JVM, which can lose the reply to a commit: the writer arms it as its last step,
    // so the next request on the wire is the store's own commit.
    String storeUri = required(a, "store");
    String endpoint = a.get("storeEndpoint");
    if (endpoint != null) {
      if (!storeUri.contains(endpoint)) {
        throw new IllegalArgumentException(
            "--storeEndpoint=" + endpoint + " does not occur in --store=" + storeUri);
      }
      int colon = endpoint.lastIndexOf(':');
      proxy =
          TcpProxy.start(
              endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1)));
      storeUri = storeUri.replace(endpoint, "127.0.0.1:" + proxy.port());
    }

    consumerProps.put("bootstrap.servers", required(a, "bootstrap"));
    consumerProps.putIfAbsent("max.poll.records", a.getOrDefault("maxPollRecords", "200"));
    consumerProps.put("interceptor.classes", GateInterceptor.class.getName());
    consumerProps.putIfAbsent("client.id", a.getOrDefault("name", "worker"));

    @SuppressWarnings("unchecked")
    OffsetStore<Object> store = (OffsetStore<Object>) OffsetStores.open(storeUri, storeProps);
    TandemConsumer.Builder<String, String, Object> builder =
        TandemConsumer.builder(store, new StringDeserializer(), new StringDeserializer())
            .properties(consumerProps)
            .group(required(a, "group"))
            .topics(required(a, "topic"))
            .processor(
                (batch, handle) -> {
                  List<E2eRecord> records = decode(batch.records());
                  // Offsets the batch's ranges cover without a record: compacted away (or
                  // transaction markers, aborted records). Counted once the commit succeeds.
                  pendingGaps.set(gapsOf(batch));
                  model.write(handle, records);
                  if (workMs > 0) {
                    // Simulated processing time inside the commit: widens the window in which a
                    // random kill lands with the transaction open.
                    TimeUnit.MILLISECONDS.sleep(workMs);
                  }
                  if (proxy != null && loseReplyNext.compareAndSet(true, false)) {
                    proxy.loseNextReply();
                  }
                  if (hangNext.compareAndSet(true, false)) {
                    event("hang batch=" + records.size());
                    new CountDownLatch(1).await(); // until SIGKILL
                  }
                });
    // A store outage (a killed server, a lost reply) is retried quickly: the kit's faults are
    // seconds long, and the default's 10 s ceiling would only slow the run down.
    builder.retry(RetryPolicy.exponential(Duration.ofMillis(100), Duration.ofSeconds(1)));
    builder.listener(
        new ConsumerListener() {
          @Override
          public void retrying(RetryEvent event) {
            if (event.operation() == RetryEvent.Operation.COMMIT) {
              commitRetries.incrementAndGet();
              unknownOutcome.set(true);
            }
          }

          // The runtime read the positions back after the failed commit and went on: the outcome
          // was resolved (committed, found landed, or found moved by another member).
          @Override
          public void committed(CommitEvent event) {
            gaps.addAndGet(pendingGaps.getAndSet(0));
            if (unknownOutcome.getAndSet(false)) {
              resolved.incrementAndGet();
            }
          }

          @Override
          public void conflicted(ConflictEvent event) {
            if (unknownOutcome.getAndSet(false)) {
              resolved.incrementAndGet();
            }
          }
        });
    if (!store.capabilities().transactional()) {
      // The model's contract: on an idempotent store its results are keyed upserts.
      builder.keyedResults();
    }
    TandemConsumer<String, String, Object> consumer = builder.build();
    GateInterceptor.commits = () -> consumer.stats().batches();
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
    while (!channel.awaitStop(100, TimeUnit.MILLISECONDS)) {
      printStats(consumer);
      if (failure.get() != null) {
        event("failed " + failure.get());
        failure.get().printStackTrace();
        System.exit(3);
      }
    }
    consumer.close();
    runner.join(TimeUnit.SECONDS.toMillis(30));
    printStats(consumer);
    store.close();
    model.close();
    if (proxy != null) {
      proxy.close();
    }
    event("stopped");
    System.exit(failure.get() == null ? 0 : 3);
  }

  private static void printStats(TandemConsumer<?, ?, ?> consumer) {
    ConsumerStats s = consumer.stats();
    event(
        "stats commits="
            + s.batches()
            + " records="
            + s.records()
            + " conflicts="
            + s.conflicts()
            + " retries="
            + s.retries()
            + " assigned="
            + s.assignedPartitions()
            + " commitRetries="
            + commitRetries.get()
            + " resolved="
            + resolved.get()
            + " lostReplies="
            + (proxy == null ? 0 : proxy.repliesLost())
            + " skipped="
            + s.skippedPositions()
            + " gaps="
            + gaps.get());
  }

  private static String required(Map<String, String> a, String key) {
    String v = a.get(key);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("missing --" + key + "=...");
    }
    return v;
  }

  static long gapsOf(Batch<String, String> batch) {
    Map<Partition, Long> records = new HashMap<>();
    for (var r : batch.records()) {
      records.merge(Partition.of(r.topic(), r.partition()), 1L, Long::sum);
    }
    long out = 0;
    for (OffsetRange range : batch.ranges()) {
      out += range.until() - range.from() - records.getOrDefault(range.partition(), 0L);
    }
    return out;
  }

  static List<E2eRecord> decode(List<ConsumerRecord<String, String>> rs) {
    List<E2eRecord> out = new ArrayList<>();
    for (var r : rs) {
      out.add(E2eRecord.decode(r.key(), r.value()));
    }
    return out;
  }
}
