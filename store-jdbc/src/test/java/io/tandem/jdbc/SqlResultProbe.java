package io.tandem.jdbc;

import io.tandem.spi.ResultWriter;
import io.tandem.tck.ResultProbe;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The TCK's probe for the JDBC store: one table {@code (ns, k, v)}, written with the store's own
 * {@link JdbcUpsert} adapter through the commit's connection, read back on a fresh connection.
 */
final class SqlResultProbe implements ResultProbe<Connection> {

  interface Connector {
    Connection connect() throws SQLException;
  }

  private final Connector connector;
  private final String table;
  private final JdbcUpsert upsert;

  SqlResultProbe(Connector connector, String table) {
    this.connector = connector;
    this.table = table;
    this.upsert = JdbcUpsert.into(table).key("ns", "k").columns("v");
    try (Connection c = connector.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + table
              + " (ns VARCHAR(40) NOT NULL, k VARCHAR(64) NOT NULL, v VARCHAR(400),"
              + " PRIMARY KEY (ns, k))");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create the probe table " + table, e);
    }
  }

  @Override
  public ResultWriter<Connection> put(String namespace, Map<String, String> entries) {
    List<Object[]> rows = new ArrayList<>();
    entries.forEach((k, v) -> rows.add(new Object[] {namespace, k, v}));
    return upsert.rows(rows, r -> r);
  }

  @Override
  public Map<String, String> read(String namespace) throws SQLException {
    Map<String, String> found = new TreeMap<>();
    try (Connection c = connector.connect();
        PreparedStatement ps = c.prepareStatement("SELECT k, v FROM " + table + " WHERE ns = ?")) {
      ps.setString(1, namespace);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          found.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return found;
  }
}
