package io.tandem.cli;

import static io.tandem.cli.CommonOptions.partitionJson;
import static io.tandem.cli.CommonOptions.str;

import io.tandem.cli.CommonOptions.Change;
import io.tandem.cli.CommonOptions.Output;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.StoreUris;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem offsets list|show|reset|delete|export|import|history}: the positions a store keeps,
 * through the {@link OffsetStore} administration API, so it works on every store. Changes are dry
 * runs unless {@code --execute}, refused while Kafka shows live members of the group unless {@code
 * --force}, and recorded in the store's admin history ({@link History}).
 */
@Command(
    name = "offsets",
    mixinStandardHelpOptions = true,
    description = "List, show, reset, delete, export or import the positions a store keeps.",
    subcommands = {
      OffsetsCommand.ListGroups.class,
      OffsetsCommand.Show.class,
      OffsetsCommand.Reset.class,
      OffsetsCommand.Delete.class,
      OffsetsCommand.Export.class,
      OffsetsCommand.Import.class,
      OffsetsCommand.HistoryCommand.class
    })
final class OffsetsCommand implements Runnable {

  /** The export file's {@code format} value. */
  static final String FORMAT = "tandem-offsets";

  /** The export file's version this command writes and reads. */
  static final int VERSION = 1;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static Partition parsePartition(String text) {
    return CommonOptions.parsePartition(text);
  }

  /** A group's positions, or {@link Tandem.NotFoundException} when it has none. */
  static Map<Partition, Long> existing(OffsetStore<?> s, String group, String uri) {
    Map<Partition, Long> positions = s.positions(group);
    if (positions.isEmpty()) {
      Set<String> groups = new TreeSet<>(s.groups());
      groups.removeIf(History::reserved);
      throw new Tandem.NotFoundException(
          "unknown group '"
              + group
              + "' in "
              + StoreUris.mask(uri)
              + ": no stored position"
              + (groups.isEmpty() ? " (the store has no groups)" : " (groups: " + groups + ")"));
    }
    return positions;
  }

  static void refuseReserved(String group) {
    if (History.reserved(group)) {
      throw new Tandem.UsageException(
          "group '"
              + group
              + "' is reserved for Tandem's own records (admin history, topic IDs); it cannot be changed");
    }
  }

