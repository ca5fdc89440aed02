package io.tandem.tck.e2e.internal;

import io.tandem.spi.OffsetStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Drives {@code io.tandem.kafka.TandemConsumer} by reflection. Why not a plain dependency: the
 * runtime's own tests depend on {@code tandem-store-jdbc}, whose tests depend on this kit, so a
 * compile dependency from the kit to {@code tandem-kafka} would be a cycle in the Maven reactor.
 * The worker JVM has the runtime on its class path (the backend's test class path must hold {@code
 * io.tandem:tandem-kafka}); the calls here follow its public API one to one.
 *
 * <p>Internal: may change in any release.
 */
final class RuntimeBridge implements AutoCloseable {

  /** The batch writer: the records of one commit and the store's handle. */
  @FunctionalInterface
  interface Processor {
    void process(List<ConsumerRecord<String, String>> records, Object handle) throws Exception;
  }

  private static final String RUNTIME = "io.tandem.kafka.TandemConsumer";

  private final Object consumer;
  private final Method run;
  private final Method stats;
  private final Method close;

  private RuntimeBridge(Object consumer) throws ReflectiveOperationException {
    this.consumer = consumer;
    Class<?> type = consumer.getClass();
    this.run = type.getMethod("run");
    this.stats = type.getMethod("stats");
    this.close = type.getMethod("close");
  }

  static RuntimeBridge build(
      OffsetStore<?> store,
      Map<String, Object> properties,
      String group,
      String topic,
      boolean keyedResults,
      Processor processor)
      throws ReflectiveOperationException {
    Class<?> runtime;
    try {
      runtime = Class.forName(RUNTIME);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(
          "the end-to-end kit runs the Tandem consumer runtime: add io.tandem:tandem-kafka to the"
              + " test class path",
          e);
    }
    Class<?> processorType = Class.forName("io.tandem.kafka.BatchProcessor");
    Class<?> deserializer = Class.forName("org.apache.kafka.common.serialization.Deserializer");
    Object builder =
        runtime
            .getMethod("builder", OffsetStore.class, deserializer, deserializer)
            .invoke(null, store, new StringDeserializer(), new StringDeserializer());
    Class<?> b = builder.getClass();
    b.getMethod("properties", Map.class).invoke(builder, properties);
    b.getMethod("group", String.class).invoke(builder, group);
    b.getMethod("topics", String[].class).invoke(builder, (Object) new String[] {topic});
    Object proxy =
        Proxy.newProxyInstance(
            processorType.getClassLoader(),
            new Class<?>[] {processorType},
            (self, method, args) -> {
              switch (method.getName()) {
                case "process" -> {
                  Object batch = args[0];
                  @SuppressWarnings("unchecked")
                  List<ConsumerRecord<String, String>> records =
                      (List<ConsumerRecord<String, String>>)
                          batch.getClass().getMethod("records").invoke(batch);
                  processor.process(records, args[1]);
                  return null;
                }
                case "hashCode" -> {
                  return System.identityHashCode(self);
                }
                case "equals" -> {
                  return self == args[0];
                }
                default -> {
                  return "e2e-processor";
                }
              }
            });
    b.getMethod("processor", processorType).invoke(builder, proxy);
    if (keyedResults) {
      b.getMethod("keyedResults").invoke(builder);
    }
    return new RuntimeBridge(b.getMethod("build").invoke(builder));
  }

  /** Polls and commits until closed; rethrows what the runtime threw. */
  void run() throws Throwable {
    try {
      run.invoke(consumer);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** A counter of the runtime's {@code ConsumerStats}: batches, records, conflicts, ... */
  long stat(String name) {
    try {
      Object s = stats.invoke(consumer);
      return ((Number) s.getClass().getMethod(name).invoke(s)).longValue();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("ConsumerStats." + name + "() is not readable", e);
    }
  }

  @Override
  public void close() {
    try {
      close.invoke(consumer);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("closing the consumer failed", e);
    }
  }
}
