package io.tandem.cli;

import io.tandem.spi.Partition;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options and checks shared by the commands that print or change positions. */
final class CommonOptions {
  private CommonOptions() {}

  /** How to print: {@code table} for people, {@code json} for scripts. */
  enum Format {
    table,
    json
  }

  /** {@code --output table|json}. */
  static final class Output {
    @Option(
        names = {"-o", "--output"},
        paramLabel = "FORMAT",
        description = "table (default) or json.")
    Format format = Format.table;

    boolean json() {
      return format == Format.json;
    }
  }

  /** {@code --execute}, {@code --force}, {@code --reason}: what a change needs. */
  static final class Change {
    @Option(
        names = "--execute",
        description = "Apply the change. Without it the command only prints the plan (dry run).")
    boolean execute;

    @Option(
        names = "--force",
        description =
            "Change even when live members cannot be ruled out (no --bootstrap-server) or Kafka"
                + " shows the group has live members.")
    boolean force;

    @Option(
        names = "--reason",
        paramLabel = "TEXT",
        description = "Why, kept in the store's admin history with who and when.")
    String reason;
  }

  /**
   * Refuses a change while the group may have live consumers: a reset or delete bypasses the
   * contiguity check, so a running member would keep committing from its old position. It knows by
   * Kafka's view of the consumer group of the same name (describeConsumerGroups): the Tandem
   * runtime subscribes with its group name as {@code group.id}. Without a broker address it cannot
   * know and refuses unless {@code --force}.
   */
  static void ensureIdle(String group, String bootstrap, boolean force, PrintWriter err) {
    if (force) {
      err.println("tandem: --force: not checking group '" + group + "' for live consumers");
      return;
    }
    if (bootstrap == null) {
      throw new Tandem.RefusedException(
          "cannot tell whether group '"
              + group
              + "' has live consumers without --bootstrap-server (Kafka's view of the group);"
              + " pass it, or stop the consumers and add --force");
    }
    List<String> members;
    try (KafkaOffsets kafka = new KafkaOffsets(bootstrap)) {
      members = kafka.members(group);
    }
    if (!members.isEmpty()) {
      throw new Tandem.RefusedException(
          "group '"
              + group
              + "' has "
              + members.size()
              + " live member(s) in Kafka at "
              + bootstrap
              + " ("
              + String.join(", ", members)
              + "): stop them first, or add --force");
    }
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

  /** Prints rows under a header, each column as wide as its widest cell. */
  static void table(PrintWriter out, List<String> header, List<List<String>> rows) {
    int[] w = new int[header.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    for (List<String> r : all) {
      for (int i = 0; i < w.length; i++) {
        w[i] = Math.max(w[i], r.get(i).length());
      }
    }
    for (List<String> r : all) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < w.length; i++) {
        if (i > 0) {
          b.append("  ");
        }
        String c = r.get(i);
        // Numbers right-aligned, text left-aligned.
        String fill = " ".repeat(w[i] - c.length());
        b.append(i > 0 && c.matches("-?[0-9]+|-|\\?") ? fill + c : c + fill);
      }
      out.println(b.toString().stripTrailing());
    }
  }

  static String str(Long v) {
    return v == null ? "-" : v.toString();
  }

  static Map<String, Object> partitionJson(Partition p) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("topic", p.topic());
    m.put("partition", p.partition());
    return m;
  }
}
