package io.tandem.cli;

import io.tandem.cassandra.CassandraOffsetStore;
import io.tandem.cassandra.CassandraReplication;
import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.StoreUris;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tandem store init|check}: prepare a store's schema; check it is reachable and durable. */
@Command(
    name = "store",
    mixinStandardHelpOptions = true,
    description = "Prepare a store (init) or check it (check).",
    subcommands = {StoreCommand.Init.class, StoreCommand.Check.class})
final class StoreCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static Map<String, Object> describe(String uri, Capabilities c, int groups) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("store", StoreUris.mask(uri));
    m.put("guarantee", c.guarantee().name());
    m.put("atomicAcrossPartitions", c.atomicAcrossPartitions());
    m.put("maxRangesPerCommit", c.maxRangesPerCommit());
    m.put("durable", c.durable());
    m.put("description", c.description());
    m.put("groups", groups);
    return m;
  }

  static void print(PrintWriter out, Map<String, Object> m) {
    m.forEach((k, v) -> out.printf("%-24s %s%n", k + ":", v));
  }

  static int userGroups(OffsetStore<?> s) {
    return (int) s.groups().stream().filter(g -> !History.reserved(g)).count();
  }

  @Command(
      name = "init",
      mixinStandardHelpOptions = true,
      description = {
        "Create what the store needs where it is missing (OffsetStore.prepare(): tables,"
            + " indexes, collections, root nodes). Idempotent; changes no stored position."
      })
  static final class Init implements Runnable {
    @Mixin StoreOptions store;
    @Mixin CommonOptions.Output output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--replication",
        paramLabel = "SPEC",
        description =
            "Cassandra keyspace replication: SimpleStrategy:<n> or"
                + " NetworkTopologyStrategy:<dc>=<n>,...: also creates the keyspace, which"
                + " otherwise must exist (its replication is the operator's choice).")
    String replication;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      String did;
      try (OffsetStore<?> s = store.open()) {
        if (replication != null) {
          if (!(s instanceof CassandraOffsetStore c)) {
            throw new Tandem.UsageException("--replication is for cassandra:// stores only");
          }
          c.createSchema(CassandraReplication.parse(replication));
        }
        // OffsetStore.prepare(): tables, indexes, collections, root nodes, where missing.
        s.prepare();
        did = "prepared (" + s.getClass().getSimpleName() + ".prepare())";
        Map<String, Object> m = describe(store.uri, s.capabilities(), userGroups(s));
        m.put("init", did);
        if (output.json()) {
          out.println(Json.write(m));
        } else {
          print(out, m);
        }
      }
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Connect, read the groups, print the capabilities and warn when the store is not"
            + " durable as configured. Exit 1 with --require-durable on a non-durable store."
      })
  static final class Check implements Runnable {
    @Mixin StoreOptions store;
    @Mixin CommonOptions.Output output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--require-durable",
        description = "Fail (exit 1) when the store is not durable as configured.")
    boolean requireDurable;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      Capabilities c;
      Map<String, Object> m;
      try (OffsetStore<?> s = store.open()) {
        c = s.capabilities();
        m = describe(store.uri, c, userGroups(s));
      }
      m.put("reachable", true);
      if (output.json()) {
        out.println(Json.write(m));
      } else {
        print(out, m);
      }
      if (!c.durable()) {
        String warn =
            "WARNING: "
                + StoreUris.mask(store.uri)
                + " is not durable as configured: a commit that returned may be lost when its"
                + " server crashes ("
                + c.description()
                + ")";
        spec.commandLine().getErr().println(warn);
        if (requireDurable) {
          throw new Tandem.FailedException("--require-durable: the store is not durable");
        }
      }
    }
  }
}
