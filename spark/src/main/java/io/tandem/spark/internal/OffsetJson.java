package io.tandem.spark.internal;

import io.tandem.spi.Partition;
import java.util.Map;
import java.util.TreeMap;

/**
 * Internal: may change in any release.
 *
 * <p>The JSON of the Kafka source's offsets, as Spark writes it to a query's offset log and takes
 * in the {@code startingOffsets} option: {@code {"topic":{"0":23,"1":5}}}, positions per topic and
 * partition. Its format is part of Spark's checkpoint compatibility, so it stays stable across
 * versions. Kafka topic names are ASCII letters, digits, '.', '_' and '-': no escapes occur.
 */
public final class OffsetJson {

  private final String text;
  private int at;

  private OffsetJson(String text) {
    this.text = text;
  }

  /**
   * Writes positions.
   *
   * @param positions positions per partition
   * @return the JSON
   */
  public static String write(Map<Partition, Long> positions) {
    Map<String, Map<Integer, Long>> byTopic = new TreeMap<>();
    positions.forEach(
        (p, at) -> byTopic.computeIfAbsent(p.topic(), t -> new TreeMap<>()).put(p.partition(), at));
    StringBuilder out = new StringBuilder("{");
    byTopic.forEach(
        (topic, parts) -> {
          if (out.length() > 1) {
            out.append(',');
          }
          out.append('"').append(topic).append("\":{");
          int n = 0;
          for (Map.Entry<Integer, Long> e : parts.entrySet()) {
            out.append(n++ > 0 ? "," : "")
                .append('"')
                .append(e.getKey())
                .append("\":")
                .append(e.getValue());
          }
          out.append('}');
        });
    return out.append('}').toString();
  }

  /**
   * Reads positions.
   *
   * @param json the JSON
   * @return positions per partition
   * @throws IllegalArgumentException if the text is not such JSON
   */
  public static Map<Partition, Long> read(String json) {
    return new OffsetJson(json).parse();
  }

  private Map<Partition, Long> parse() {
    Map<Partition, Long> out = new TreeMap<>();
    expect('{');
    if (!peek('}')) {
      do {
        String topic = string();
        expect(':');
        expect('{');
        if (!peek('}')) {
          do {
            String partition = string();
            expect(':');
            long position = number();
            try {
              out.put(new Partition(topic, Integer.parseInt(partition)), position);
            } catch (NumberFormatException e) {
              throw bad("partition '" + partition + "' is not a number");
            }
          } while (comma());
        }
        expect('}');
      } while (comma());
    }
    expect('}');
    skipSpace();
    if (at != text.length()) {
      throw bad("text after the end");
    }
    return out;
  }

  private boolean comma() {
    skipSpace();
    if (at < text.length() && text.charAt(at) == ',') {
      at++;
      return true;
    }
    return false;
  }

  private boolean peek(char c) {
    skipSpace();
    return at < text.length() && text.charAt(at) == c;
  }

  private void expect(char c) {
    skipSpace();
    if (at >= text.length() || text.charAt(at) != c) {
      throw bad("expected '" + c + "'");
    }
    at++;
  }

  private String string() {
    expect('"');
    int end = text.indexOf('"', at);
    if (end < 0 || text.substring(at, end).indexOf('\\') >= 0) {
      throw bad("unterminated or escaped string");
    }
    String s = text.substring(at, end);
    at = end + 1;
    return s;
  }

  private long number() {
    skipSpace();
    int start = at;
    if (at < text.length() && text.charAt(at) == '-') {
      at++;
    }
    while (at < text.length() && Character.isDigit(text.charAt(at))) {
      at++;
    }
    try {
      return Long.parseLong(text.substring(start, at));
    } catch (NumberFormatException e) {
      throw bad("expected a number");
    }
  }

  private void skipSpace() {
    while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
      at++;
    }
  }

  private IllegalArgumentException bad(String why) {
    return new IllegalArgumentException(
        "not Kafka source offsets JSON at character " + at + " (" + why + "): " + text);
  }
}
