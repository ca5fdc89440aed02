package io.tandem.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class JdbcUpsertTest {

  private final JdbcUpsert balances =
      JdbcUpsert.into("balances").key("account").columns("amount", "owner").fold("amount");

  @Test
  void postgresUsesOnConflictWithExcluded() {
    assertThat(balances.sql(JdbcDialect.POSTGRESQL))
        .isEqualTo(
            "INSERT INTO balances AS d (account, amount, owner) VALUES (?, ?, ?)"
                + " ON CONFLICT (account) DO UPDATE SET amount = d.amount + EXCLUDED.amount,"
                + " owner = EXCLUDED.owner");
  }

  @Test
  void mariaDbUsesOnDuplicateKeyUpdate() {
    assertThat(balances.sql(JdbcDialect.MARIADB))
        .isEqualTo(
            "INSERT INTO balances (account, amount, owner) VALUES (?, ?, ?)"
                + " ON DUPLICATE KEY UPDATE amount = amount + VALUES(amount),"
                + " owner = VALUES(owner)");
  }

  @Test
  void h2UsesMerge() {
    assertThat(balances.sql(JdbcDialect.H2))
        .isEqualTo(
            "MERGE INTO balances AS d USING (VALUES (?, ?, ?)) AS s(account, amount, owner)"
                + " ON d.account = s.account WHEN MATCHED THEN UPDATE SET amount = d.amount +"
                + " s.amount, owner = s.owner WHEN NOT MATCHED THEN INSERT (account, amount,"
                + " owner) VALUES (s.account, s.amount, s.owner)");
  }

  @Test
  void keyOnlyUpsertInsertsIfAbsent() {
    JdbcUpsert seen = JdbcUpsert.into("app.seen").key("id", "kind");
    assertThat(seen.sql(JdbcDialect.POSTGRESQL)).endsWith("ON CONFLICT (id, kind) DO NOTHING");
    assertThat(seen.sql(JdbcDialect.MYSQL)).endsWith("ON DUPLICATE KEY UPDATE id = id");
    assertThat(seen.sql(JdbcDialect.H2)).doesNotContain("WHEN MATCHED");
  }

  @Test
  void identifiersAreChecked() {
    assertThatThrownBy(() -> JdbcUpsert.into("balances; drop table x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("table must match");
    assertThatThrownBy(() -> JdbcUpsert.into("t").key("a b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key column must match")
        .hasMessageContaining("'a b'");
    assertThatThrownBy(() -> JdbcUpsert.into("t").key("k").columns("v", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("given twice");
    assertThatThrownBy(() -> JdbcUpsert.into("t").key("k").columns("k"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("both a key and a value column");
    assertThatThrownBy(() -> JdbcUpsert.into("t").key("k").columns("v").fold("w"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fold column 'w' is not a value column");
    assertThatThrownBy(() -> JdbcUpsert.into("t").columns("v").rows(List.of(), r -> null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has no key");
  }
}
