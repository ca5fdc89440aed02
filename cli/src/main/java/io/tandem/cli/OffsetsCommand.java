package io.tandem.cli;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.StoreUris;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem offsets list|show|reset|delete}: the positions a store keeps, through the {@link
 * OffsetStore} administration API. Never run {@code reset} or {@code delete} while consumers of the
 * group run: they bypass the contiguity check.
 */
@Command(
    name = "offsets",
    mixinStandardHelpOptions = true,
    description = "List, show, reset or delete the positions a store keeps for consumer groups.",
    subcommands = {
      OffsetsCommand.ListGroups.class,
      OffsetsCommand.Show.class,
      OffsetsCommand.Reset.class,
      OffsetsCommand.Delete.class
    })
final class OffsetsCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Parses {@code topic-N}, the way {@link Partition#toString()} prints it. */
  static Partition parsePartition(String text) {
    int dash = text.lastIndexOf('-');
    if (dash <= 0 || dash == text.length() - 1) {
      throw new Tandem.UsageException(
          "--partition must be TOPIC-N such as orders-3, got '" + text + "'");
    }
    try {
      return Partition.of(text.substring(0, dash), Integer.parseInt(text.substring(dash + 1)));
    } catch (NumberFormatException e) {
      throw new Tandem.UsageException(
          "--partition must be TOPIC-N such as orders-3, got '" + text + "'");
    }
  }

  static void printPositions(PrintWriter out, Map<Partition, Long> positions) {
    if (positions.isEmpty()) {
      out.println("(no stored positions)");
      return;
    }
    int width =
        Math.max(
            "TOPIC".length(),
            positions.keySet().stream().mapToInt(p -> p.topic().length()).max().orElse(0));
    out.printf("%-" + width + "s  %9s  %s%n", "TOPIC", "PARTITION", "POSITION");
    new TreeMap<>(positions)
        .forEach(
            (p, pos) -> out.printf("%-" + width + "s  %9d  %d%n", p.topic(), p.partition(), pos));
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the groups.")
  static final class ListGroups implements Runnable {
    @Mixin StoreOptions store;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      try (OffsetStore<?> s = store.open()) {
        Set<String> groups = new java.util.TreeSet<>(s.groups());
        if (groups.isEmpty()) {
          out.println("(no groups in " + StoreUris.mask(store.uri) + ")");
          return;
        }
        out.printf("%-40s  %10s%n", "GROUP", "PARTITIONS");
        for (String g : groups) {
          out.printf("%-40s  %10d%n", g, s.positions(g).size());
        }
      }
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Show every stored position of a group.")
  static final class Show implements Runnable {
    @Mixin StoreOptions store;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--group", required = true, description = "Consumer group.")
    String group;

    @Option(
        names = "--bootstrap-server",
        paramLabel = "HOST:PORT",
        description = "Kafka brokers: adds each partition's log end offset and the lag.")
    String bootstrap;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      Map<Partition, Long> positions;
      try (OffsetStore<?> s = store.open()) {
        positions = s.positions(group);
      }
      if (bootstrap == null || positions.isEmpty()) {
        printPositions(out, positions);
        return;
      }
      Map<Partition, Long> ends = KafkaOffsets.ends(bootstrap, positions.keySet());
      int width =
          Math.max(
              "TOPIC".length(),
              positions.keySet().stream().mapToInt(p -> p.topic().length()).max().orElse(0));
      out.printf(
          "%-" + width + "s  %9s  %12s  %12s  %s%n",
          "TOPIC",
          "PARTITION",
          "POSITION",
          "LOG-END",
          "LAG");
      new TreeMap<>(positions)
          .forEach(
              (p, pos) -> {
                Long end = ends.get(p);
                out.printf(
                    "%-" + width + "s  %9d  %12d  %12s  %s%n",
                    p.topic(),
                    p.partition(),
                    pos,
                    end == null ? "?" : end.toString(),
                    end == null ? "?" : Long.toString(Math.max(0, end - pos)));
              });
    }
  }

  /** Which partitions a reset or delete touches. */
  static final class Selection {
    @Option(
        names = "--partition",
        paramLabel = "TOPIC-N",
        description = "A partition, e.g. orders-3 (repeatable). Default: every stored one.")
    List<String> partitions = new ArrayList<>();

    @Option(names = "--topic", description = "Only the stored partitions of this topic.")
    String topic;

    List<Partition> resolve(Map<Partition, Long> stored) {
      if (!partitions.isEmpty()) {
        return partitions.stream().map(OffsetsCommand::parsePartition).distinct().toList();
      }
      return stored.keySet().stream()
          .filter(p -> topic == null || p.topic().equals(topic))
          .sorted()
          .toList();
    }
  }

  @Command(
      name = "reset",
      mixinStandardHelpOptions = true,
      description = {
        "Overwrite positions of a group. Stop the group's consumers first:"
            + " a reset bypasses the contiguity check."
      })
  static final class Reset implements Runnable {
    @Mixin StoreOptions store;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--group", required = true, description = "Consumer group.")
    String group;

    @Mixin Selection selection;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
      @Option(names = "--to-offset", paramLabel = "N", description = "Set each position to N.")
      Long offset;

      @Option(names = "--shift-by", paramLabel = "N", description = "Move each position by N.")
      Long shift;

      @Option(
          names = "--to-earliest",
          description = "Log start offset of each partition (needs --bootstrap-server).")
      boolean earliest;

      @Option(
          names = "--to-latest",
          description = "Log end offset of each partition (needs --bootstrap-server).")
      boolean latest;
    }

    @Option(
        names = "--bootstrap-server",
        paramLabel = "HOST:PORT",
        description = "Kafka brokers, for --to-earliest and --to-latest.")
    String bootstrap;

    @Option(names = "--dry-run", description = "Print the plan, change nothing.")
    boolean dryRun;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      if ((target.earliest || target.latest) && bootstrap == null) {
        throw new Tandem.UsageException(
            "--to-earliest and --to-latest need --bootstrap-server HOST:PORT");
      }
      try (OffsetStore<?> s = store.open()) {
        Map<Partition, Long> stored = s.positions(group);
        List<Partition> chosen = selection.resolve(stored);
        if (chosen.isEmpty()) {
          throw new Tandem.UsageException(
              "group '"
                  + group
                  + "' has no stored position"
                  + (selection.topic == null ? "" : " for topic '" + selection.topic + "'")
                  + ": name partitions with --partition TOPIC-N");
        }
        Map<Partition, Long> plan = new TreeMap<>();
        Map<Partition, Long> kafka =
            target.earliest
                ? KafkaOffsets.starts(bootstrap, chosen)
                : target.latest ? KafkaOffsets.ends(bootstrap, chosen) : Map.of();
        for (Partition p : chosen) {
          long to;
          if (target.offset != null) {
            to = target.offset;
          } else if (target.shift != null) {
            Long current = stored.get(p);
            if (current == null) {
              throw new Tandem.UsageException(
                  "--shift-by needs a stored position, "
                      + p
                      + " has none in group '"
                      + group
                      + "'");
            }
            to = Math.max(0, current + target.shift);
          } else {
            Long k = kafka.get(p);
            if (k == null) {
              throw new Tandem.UsageException("Kafka does not know partition " + p);
            }
            to = k;
          }
          if (to < 0) {
            throw new Tandem.UsageException("a position must be >= 0, got " + to + " for " + p);
          }
          plan.put(p, to);
        }
        int width =
            Math.max(
                "PARTITION".length(),
                plan.keySet().stream().mapToInt(p -> p.toString().length()).max().orElse(0));
        out.printf("%-" + width + "s  %12s  %12s%n", "PARTITION", "FROM", "TO");
        plan.forEach(
            (p, to) ->
                out.printf(
                    "%-" + width + "s  %12s  %12d%n",
                    p,
                    stored.containsKey(p) ? stored.get(p).toString() : "-",
                    to));
        if (dryRun) {
          out.println("dry run: nothing changed");
          return;
        }
        s.overwrite(group, plan);
        out.println("reset " + plan.size() + " position(s) of group '" + group + "'");
      }
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = "Delete the stored positions of a group (all, or some partitions).")
  static final class Delete implements Runnable {
    @Mixin StoreOptions store;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--group", required = true, description = "Consumer group.")
    String group;

