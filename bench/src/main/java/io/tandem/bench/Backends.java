package io.tandem.bench;

import io.tandem.cassandra.CassandraLayout;
import io.tandem.mongo.MongoLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The backends of this JVM, each started on first use and closed by {@link #close(String)} or
 * {@link #closeAll()}: a store's servers run only while it is measured, so an idle server (the
 * MongoDB emulator polls, Cassandra compacts) takes no CPU from another store's runs.
 */
final class Backends {

  static final List<String> ALL =
      List.of(
          "postgres",
          "redis",
          "zookeeper",
          "cassandra",
          "cassandra-partition",
          "mongo",
          "mongo-partition");

  /** Suffix of a store run in the layout with a document / Cassandra partition per partition. */
  static final String PARTITION_LAYOUT = "-partition";

  private static final Map<String, Backend<?>> OPEN = new LinkedHashMap<>();
  private static final Map<String, String> SERVERS = new LinkedHashMap<>();

  private Backends() {}

  static synchronized Backend<?> get(String name) {
    Backend<?> b = OPEN.get(name);
    if (b == null) {
      b = create(name);
      OPEN.put(name, b);
      SERVERS.put(name, b.server());
    }
    return b;
  }

  private static Backend<?> create(String name) {
    try {
      return switch (name) {
        case "postgres" ->
            new PostgresBackend(
                Boolean.parseBoolean(System.getProperty("bench.pg.rewrite", "true")));
        case "redis" -> new RedisBackend();
        case "zookeeper" -> new ZooKeeperBackend();
        case "cassandra" -> new CassandraBackend(CassandraLayout.GROUP);
        case "cassandra-partition" -> new CassandraBackend(CassandraLayout.PARTITION);
        case "mongo" -> new MongoBackend(MongoLayout.GROUP);
        case "mongo-partition" -> new MongoBackend(MongoLayout.PARTITION);
        default ->
            throw new IllegalArgumentException(
                "unknown store '" + name + "'; bench.stores takes " + String.join(",", ALL));
      };
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("cannot start " + name, e);
    }
  }

  /**
   * The server a store name runs on: {@code cassandra-partition} is Cassandra, measured with the
   * other layout. Sizes and poll limits that follow from the server go by this name.
   */
  static String serverKind(String store) {
    return store.endsWith(PARTITION_LAYOUT)
        ? store.substring(0, store.length() - PARTITION_LAYOUT.length())
        : store;
  }

  /** What the backend's server was, as it said when it last started; null if it never did. */
  static synchronized String server(String name) {
    return SERVERS.get(name);
  }

  static synchronized void close(String name) {
    Backend<?> b = OPEN.remove(name);
    if (b != null) {
      try {
        b.close();
      } catch (RuntimeException e) {
        // a server that fails to stop must not stop the benchmark
      }
    }
  }

  static synchronized void closeAll() {
    for (String name : List.copyOf(OPEN.keySet())) {
      close(name);
    }
  }
}
