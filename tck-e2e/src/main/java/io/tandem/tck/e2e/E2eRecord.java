package io.tandem.tck.e2e;

import java.util.Objects;

/**
 * One input record of the end-to-end run: a unique id, the key it is produced under (which decides
 * its partition) and an amount to fold into that key's total.
 *
 * @param id unique over the run, e.g. {@code r000042}
 * @param key the record's Kafka key, e.g. {@code k07}
 * @param amount a positive amount
 * @since 0.1
 */
public record E2eRecord(String id, String key, long amount) {

  /**
   * Checks the fields.
   *
   * @param id unique over the run
   * @param key the record's Kafka key
   * @param amount the amount to fold
   * @throws NullPointerException if {@code id} or {@code key} is null
   * @throws IllegalArgumentException if {@code id} or {@code key} is empty
   */
  public E2eRecord {
    Objects.requireNonNull(id, "id must not be null");
    Objects.requireNonNull(key, "key must not be null");
    if (id.isEmpty() || key.isEmpty()) {
      throw new IllegalArgumentException(
          "id and key must not be empty, got id='" + id + "', key='" + key + "'");
    }
  }

  /**
   * The record's Kafka value: {@code id;amount}.
   *
   * @return the encoded value
   */
  public String value() {
    return id + ";" + amount;
  }

  /**
   * Decodes a record from its Kafka key and value.
   *
   * @param key the Kafka key
   * @param value the Kafka value, {@code id;amount}
   * @return the record
   * @throws IllegalArgumentException if the value is not {@code id;amount}
   */
  public static E2eRecord decode(String key, String value) {
    int semi = value == null ? -1 : value.indexOf(';');
    if (semi <= 0) {
      throw new IllegalArgumentException("value must be id;amount, got '" + value + "'");
    }
    try {
      return new E2eRecord(
          value.substring(0, semi), key, Long.parseLong(value.substring(semi + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("value must be id;amount, got '" + value + "'", e);
    }
  }
}
