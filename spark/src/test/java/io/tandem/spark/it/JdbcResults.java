package io.tandem.spark.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.spark.BatchProcessor;
import io.tandem.spark.PartitionProcessor;
import io.tandem.spi.ResultWriter;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The test job's results in PostgreSQL: every record it processed in {@code <name>_seen} (no key: a
 * duplicate shows as two rows), and a fold in {@code <name>_totals} (value sum and count per key,
 * added to, never overwritten: a batch applied twice shows as a wrong sum).
 */
final class JdbcResults implements Serializable {

  private static final long serialVersionUID = 1L;

  /** One processed record: partition, offset, key, value. */
  record Seen(int partition, long offset, String key, long value) implements Serializable {}

  private final String name;

  JdbcResults(String name) {
    this.name = name;
  }

  void create(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + name
              + "_seen (part INT NOT NULL, off BIGINT NOT NULL, k TEXT NOT NULL, v BIGINT NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + name
              + "_totals (k TEXT PRIMARY KEY, total BIGINT NOT NULL, n BIGINT NOT NULL)");
    }
  }

  /** Writes seen rows and folds them into the totals, on the commit's connection. */
  ResultWriter<Connection> writer(List<Seen> rows) {
    Map<String, long[]> folds = new TreeMap<>();
    for (Seen r : rows) {
      long[] f = folds.computeIfAbsent(r.key(), k -> new long[2]);
      f[0] += r.value();
      f[1]++;
    }
    return c -> {
      try (PreparedStatement seen =
              c.prepareStatement(
                  "INSERT INTO " + name + "_seen (part, off, k, v) VALUES (?,?,?,?)");
          PreparedStatement fold =
              c.prepareStatement(
                  "INSERT INTO "
                      + name
                      + "_totals (k, total, n) VALUES (?,?,?) ON CONFLICT (k) DO UPDATE SET"
                      + " total = "
                      + name
                      + "_totals.total + EXCLUDED.total, n = "
                      + name
                      + "_totals.n + EXCLUDED.n")) {
        for (Seen r : rows) {
          seen.setInt(1, r.partition());
          seen.setLong(2, r.offset());
          seen.setString(3, r.key());
          seen.setLong(4, r.value());
          seen.addBatch();
        }
        seen.executeBatch();
        for (Map.Entry<String, long[]> e : folds.entrySet()) {
          fold.setString(1, e.getKey());
          fold.setLong(2, e.getValue()[0]);
          fold.setLong(3, e.getValue()[1]);
          fold.addBatch();
        }
        fold.executeBatch();
      }
    };
  }

  static Seen seen(ConsumerRecord<String, String> r) {
    return new Seen(r.partition(), r.offset(), r.key(), Long.parseLong(r.value()));
  }

  static Seen seen(Row r) {
    return new Seen(
        r.getInt(r.fieldIndex("partition")),
        r.getLong(r.fieldIndex("offset")),
        new String((byte[]) r.get(r.fieldIndex("key")), java.nio.charset.StandardCharsets.UTF_8),
        Long.parseLong(
            new String(
                (byte[]) r.get(r.fieldIndex("value")), java.nio.charset.StandardCharsets.UTF_8)));
  }

  /** The per-partition job: each Kafka partition's records, written with its range. */
  PartitionProcessor<ConsumerRecord<String, String>, Connection> perPartition() {
    return records -> {
      List<Seen> rows = new ArrayList<>();
      records.forEachRemaining(r -> rows.add(seen(r)));
      return writer(rows);
    };
  }

  /** The Structured Streaming job: a batch's rows collected to the driver, written at once. */
  BatchProcessor<Dataset<Row>, Connection> perBatch() {
    return batch -> {
      List<Seen> rows = new ArrayList<>();
      for (Iterator<Row> it = batch.toLocalIterator(); it.hasNext(); ) {
        rows.add(seen(it.next()));
      }
      return writer(rows);
    };
  }

  /** Checks every input once and the folds exact. */
  void verify(Connection c, long records) throws SQLException {
    try (Statement s = c.createStatement()) {
      try (ResultSet rs =
          s.executeQuery("SELECT count(*), count(DISTINCT (part, off)) FROM " + name + "_seen")) {
        rs.next();
        assertThat(rs.getLong(1))
            .as("rows in %s_seen (duplicates included)", name)
            .isEqualTo(records);
        assertThat(rs.getLong(2)).as("distinct records in %s_seen", name).isEqualTo(records);
      }
      try (ResultSet rs = s.executeQuery("SELECT count(DISTINCT v) FROM " + name + "_seen")) {
        rs.next();
        assertThat(rs.getLong(1)).as("distinct values (every input once)").isEqualTo(records);
      }
      Map<String, Long> totals = new TreeMap<>();
      long n = 0;
      try (ResultSet rs = s.executeQuery("SELECT k, total, n FROM " + name + "_totals")) {
        while (rs.next()) {
          totals.put(rs.getString(1), rs.getLong(2));
          n += rs.getLong(3);
        }
      }
      assertThat(n).as("records folded").isEqualTo(records);
      assertThat(totals).as("folded totals").isEqualTo(Fixture.expectedTotals(records));
    }
  }

  long seenCount(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + name + "_seen")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
