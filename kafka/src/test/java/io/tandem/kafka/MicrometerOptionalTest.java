package io.tandem.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Micrometer is optional: the runtime builds and reports stats on a class path without it. The
 * runtime is loaded in a class loader that sees this test's class path minus Micrometer.
 */
class MicrometerOptionalTest {

  @Test
  void consumerBuildsAndClosesWithoutMicrometerOnTheClassPath() throws Exception {
    List<URL> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.contains("micrometer")) {
        urls.add(new File(entry).toURI().toURL());
      }
    }
    try (URLClassLoader loader =
        new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
      assertThatThrownBy(() -> loader.loadClass("io.micrometer.core.instrument.MeterRegistry"))
          .isInstanceOf(ClassNotFoundException.class);

      Class<?> storeType = loader.loadClass("io.tandem.spi.OffsetStore");
      Class<?> guarantee = loader.loadClass("io.tandem.spi.Guarantee");
      Object caps =
          loader
              .loadClass("io.tandem.spi.Capabilities")
              .getConstructor(guarantee, boolean.class, int.class, boolean.class, String.class)
              .newInstance(
                  guarantee.getField("TRANSACTIONAL").get(null), true, 10, true, "isolated");
      Object store =
          Proxy.newProxyInstance(
              loader,
              new Class<?>[] {storeType},
              (proxy, method, args) ->
                  switch (method.getName()) {
                    case "capabilities" -> caps;
                    case "close" -> null;
                    default -> throw new UnsupportedOperationException(method.getName());
                  });
      Class<?> deserializer =
          loader.loadClass("org.apache.kafka.common.serialization.Deserializer");
      Object strings =
          loader
              .loadClass("org.apache.kafka.common.serialization.StringDeserializer")
              .getConstructor()
              .newInstance();
      Class<?> sinkType = loader.loadClass("io.tandem.kafka.IdempotentSink");
      Object sink =
          Proxy.newProxyInstance(loader, new Class<?>[] {sinkType}, (proxy, method, args) -> null);

      Class<?> consumerType = loader.loadClass("io.tandem.kafka.TandemConsumer");
      Object builder =
          consumerType
              .getMethod("builder", storeType, deserializer, deserializer)
              .invoke(null, store, strings, strings);
      Class<?> b = builder.getClass();
      b.getMethod("bootstrapServers", String.class).invoke(builder, "127.0.0.1:1");
      b.getMethod("group", String.class).invoke(builder, "g");
      b.getMethod("topics", String[].class).invoke(builder, (Object) new String[] {"t"});
      b.getMethod("sink", sinkType).invoke(builder, sink);
      // Kafka loads its plugin classes (metrics reporters) through the context class loader.
      ClassLoader previous = Thread.currentThread().getContextClassLoader();
      Thread.currentThread().setContextClassLoader(loader);
      Object consumer;
      try {
        consumer = b.getMethod("build").invoke(builder);
      } finally {
        Thread.currentThread().setContextClassLoader(previous);
      }
      Method stats = consumerType.getMethod("stats");
      assertThat(stats.invoke(consumer).toString()).contains("records=0");
      consumerType.getMethod("close").invoke(consumer);
      assertThat(consumerType.getMethod("state").invoke(consumer).toString()).isEqualTo("STOPPED");
    }
  }
}
