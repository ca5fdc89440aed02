package io.tandem.cassandra;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.ResultWriter;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole TCK against the shared Cassandra, default (group) layout; {@link
 * CassandraPartitionLayoutTckIT} runs it on the partition layout.
 */
class CassandraTckIT extends OffsetStoreVerification<CassandraResults> {

  /** The layout under test. */
  CassandraLayout layout() {
    return CassandraLayout.GROUP;
  }

  private static final String RESULTS = Cassandra.KEYSPACE + ".results";

  /** Results as keyed upserts through the handle, the way users write them. */
  private static final CassandraUpsert<Map.Entry<String, String[]>> UPSERT =
      CassandraUpsert.of(
          "INSERT INTO " + RESULTS + " (namespace, key, value) VALUES (?, ?, ?)",
          e -> new Object[] {e.getKey(), e.getValue()[0], e.getValue()[1]});

  /** Starts the server and creates the schema outside the kit's per-test timeout. */
  @BeforeAll
  static void startServer() {
    Cassandra.store(CassandraLayout.PARTITION).close();
    Cassandra.store(CassandraLayout.GROUP).close();
  }

  @Override
  protected OffsetStore<CassandraResults> newStore() {
    return Cassandra.store(layout());
  }

  @Override
  protected OffsetStore<CassandraResults> newStoreWithRefusedCredentials() {
    org.junit.jupiter.api.Assumptions.abort(
        "the shared Cassandra node runs AllowAllAuthenticator; PasswordAuthenticator needs its own"
            + " node started with another cassandra.yaml (a second forked server for one rule), so"
            + " refusals are covered by DriverErrorsTest on the driver's exception types");
    throw new AssertionError("unreachable");
  }

  @Override
  protected ResultProbe<CassandraResults> probe() {
    return new ResultProbe<>() {
      @Override
      public ResultWriter<CassandraResults> put(String namespace, Map<String, String> entries) {
        List<Map.Entry<String, String[]>> rows = new ArrayList<>();
        entries.forEach((k, v) -> rows.add(Map.entry(namespace, new String[] {k, v})));
        return UPSERT.rows(rows);
      }

      @Override
      public Map<String, String> read(String namespace) {
        Map<String, String> out = new TreeMap<>();
        {
          for (Row row :
              Cassandra.sharedSession()
                  .execute(
                      SimpleStatement.newInstance(
                          "SELECT key, value FROM " + RESULTS + " WHERE namespace = ?",
                          namespace))) {
            out.put(row.getString(0), row.getString(1));
          }
        }
        return out;
      }
    };
  }
}
