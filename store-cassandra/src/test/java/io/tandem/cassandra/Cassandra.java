package io.tandem.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import io.tandem.testing.CassandraServer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** The shared test server, keyspace and helpers. */
final class Cassandra {

  /** Test keyspace: replication 1 is for tests on one node only. */
  static final String KEYSPACE = "tandem_it";

  static final CassandraReplication TEST_REPLICATION = CassandraReplication.simple(1);

  private static final AtomicInteger SEQ = new AtomicInteger();
  private static volatile boolean schema;

  private Cassandra() {}

  static CassandraServer server() {
    return CassandraServer.shared();
  }

  static CassandraStoreConfig.Builder config(CassandraServer server) {
    CassandraStoreConfig.Builder b =
        CassandraStoreConfig.builder().localDatacenter(server.localDatacenter()).keyspace(KEYSPACE);
    server.contactPoints().forEach(p -> b.contactPoint(p.getHostString(), p.getPort()));
    return b;
  }

  private static volatile CqlSession shared;

  /**
   * One session for the stores of this JVM: opening a session (connections, schema metadata) costs
   * about a second, and a store's state lives in the server, not in its session.
   */
  static CqlSession sharedSession() {
    if (shared == null) {
      synchronized (Cassandra.class) {
        if (shared == null) {
          CqlSession s = session(server());
          Runtime.getRuntime().addShutdownHook(new Thread(s::close, "tandem-it-session-close"));
          shared = s;
        }
      }
    }
    return shared;
  }

  /**
   * Waits until the shared session reaches the node again. CassandraCrashIT kills and restarts the
   * shared server in this JVM; the session's node stays down until the driver reconnects, and every
   * test class that runs after it would otherwise fail with NoNodeAvailableException.
   */
  static void awaitSharedSessionReady() {
    long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    while (true) {
      try {
        sharedSession().execute("SELECT release_version FROM system.local");
        return;
      } catch (RuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(250).toNanos());
      }
    }
  }

  /**
   * The offsets table of the partition layout in the test keyspace (the default name has the
   * default, group, layout).
   */
  static final String PARTITION_TABLE = "tandem_offsets_partition";

  /** A new store on the shared server and session, schema in place, default layout. */
  static CassandraOffsetStore store() {
    return store(CassandraLayout.GROUP);
  }

  /**
   * A new store of the given layout on the shared server and session, its table in place: the
   * default table for the (default) group layout, {@link #PARTITION_TABLE} for the partition
   * layout.
   */
  static CassandraOffsetStore store(CassandraLayout layout) {
    awaitSharedSessionReady();
    CassandraStoreConfig.Builder b =
        CassandraStoreConfig.builder().session(sharedSession()).keyspace(KEYSPACE).layout(layout);
    if (layout == CassandraLayout.PARTITION) {
      b.table(PARTITION_TABLE);
    }
    CassandraOffsetStore store = CassandraOffsetStore.open(b.build());
    ensureSchema(store);
    if (layout == CassandraLayout.PARTITION) {
      store.createTable();
    }
    return store;
  }

  /** A store with its own session (the provider's path). */
  static CassandraOffsetStore storeWithOwnSession() {
    CassandraOffsetStore store = CassandraOffsetStore.open(config(server()).build());
    ensureSchema(store);
    return store;
  }

  static void ensureSchema(CassandraOffsetStore store) {
    if (!schema) {
      synchronized (Cassandra.class) {
        if (!schema) {
          store.createSchema(TEST_REPLICATION);
          store
              .session()
              .execute(
                  "CREATE TABLE IF NOT EXISTS "
                      + KEYSPACE
                      + ".results (namespace text, key text, value text,"
                      + " PRIMARY KEY (namespace, key))");
          schema = true;
        }
      }
    }
  }

  static CqlSession session(CassandraServer server) {
    return session(server.contactPoints().get(0), server.localDatacenter());
  }

  static CqlSession session(InetSocketAddress point, String dc) {
    return CqlSession.builder()
        .addContactPoint(new InetSocketAddress(point.getHostString(), point.getPort()))
        .withLocalDatacenter(dc)
        .withConfigLoader(
            DriverConfigLoader.programmaticBuilder()
                .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(20))
                .withDuration(
                    DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, Duration.ofSeconds(20))
                // Reconnect quickly after a test restarts the server (the default backs off to
                // a minute between attempts).
                .withDuration(DefaultDriverOption.RECONNECTION_BASE_DELAY, Duration.ofMillis(200))
                .withDuration(DefaultDriverOption.RECONNECTION_MAX_DELAY, Duration.ofSeconds(2))
                .build())
        .build();
  }

  /** A name unique in this run: tests share the server. */
  static String unique(String prefix) {
    return prefix
        + "_"
        + Long.toString(System.nanoTime() % 1_000_000_000L, 36)
        + "_"
        + SEQ.incrementAndGet();
  }
}
