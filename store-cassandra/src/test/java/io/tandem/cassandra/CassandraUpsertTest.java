package io.tandem.cassandra;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CassandraUpsertTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "INSERT INTO ks.t (k, v) VALUES (?, ?)",
        "  insert into ks.t (k, v) values (?, ?) USING TTL 60",
        "UPDATE ks.t SET v = ?, w = ? WHERE k = ?",
        "UPDATE ks.t SET m[?] = ? WHERE k = ?"
      })
  void acceptsKeyedOverwrites(String cql) {
    assertThatCode(() -> CassandraUpsert.of(cql, r -> new Object[0])).doesNotThrowAnyException();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "UPDATE ks.t SET n = n + ? WHERE k = ?",
        "UPDATE ks.t SET n = n - 1 WHERE k = ?",
        "UPDATE ks.t SET l = ? + l WHERE k = ?",
        "UPDATE ks.t SET l = l + [1] WHERE k = ?"
      })
  void refusesAppendsAndIncrements(String cql) {
    assertThatThrownBy(() -> CassandraUpsert.of(cql, r -> new Object[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("appends to or increments")
        .hasMessageContaining(cql);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "INSERT INTO ks.t (k, v) VALUES (?, now())",
        "INSERT INTO ks.t (k, v) VALUES (uuid(), ?)",
        "UPDATE ks.t SET at = currentTimestamp() WHERE k = ?"
      })
  void refusesNonDeterministicFunctions(String cql) {
    assertThatThrownBy(() -> CassandraUpsert.of(cql, r -> new Object[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("non-deterministic");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "INSERT INTO ks.t (k, v) VALUES (?, ?) IF NOT EXISTS",
        "UPDATE ks.t SET v = ? WHERE k = ? IF v = ?"
      })
  void refusesConditions(String cql) {
    assertThatThrownBy(() -> CassandraUpsert.of(cql, r -> new Object[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("condition");
  }

  @ParameterizedTest
  @ValueSource(strings = {"DELETE FROM ks.t WHERE k = ?", "SELECT * FROM ks.t", "BEGIN BATCH"})
  void refusesOtherStatements(String cql) {
    assertThatThrownBy(() -> CassandraUpsert.of(cql, r -> new Object[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an INSERT or UPDATE");
  }
}
