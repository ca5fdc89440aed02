package io.tandem.cli;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem lag}: how far behind a group is, from the positions in its store (the truth) and
 * Kafka's log offsets, beside Kafka's committed offsets of the group (the runtime's monitoring
 * mirror, what kafka-consumer-groups and exporters read).
 */
@Command(
    name = "lag",
    mixinStandardHelpOptions = true,
    description = {
      "Per partition: stored position, log start/end, lag, Kafka's committed offset (the"
          + " runtime's mirror) and whether retention has passed the position."
    })
final class LagCommand implements Runnable {
  @Mixin StoreOptions store;
  @Mixin CommonOptions.Output output;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--group", required = true, description = "Consumer group.")
  String group;

  @Option(
      names = "--bootstrap-server",
      required = true,
      paramLabel = "HOST:PORT",
      description = "Kafka brokers.")
  String bootstrap;

  @Override
  public void run() {
    Map<Partition, Long> positions;
    try (OffsetStore<?> s = store.open()) {
      positions = OffsetsCommand.existing(s, group, store.uri);
    }
    LagReport.print(spec.commandLine().getOut(), output, group, positions, bootstrap, true);
  }
}
