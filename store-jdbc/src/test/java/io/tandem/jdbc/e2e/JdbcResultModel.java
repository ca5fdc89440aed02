package io.tandem.jdbc.e2e;

import io.tandem.tck.e2e.E2eRecord;
import io.tandem.tck.e2e.ResultModel;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The end-to-end kit's results in SQL: {@code <ns>_results} gets one appended row per applied
 * record (no unique key, so a record applied twice shows as two rows), {@code <ns>_totals} one row
 * per key whose total is folded with a dialect's upsert. Both are written on the commit's {@link
 * Connection}, inside the store's transaction.
 */
public final class JdbcResultModel implements ResultModel<Connection> {

  private enum Dialect {
    POSTGRES,
    H2,
    MARIADB
  }

  private Connection connection;
  private Dialect dialect;
  private String results;
  private String totals;

  /** For the kit, which instantiates it by name. */
  public JdbcResultModel() {}

  @Override
  public void open(String storeUri, Map<String, String> properties, String namespace)
      throws SQLException {
    if (!namespace.matches("[a-z][a-z0-9_]{0,39}")) {
      throw new IllegalArgumentException("namespace must match [a-z][a-z0-9_]{0,39}: " + namespace);
    }
    String url = driverUrl(storeUri);
    String lower = url.toLowerCase(Locale.ROOT);
    dialect =
        lower.startsWith("jdbc:postgresql:")
            ? Dialect.POSTGRES
            : lower.startsWith("jdbc:h2:") ? Dialect.H2 : Dialect.MARIADB;
    results = namespace + "_results";
    totals = namespace + "_totals";
    Properties p = new Properties();
    properties.forEach(
        (k, v) -> {
          if (k.equals("user") || k.equals("password")) {
            p.setProperty(k, v);
          } else if (k.startsWith("driver.")) {
            p.setProperty(k.substring("driver.".length()), v);
          }
        });
    connection = DriverManager.getConnection(url, p);
    try (Statement s = connection.createStatement()) {
      // Names are checked against the pattern above; they cannot carry SQL.
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + results
              + " (id VARCHAR(16) NOT NULL, k VARCHAR(16) NOT NULL, amount BIGINT NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + totals
              + " (k VARCHAR(16) NOT NULL PRIMARY KEY, total BIGINT NOT NULL)");
    }
  }

  /** The store URI minus the store's own {@code tandem.*} query options. */
  static String driverUrl(String storeUri) {
    int q = storeUri.indexOf('?');
    if (q < 0) {
      return storeUri;
    }
    StringBuilder kept = new StringBuilder();
    for (String pair : storeUri.substring(q + 1).split("&")) {
      if (!pair.isEmpty() && !pair.startsWith("tandem.")) {
        kept.append(kept.length() == 0 ? "" : "&").append(pair);
      }
    }
    return storeUri.substring(0, q) + (kept.length() == 0 ? "" : "?" + kept);
  }

  @Override
  public void write(Connection tx, List<E2eRecord> batch) throws SQLException {
    try (PreparedStatement insert =
        tx.prepareStatement("INSERT INTO " + results + " (id, k, amount) VALUES (?, ?, ?)")) {
      for (E2eRecord r : batch) {
        insert.setString(1, r.id());
        insert.setString(2, r.key());
        insert.setLong(3, r.amount());
        insert.addBatch();
      }
      insert.executeBatch();
    }
    // One upsert per key, in key order: two transactions never lock keys in opposite orders.
    Map<String, Long> sums = new TreeMap<>();
    batch.forEach(r -> sums.merge(r.key(), r.amount(), Long::sum));
    try (PreparedStatement upsert = tx.prepareStatement(upsertSql())) {
      for (Map.Entry<String, Long> e : sums.entrySet()) {
        upsert.setString(1, e.getKey());
        upsert.setLong(2, e.getValue());
        upsert.addBatch();
      }
      upsert.executeBatch();
    }
  }

  private String upsertSql() {
    return switch (dialect) {
      case POSTGRES ->
          "INSERT INTO "
              + totals
              + " AS t (k, total) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET total = t.total +"
              + " EXCLUDED.total";
      case H2 ->
          "MERGE INTO "
              + totals
              + " t USING (VALUES (CAST(? AS VARCHAR(16)), CAST(? AS BIGINT))) s(k, v) ON t.k = s.k"
              + " WHEN MATCHED THEN UPDATE SET total = t.total + s.v"
              + " WHEN NOT MATCHED THEN INSERT (k, total) VALUES (s.k, s.v)";
      case MARIADB ->
          "INSERT INTO "
              + totals
              + " (k, total) VALUES (?, ?) ON DUPLICATE KEY UPDATE total = total + VALUES(total)";
    };
  }

  @Override
  public Observed read() throws SQLException {
    Map<String, Integer> occurrences = new HashMap<>();
    Map<String, Long> folded = new HashMap<>();
    try (Statement s = connection.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT id, COUNT(*) FROM " + results + " GROUP BY id")) {
        while (rs.next()) {
          occurrences.put(rs.getString(1), rs.getInt(2));
        }
      }
      try (ResultSet rs = s.executeQuery("SELECT k, total FROM " + totals)) {
        while (rs.next()) {
          folded.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    return new Observed(occurrences, folded);
  }

  @Override
  public void close() throws SQLException {
    if (connection != null) {
      connection.close();
      connection = null;
    }
  }
}