    @Option(
        names = "--partition",
        paramLabel = "TOPIC-N",
        description = "Delete only these partitions (repeatable). Default: the whole group.")
    List<String> partitions = new ArrayList<>();

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      try (OffsetStore<?> s = store.open()) {
        if (partitions.isEmpty()) {
          boolean had = s.delete(group);
          out.println(
              had
                  ? "deleted group '" + group + "'"
                  : "group '" + group + "' had no stored position");
        } else {
          List<Partition> ps =
              partitions.stream().map(OffsetsCommand::parsePartition).distinct().toList();
          int n = s.delete(group, ps);
          out.println("deleted " + n + " position(s) of group '" + group + "'");
        }
      }
    }
  }

  /** Log start and end offsets from Kafka, for {@code --to-earliest}, {@code --to-latest}. */
  static final class KafkaOffsets {
    private KafkaOffsets() {}

    static Map<Partition, Long> starts(String bootstrap, java.util.Collection<Partition> ps) {
      return list(bootstrap, ps, OffsetSpec.earliest());
    }

    static Map<Partition, Long> ends(String bootstrap, java.util.Collection<Partition> ps) {
      return list(bootstrap, ps, OffsetSpec.latest());
    }

    private static Map<Partition, Long> list(
        String bootstrap, java.util.Collection<Partition> ps, OffsetSpec spec) {
      Properties props = new Properties();
      props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
      try (Admin admin = Admin.create(props)) {
        Map<TopicPartition, OffsetSpec> request =
            ps.stream()
                .collect(
                    Collectors.toMap(p -> new TopicPartition(p.topic(), p.partition()), p -> spec));
        var result = admin.listOffsets(request).all().get();
        Map<Partition, Long> out = new TreeMap<>();
        result.forEach(
            (tp, info) -> out.put(Partition.of(tp.topic(), tp.partition()), info.offset()));
        return out;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while asking Kafka for offsets", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException(
            "Kafka at " + bootstrap + " did not answer for offsets: " + e.getCause().getMessage(),
            e.getCause());
      }
    }
  }
}