  /** Prints a plan (before → after) and, with {@code --execute}, applies and records it. */
  static void applyPlan(
      CommandLine.Model.CommandSpec spec,
      Output output,
      Change change,
      StoreOptions store,
      OffsetStore<?> s,
      String action,
      String group,
      String bootstrap,
      Map<Partition, Long> before,
      Map<Partition, Long> plan) {
    PrintWriter out = spec.commandLine().getOut();
    if (change.execute) {
      CommonOptions.ensureIdle(group, bootstrap, change.force, spec.commandLine().getErr());
      s.overwrite(group, plan);
      History.record(s, action, group, before, plan, change.reason);
    }
    if (output.json()) {
      List<Object> rows = new ArrayList<>();
      plan.forEach(
          (p, to) -> {
            Map<String, Object> r = partitionJson(p);
            r.put("before", before.get(p));
            r.put("after", to);
            rows.add(r);
          });
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("group", group);
      m.put("action", action);
      m.put("executed", change.execute);
      m.put("changes", rows);
      out.println(Json.write(m));
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    plan.forEach(
        (p, to) ->
            rows.add(
                List.of(
                    p.topic(),
                    Integer.toString(p.partition()),
                    str(before.get(p)),
                    Long.toString(to),
                    before.get(p) == null ? "new" : Long.toString(to - before.get(p)))));
    CommonOptions.table(out, List.of("TOPIC", "PARTITION", "BEFORE", "AFTER", "CHANGE"), rows);
    if (change.execute) {
      out.println(
          action
              + ": "
              + plan.size()
              + " position(s) of group '"
              + group
              + "' written to "
              + StoreUris.mask(store.uri));
    } else {
      out.println("dry run: nothing changed; add --execute to apply");
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the groups.")
  static final class ListGroups implements Runnable {
    @Mixin StoreOptions store;
    @Mixin Output output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      Map<String, Integer> counts = new TreeMap<>();
      try (OffsetStore<?> s = store.open()) {
        for (String g : s.groups()) {
          if (!History.reserved(g)) {
            counts.put(g, s.positions(g).size());
          }
        }
      }
      if (output.json()) {
        List<Object> rows = new ArrayList<>();
        counts.forEach((g, n) -> rows.add(Map.of("group", g, "partitions", n)));
        out.println(Json.write(rows));
        return;
      }
      if (counts.isEmpty()) {
        out.println("(no groups in " + StoreUris.mask(store.uri) + ")");
        return;
      }
      List<List<String>> rows = new ArrayList<>();
      counts.forEach((g, n) -> rows.add(List.of(g, Integer.toString(n))));
      CommonOptions.table(out, List.of("GROUP", "PARTITIONS"), rows);
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "Show every stored position of a group; with --bootstrap-server also each partition's"
            + " log start and end, the lag, and whether retention has passed the position."
      })
  static final class Show implements Runnable {
    @Mixin StoreOptions store;
    @Mixin Output output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--group", required = true, description = "Consumer group.")
    String group;

    @Option(
        names = "--bootstrap-server",
        paramLabel = "HOST:PORT",
        description = "Kafka brokers: adds log start/end, lag and the retention flag.")
    String bootstrap;

    @Override
    public void run() {
      Map<Partition, Long> positions;
      try (OffsetStore<?> s = store.open()) {
        positions = existing(s, group, store.uri);
      }
      LagReport.print(spec.commandLine().getOut(), output, group, positions, bootstrap, false);
    }
  }

  /** Which partitions a reset touches. */
  static final class Selection {
    @Option(
        names = "--partition",
        paramLabel = "TOPIC-N",
        description = "A partition, e.g. orders-3 (repeatable). Default: every stored one.")
    List<String> partitions = new ArrayList<>();

    @Option(
        names = "--topic",
        description =
            "Only this topic's partitions: the stored ones, and with --bootstrap-server every"
                + " partition Kafka has (to adopt a topic).")
    String topic;

    boolean matches(Partition p) {
      if (!partitions.isEmpty()) {
        return partitions.stream().map(OffsetsCommand::parsePartition).anyMatch(p::equals);
      }
      return topic == null || p.topic().equals(topic);
    }
  }

  @Command(
      name = "reset",
      mixinStandardHelpOptions = true,
      description = {
        "Overwrite positions of a group. A dry run printing before and after unless --execute;"
            + " refused while Kafka shows live members of the group unless --force."
      })
  static final class Reset implements Runnable {
    @Mixin StoreOptions store;
    @Mixin Output output;
    @Mixin Change change;
    @Mixin Selection selection;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--group", required = true, description = "Consumer group.")
    String group;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
      @Option(names = "--to-offset", paramLabel = "N", description = "Set each position to N.")
      Long offset;

      @Option(
          names = "--shift-by",
          paramLabel = "N",
          description = "Move each position by N (negative: back), never below 0.")
      Long shift;

      @Option(names = "--to-earliest", description = "Each partition's log start offset.")
      boolean earliest;

      @Option(names = "--to-latest", description = "Each partition's log end offset.")
      boolean latest;

      @Option(
          names = "--to-datetime",
          paramLabel = "ISO",
          description =
              "The first offset at or after this time, e.g. 2026-12-03T10:00:00Z"
                  + " (no zone: UTC); the log end where nothing is that recent.")
      String datetime;

      @Option(
          names = "--from-file",
          paramLabel = "FILE",
          description = "CSV lines topic,partition,position (as kafka-consumer-groups reads).")
      Path file;
    }

    @Option(
        names = "--bootstrap-server",
        paramLabel = "HOST:PORT",
        description =
            "Kafka brokers: for --to-earliest/--to-latest/--to-datetime, and to check for live"
                + " members before --execute.")
    String bootstrap;

    @Override
    public void run() {
      refuseReserved(group);
      boolean needsKafka = target.earliest || target.latest || target.datetime != null;
      if (needsKafka && bootstrap == null) {
        throw new Tandem.UsageException(
            "--to-earliest, --to-latest and --to-datetime need --bootstrap-server HOST:PORT");
      }
      Long timestamp = target.datetime == null ? null : parseTime(target.datetime);
      Map<Partition, Long> fromFile = target.file == null ? null : readCsv(target.file);
      try (OffsetStore<?> s = store.open()) {
        Map<Partition, Long> stored = s.positions(group);
        Set<Partition> chosen = new TreeSet<>();
        if (fromFile != null) {
          fromFile.keySet().stream().filter(selection::matches).forEach(chosen::add);
        } else if (!selection.partitions.isEmpty()) {
          selection.partitions.stream().map(OffsetsCommand::parsePartition).forEach(chosen::add);
        } else {
          stored.keySet().stream().filter(selection::matches).forEach(chosen::add);
        }
        try (KafkaOffsets kafka = bootstrap == null ? null : new KafkaOffsets(bootstrap)) {
          if (fromFile == null && selection.topic != null && kafka != null) {
            chosen.addAll(kafka.partitionsOf(selection.topic));
          }
          if (chosen.isEmpty()) {
            if (stored.isEmpty()) {
              existing(s, group, store.uri); // throws: unknown group
            }
            throw new Tandem.UsageException(
                "nothing to reset in group '"
                    + group
                    + "'"
                    + (selection.topic == null
                        ? ""
                        : ": no partition of topic '" + selection.topic + "'")
                    + "; name partitions with --partition TOPIC-N");
          }
          Map<Partition, Long> fromKafka =
              target.earliest
                  ? kafka.starts(chosen)
                  : target.latest
                      ? kafka.ends(chosen)
                      : timestamp != null ? kafka.atTime(chosen, timestamp) : Map.of();
          Map<Partition, Long> plan = new TreeMap<>();
          for (Partition p : chosen) {
            long to;
            if (target.offset != null) {
              to = target.offset;
            } else if (target.shift != null) {
              Long current = stored.get(p);
              if (current == null) {
                throw new Tandem.UsageException(
                    "--shift-by needs a stored position; "
                        + p
                        + " has none in group '"
                        + group
                        + "'");
              }
              to = Math.max(0, current + target.shift);
            } else if (fromFile != null) {
              to = fromFile.get(p);
            } else {
              Long k = fromKafka.get(p);
              if (k == null) {
                throw new Tandem.UsageException("Kafka at " + bootstrap + " does not know " + p);
              }
              to = k;
            }
            if (to < 0) {
              throw new Tandem.UsageException("a position must be >= 0, got " + to + " for " + p);
            }
            plan.put(p, to);
          }
          applyPlan(spec, output, change, store, s, "reset", group, bootstrap, stored, plan);
        }
      }
    }

    static long parseTime(String text) {
      try {
        return OffsetDateTime.parse(text).toInstant().toEpochMilli();
      } catch (DateTimeParseException e) {
        try {
          return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeParseException e2) {
          throw new Tandem.UsageException(
              "--to-datetime must be ISO-8601 such as 2026-12-03T10:00:00Z or"
                  + " 2026-12-03T10:00:00 (UTC), got '"
                  + text
                  + "'");
        }
      }
    }

    static Map<Partition, Long> readCsv(Path file) {
      List<String> lines;
      try {
        lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new Tandem.UsageException("cannot read --from-file " + file + ": " + e.getMessage());
      }
      Map<Partition, Long> out = new TreeMap<>();
      int n = 0;
      for (String line : lines) {
        n++;
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("#")) {
          continue;
        }
        String[] f = t.split(",");
        Partition p;
        long pos;
        try {
          if (f.length != 3) {
            throw new IllegalArgumentException("three fields");
          }
          p = Partition.of(f[0].strip(), Integer.parseInt(f[1].strip()));
          pos = Long.parseLong(f[2].strip());
        } catch (IllegalArgumentException e) {
          throw new Tandem.UsageException(
              file + " line " + n + ": expected topic,partition,position, got '" + t + "'");
        }
        if (out.put(p, pos) != null) {
          throw new Tandem.UsageException(file + " line " + n + ": " + p + " appears twice");
        }
      }
      if (out.isEmpty()) {
        throw new Tandem.UsageException(file + " holds no topic,partition,position line");
      }
      return out;
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = {
        "Delete the stored positions of a group (all, or some partitions). Asks to confirm"
            + " unless --yes; refused while Kafka shows live members unless --force."
      })
  static final class Delete implements Runnable {
    @Mixin StoreOptions store;
    @Mixin Output output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--group", required = true, description = "Consumer group.")
    String group;

    @Option(
        names = "--partition",
        paramLabel = "TOPIC-N",
        description = "Delete only these partitions (repeatable). Default: the whole group.")
    List<String> partitions = new ArrayList<>();

    @Option(names = "--yes", description = "Do not ask for confirmation.")
    boolean yes;

    @Option(names = "--force", description = "Do not check Kafka for live members.")
    boolean force;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the history.")
    String reason;

    @Option(
        names = "--bootstrap-server",
        paramLabel = "HOST:PORT",
        description = "Kafka brokers, to check for live members first.")
    String bootstrap;

    @Override
    public void run() {
      refuseReserved(group);
      PrintWriter out = spec.commandLine().getOut();
      try (OffsetStore<?> s = store.open()) {
        Map<Partition, Long> stored = existing(s, group, store.uri);
        Map<Partition, Long> doomed = new TreeMap<>();
        if (partitions.isEmpty()) {
          doomed.putAll(stored);
        } else {
          for (String text : partitions) {
            Partition p = parsePartition(text);
            if (stored.containsKey(p)) {
              doomed.put(p, stored.get(p));
            }
          }
        }
        if (doomed.isEmpty()) {
          throw new Tandem.NotFoundException(
              "group '" + group + "' has no stored position for " + partitions);
        }
        if (!yes) {
          java.io.Console console = System.console();
          if (console == null) {
            throw new Tandem.RefusedException(
                "deleting "
                    + doomed.size()
                    + " position(s) of group '"
                    + group
                    + "' needs confirmation: add --yes");
          }
          String answer =
              console.readLine(
                  "Delete %d position(s) of group '%s'? Type the group name to confirm: ",
                  doomed.size(), group);
          if (answer == null || !answer.strip().equals(group)) {
            throw new Tandem.RefusedException("not confirmed: nothing deleted");
          }
        }
        CommonOptions.ensureIdle(group, bootstrap, force, spec.commandLine().getErr());
        if (partitions.isEmpty()) {
          s.delete(group);
        } else {
          s.delete(group, doomed.keySet());
        }
        History.record(s, "delete", group, doomed, Map.of(), reason);
        if (output.json()) {
          List<Object> rows = new ArrayList<>();
          doomed.forEach(
              (p, pos) -> {
                Map<String, Object> r = partitionJson(p);
                r.put("before", pos);
                rows.add(r);
              });
          out.println(Json.write(Map.of("group", group, "deleted", rows)));
        } else {
          out.println("deleted " + doomed.size() + " position(s) of group '" + group + "'");
        }
      }
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description = {
        "Write groups' positions as versioned JSON (see the README), to a file or standard"
            + " output; or --to-kafka: into Kafka's committed offsets of the group, to leave"
            + " Tandem for a plain consumer."
      })
  static final class Export implements Runnable {
    @Mixin StoreOptions store;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--group", description = "Group to export (repeatable). Default: every group.")
    List<String> groups = new ArrayList<>();

    @Option(names = "--file", paramLabel = "FILE", description = "Write here, not to stdout.")
    Path file;

    @Option(
        names = "--to-kafka",
        description = "Write the positions as Kafka's committed offsets of the same group.")
    boolean toKafka;

    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "Kafka brokers.")
    String bootstrap;

    @Override
    public void run() {
      if (toKafka && bootstrap == null) {
        throw new Tandem.UsageException("--to-kafka needs --bootstrap-server HOST:PORT");
      }
      Map<String, Map<Partition, Long>> data = new TreeMap<>();
      try (OffsetStore<?> s = store.open()) {
        if (groups.isEmpty()) {
          for (String g : s.groups()) {
            if (!History.reserved(g)) {
              data.put(g, s.positions(g));
            }
          }
        } else {
          for (String g : new LinkedHashSet<>(groups)) {
            data.put(g, existing(s, g, store.uri));
          }
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      if (toKafka) {
        try (KafkaOffsets kafka = new KafkaOffsets(bootstrap)) {
          data.forEach(kafka::commit);
        }
        data.forEach(
            (g, ps) ->
                out.println(
                    "wrote "
                        + ps.size()
                        + " offset(s) of group '"
                        + g
                        + "' to Kafka's committed offsets at "
                        + bootstrap));
        return;
      }
      String json = Json.write(document(store.uri, data)) + "\n";
      if (file == null) {
        out.print(json);
        out.flush();
      } else {
        try {
          Files.writeString(file, json, StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new Tandem.UsageException("cannot write " + file + ": " + e.getMessage());
        }
        spec.commandLine().getErr().println("exported " + data.size() + " group(s) to " + file);
      }
    }

    static Map<String, Object> document(String uri, Map<String, Map<Partition, Long>> data) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("format", FORMAT);
      doc.put("version", VERSION);
      doc.put("exportedAt", Instant.now().toString());
      doc.put("source", StoreUris.mask(uri));
      List<Object> gs = new ArrayList<>();
      data.forEach(
          (g, ps) -> {
            List<Object> rows = new ArrayList<>();
            new TreeMap<>(ps)
                .forEach(
                    (p, pos) -> {
                      Map<String, Object> r = partitionJson(p);
                      r.put("position", pos);
                      rows.add(r);
                    });
            Map<String, Object> gm = new LinkedHashMap<>();
            gm.put("group", g);
            gm.put("positions", rows);
            gs.add(gm);
          });
      doc.put("groups", gs);
      return doc;
    }
  }

  @Command(
      name = "import",
      mixinStandardHelpOptions = true,
      description = {
        "Write positions from an export file (--file), or from Kafka's committed offsets of the"
            + " group (--from-kafka, to adopt Tandem on a running pipeline). Dry run unless"
            + " --execute; positions not in the source are left as they are."
      })
  static final class Import implements Runnable {
    @Mixin StoreOptions store;
    @Mixin Output output;
    @Mixin Change change;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
      @Option(names = "--file", paramLabel = "FILE", description = "An export file.")
      Path file;

      @Option(
          names = "--from-kafka",
          description = "Kafka's committed offsets of --group (needs --bootstrap-server).")
      boolean fromKafka;
    }

    @Option(
        names = "--group",
        description = "The group to import (required with --from-kafka or a file of several).")
    String group;

    @Option(
        names = "--as",
        paramLabel = "GROUP",
        description = "Store the positions under this group name instead.")
    String as;

    @Option(
        names = "--bootstrap-server",
        paramLabel = "HOST:PORT",
        description = "Kafka brokers: for --from-kafka and the live-member check.")
    String bootstrap;

    @Override
    public void run() {
      Map<String, Map<Partition, Long>> data;
      if (source.fromKafka) {
        if (group == null || bootstrap == null) {
          throw new Tandem.UsageException("--from-kafka needs --group and --bootstrap-server");
        }
        try (KafkaOffsets kafka = new KafkaOffsets(bootstrap)) {
          Map<Partition, Long> committed = kafka.committed(group);
          if (committed.isEmpty()) {
            throw new Tandem.NotFoundException(
                "Kafka at " + bootstrap + " has no committed offset for group '" + group + "'");
          }
          data = Map.of(group, committed);
        }
      } else {
        data = readExport(source.file);
        if (group != null) {
          if (!data.containsKey(group)) {
            throw new Tandem.NotFoundException(
                source.file + " has no group '" + group + "' (groups: " + data.keySet() + ")");
          }
          data = Map.of(group, data.get(group));
        }
      }
      if (as != null && data.size() != 1) {
        throw new Tandem.UsageException("--as renames one group: choose it with --group");
      }
      try (OffsetStore<?> s = store.open()) {
        for (Map.Entry<String, Map<Partition, Long>> e : data.entrySet()) {
          String target = as != null ? as : e.getKey();
          refuseReserved(target);
          Map<Partition, Long> before = s.positions(target);
          applyPlan(
              spec,
              output,
              change,
              store,
              s,
              "import",
              target,
              bootstrap,
              before,
              new TreeMap<>(e.getValue()));
        }
      }
    }

    /** Reads an export file, checking its format and version. */
    static Map<String, Map<Partition, Long>> readExport(Path file) {
      String text;
      try {
        text = Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new Tandem.UsageException("cannot read " + file + ": " + e.getMessage());
      }
      try {
        if (!(Json.parse(text) instanceof Map<?, ?> doc)) {
          throw new IllegalArgumentException("not a JSON object");
        }
        if (!FORMAT.equals(doc.get("format"))) {
          throw new IllegalArgumentException(
              "\"format\" must be \"" + FORMAT + "\", got " + doc.get("format"));
        }
        if (!(doc.get("version") instanceof Long v) || v != VERSION) {
          throw new IllegalArgumentException(
              "version " + doc.get("version") + " is not one this tandem reads (" + VERSION + ")");
        }
        Map<String, Map<Partition, Long>> out = new TreeMap<>();
        for (Object g : (List<?>) doc.get("groups")) {
          Map<?, ?> gm = (Map<?, ?>) g;
          String name = (String) gm.get("group");
          Map<Partition, Long> ps = new TreeMap<>();
          for (Object r : (List<?>) gm.get("positions")) {
            Map<?, ?> rm = (Map<?, ?>) r;
            Partition p =
                Partition.of((String) rm.get("topic"), ((Long) rm.get("partition")).intValue());
            long pos = (Long) rm.get("position");
            if (pos < 0) {
              throw new IllegalArgumentException(p + " has a negative position " + pos);
            }
            ps.put(p, pos);
          }
          if (name == null || name.isEmpty() || out.put(name, ps) != null) {
            throw new IllegalArgumentException("group names must be present and distinct");
          }
        }
        return out;
      } catch (RuntimeException e) {
        throw new Tandem.UsageException(
            file + " is not a " + FORMAT + " version " + VERSION + " file: " + e.getMessage());
      }
    }
  }

  @Command(
      name = "history",
      mixinStandardHelpOptions = true,
      description = "The changes admin commands made (who, when, before, after, reason).")
  static final class HistoryCommand implements Runnable {
    @Mixin StoreOptions store;
    @Mixin Output output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--group", description = "Only this group's changes.")
    String group;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      List<History.Entry> entries;
      try (OffsetStore<?> s = store.open()) {
        entries = History.read(s, group);
      }
      if (output.json()) {
        out.println(Json.write(entries.stream().map(History.Entry::toJson).toList()));
        return;
      }
      if (entries.isEmpty()) {
        out.println(
            "(no admin changes recorded"
                + (group == null ? "" : " for group '" + group + "'")
                + ")");
        return;
      }
      List<List<String>> rows = new ArrayList<>();
      for (History.Entry e : entries) {
        rows.add(
            List.of(
                e.when().toString(),
                e.who(),
                e.action(),
                e.group(),
                e.partition().toString(),
                str(e.before()),
                str(e.after()),
                e.reason() == null ? "" : e.reason()));
      }
      CommonOptions.table(
          out,
          List.of("WHEN", "WHO", "ACTION", "GROUP", "PARTITION", "BEFORE", "AFTER", "REASON"),
          rows);
    }
  }
}
