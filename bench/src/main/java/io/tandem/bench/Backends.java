package io.tandem.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The backends of this JVM, each started once on first use and closed by {@link #closeAll()}. */
final class Backends {

  static final List<String> ALL = List.of("postgres", "redis", "zookeeper", "cassandra", "mongo");

  private static final Map<String, Backend<?>> OPEN = new LinkedHashMap<>();

  private Backends() {}

  static synchronized Backend<?> get(String name) {
    Backend<?> b = OPEN.get(name);
    if (b == null) {
      b = create(name);
      OPEN.put(name, b);
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
        case "cassandra" -> new CassandraBackend();
        case "mongo" -> new MongoBackend();
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

  static synchronized void closeAll() {
    for (Backend<?> b : OPEN.values()) {
      try {
        b.close();
      } catch (RuntimeException e) {
        // closing at exit; the next backend still closes
      }
    }
    OPEN.clear();
  }
}
