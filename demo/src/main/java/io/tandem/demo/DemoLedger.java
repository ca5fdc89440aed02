package io.tandem.demo;

import io.tandem.jdbc.JdbcUpsert;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The demo's results in SQL, for any JDBC store: {@code tandem_demo_payments} gets one appended row
 * per applied payment (no unique key on purpose: a payment applied twice shows as two rows), and
 * {@code tandem_demo_balances} one row per (run, account) whose balance is folded by {@link
 * JdbcUpsert}. Both are written on the commit's connection, inside the store's transaction.
 */
final class DemoLedger {

  static final String PAYMENTS = "tandem_demo_payments";
  static final String BALANCES = "tandem_demo_balances";

  private final String run;
  private final JdbcUpsert balances =
      JdbcUpsert.into(BALANCES)
          .key("run", "account")
          .columns("balance", "payments")
          .fold("balance", "payments");

  DemoLedger(String run) {
    this.run = run;
  }

  /** A payment: its id, the account it moves money on, the amount in cents (signed). */
  record Payment(long id, String account, long cents) {
    String value() {
      return id + ";" + cents;
    }

    static Payment decode(String account, String value) {
      int semi = value.indexOf(';');
      return new Payment(
          Long.parseLong(value.substring(0, semi)),
          account,
          Long.parseLong(value.substring(semi + 1)));
    }
  }

  /** Opens a plain connection for setup and verification, outside any commit. */
  static Connection connect(String storeUri, Map<String, String> props) throws SQLException {
    Properties p = new Properties();
    props.forEach(
        (k, v) -> {
          if (k.equals("user") || k.equals("password")) {
            p.setProperty(k, v);
          } else if (k.startsWith("driver.")) {
            p.setProperty(k.substring("driver.".length()), v);
          }
        });
    return DriverManager.getConnection(driverUrl(storeUri), p);
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

  static void createTables(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + PAYMENTS
              + " (run VARCHAR(16) NOT NULL, payment_id BIGINT NOT NULL,"
              + " account VARCHAR(32) NOT NULL, amount BIGINT NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + BALANCES
              + " (run VARCHAR(16) NOT NULL, account VARCHAR(32) NOT NULL,"
              + " balance BIGINT NOT NULL, payments BIGINT NOT NULL, PRIMARY KEY (run, account))");
    }
  }

  /** Applies a batch of payments through the commit's connection. */
  void apply(Connection tx, List<Payment> batch) throws Exception {
    try (PreparedStatement insert =
        tx.prepareStatement(
            "INSERT INTO "
                + PAYMENTS
                + " (run, payment_id, account, amount) VALUES (?, ?, ?, ?)")) {
      for (Payment p : batch) {
        insert.setString(1, run);
        insert.setLong(2, p.id());
        insert.setString(3, p.account());
        insert.setLong(4, p.cents());
        insert.addBatch();
      }
      insert.executeBatch();
    }
    // One folded row per account, in account order (never two lock orders).
    Map<String, long[]> perAccount = new TreeMap<>();
    for (Payment p : batch) {
      long[] sum = perAccount.computeIfAbsent(p.account(), a -> new long[2]);
      sum[0] += p.cents();
      sum[1]++;
    }
    balances
        .rows(
            perAccount.entrySet(),
            (Map.Entry<String, long[]> e) ->
                new Object[] {run, e.getKey(), e.getValue()[0], e.getValue()[1]})
        .write(tx);
  }

  /**
   * What the verification reads back.
   *
   * @param rows results of payments of the run
   * @param distinct payment ids of the run with a result
   * @param duplicates results beyond the first of a payment
   * @param balances folded balance per account (empty when not folded)
   * @param folded whether the store folds balances (an IDEMPOTENT store keeps keyed results only)
   * @param unexpected results under ids that were never produced
   */
  record Observed(
      long rows,
      long distinct,
      long duplicates,
      Map<String, Long> balances,
      boolean folded,
      long unexpected) {

    Observed(long rows, long distinct, long duplicates, Map<String, Long> balances) {
      this(rows, distinct, duplicates, balances, true, 0);
    }
  }

  /** Expected against observed: the demo's exit status hangs on {@link #ok()}. */
  record Verdict(
      long duplicates,
      long lost,
      int matching,
      int accounts,
      List<String> wrong,
      long expectedTotal,
      long actualTotal,
      boolean folded,
      long unexpected) {

    /** Every payment once, nothing foreign, and (where the store folds) every balance right. */
    boolean ok() {
      return duplicates == 0
          && lost == 0
          && unexpected == 0
          && (!folded || (matching == accounts && wrong.isEmpty()));
    }

    static Verdict of(Map<String, Long> expected, long records, Observed seen) {
      int matching = 0;
      List<String> wrong = new java.util.ArrayList<>();
      if (!seen.folded()) {
        return new Verdict(
            seen.duplicates(),
            records - seen.distinct(),
            0,
            expected.size(),
            wrong,
            expected.values().stream().mapToLong(Long::longValue).sum(),
            0,
            false,
            seen.unexpected());
      }
      for (Map.Entry<String, Long> e : expected.entrySet()) {
        Long actual = seen.balances().get(e.getKey());
        if (e.getValue().equals(actual)) {
          matching++;
        } else {
          wrong.add(e.getKey() + " expected " + e.getValue() + " got " + actual);
        }
      }
      for (String account : seen.balances().keySet()) {
        if (!expected.containsKey(account)) {
          wrong.add(account + " expected none got " + seen.balances().get(account));
        }
      }
      return new Verdict(
          seen.duplicates(),
          records - seen.distinct(),
          matching,
          expected.size(),
          wrong,
          expected.values().stream().mapToLong(Long::longValue).sum(),
          seen.balances().values().stream().mapToLong(Long::longValue).sum(),
          seen.folded(),
          seen.unexpected());
    }
  }

  Observed read(Connection c) throws SQLException {
    long rows;
    long distinct;
    long duplicates;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT COUNT(*), COUNT(DISTINCT payment_id) FROM " + PAYMENTS + " WHERE run = ?")) {
      ps.setString(1, run);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        rows = rs.getLong(1);
        distinct = rs.getLong(2);
      }
    }
    duplicates = rows - distinct;
    Map<String, Long> out = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement("SELECT account, balance FROM " + BALANCES + " WHERE run = ?")) {
      ps.setString(1, run);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    return new Observed(rows, distinct, duplicates, out);
  }

  /** Ids in [0, count) with no row: the lost payments (a sample). */
  List<Long> lostSample(Connection c, long count, int limit) throws SQLException {
    java.util.BitSet seen = new java.util.BitSet();
    try (PreparedStatement ps =
        c.prepareStatement("SELECT payment_id FROM " + PAYMENTS + " WHERE run = ?")) {
      ps.setString(1, run);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long id = rs.getLong(1);
          if (id >= 0 && id < count) {
            seen.set((int) id);
          }
        }
      }
    }
    List<Long> lost = new java.util.ArrayList<>();
    for (int i = seen.nextClearBit(0);
        i < count && lost.size() < limit;
        i = seen.nextClearBit(i + 1)) {
      lost.add((long) i);
    }
    return lost;
  }
}
