package io.tandem.cli;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStores;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code --store URI} and {@code --store-property k=v}, shared by the commands. */
final class StoreOptions {

  @Option(
      names = "--store",
      paramLabel = "URI",
      description =
          "Store URI, e.g. jdbc:postgresql://localhost/app?user=me, "
              + "jdbc:h2:file:./data/app, redis://localhost:6379.",
      required = true)
  String uri;

  @Option(
      names = {"-P", "--store-property"},
      paramLabel = "KEY=VALUE",
      description = "Store option passed beside the URI (repeatable), e.g. -P password=secret.")
  Map<String, String> properties = new LinkedHashMap<>();

  OffsetStore<?> open() {
    return OffsetStores.open(uri, properties);
  }
}
