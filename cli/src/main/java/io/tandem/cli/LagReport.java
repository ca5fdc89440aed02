package io.tandem.cli;

import static io.tandem.cli.CommonOptions.str;

import io.tandem.cli.CommonOptions.Output;
import io.tandem.spi.Partition;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per partition: the stored position, Kafka's log start and end, the lag (log end minus position)
 * and whether retention has passed the position (log start beyond it: those records are gone, the
 * consumer fails on them or skips them by its out-of-range policy); optionally Kafka's committed
 * offset of the group (the runtime's mirror, what external lag tools read).
 */
final class LagReport {
  private LagReport() {}

  static void print(
      PrintWriter out,
      Output output,
      String group,
      Map<Partition, Long> positions,
      String bootstrap,
      boolean withMirror) {
    Map<Partition, Long> starts = Map.of();
    Map<Partition, Long> ends = Map.of();
    Map<Partition, Long> mirror = Map.of();
    if (bootstrap != null) {
      try (KafkaOffsets kafka = new KafkaOffsets(bootstrap)) {
        starts = kafka.starts(positions.keySet());
        ends = kafka.ends(positions.keySet());
        if (withMirror) {
          mirror = kafka.committed(group);
        }
      }
    }
    long total = 0;
    List<Object> json = new ArrayList<>();
    List<List<String>> rows = new ArrayList<>();
    for (Map.Entry<Partition, Long> e : new TreeMap<>(positions).entrySet()) {
      Partition p = e.getKey();
      long pos = e.getValue();
      Long start = starts.get(p);
      Long end = ends.get(p);
      Long lag = end == null ? null : Math.max(0, end - pos);
      Boolean passed = start == null ? null : start > pos;
      Boolean beyond = end == null ? null : pos > end;
      if (lag != null) {
        total += lag;
      }
      Map<String, Object> r = CommonOptions.partitionJson(p);
      r.put("position", pos);
      if (bootstrap != null) {
        r.put("logStart", start);
        r.put("logEnd", end);
        r.put("lag", lag);
        r.put("retentionPassed", passed);
        r.put("beyondLogEnd", beyond);
        if (withMirror) {
          r.put("kafkaCommitted", mirror.get(p));
        }
      }
      json.add(r);
      List<String> row = new ArrayList<>(List.of(p.topic(), Integer.toString(p.partition())));
      row.add(Long.toString(pos));
      if (bootstrap != null) {
        row.addAll(List.of(str(start), str(end), str(lag)));
        if (withMirror) {
          row.add(str(mirror.get(p)));
        }
        row.add(
            Boolean.TRUE.equals(passed)
                ? "RETENTION-PASSED"
                : Boolean.TRUE.equals(beyond) ? "BEYOND-LOG-END" : "");
      }
      rows.add(row);
    }
    if (output.json()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("group", group);
      if (bootstrap != null) {
        m.put("totalLag", total);
      }
      m.put("partitions", json);
      out.println(Json.write(m));
      return;
    }
    List<String> header = new ArrayList<>(List.of("TOPIC", "PARTITION", "POSITION"));
    if (bootstrap != null) {
      header.addAll(List.of("LOG-START", "LOG-END", "LAG"));
      if (withMirror) {
        header.add("KAFKA-COMMITTED");
      }
      header.add("FLAGS");
    }
    CommonOptions.table(out, header, rows);
    if (bootstrap != null) {
      out.println("total lag of group '" + group + "': " + total);
    }
  }
}
