package io.tandem.cli;

import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The record of every change an admin command made, kept in the store itself through the SPI alone
 * so it works on every backend: a reserved group {@value #GROUP} whose "partitions" are the
 * entries. Each entry is one changed partition; its topic string carries the fields, URL-encoded
 * and joined by {@code |} after a version tag ({@code v1|when|who|action|group|topic|partition|
 * before|after|reason}), its partition number is 0 and its position the entry's time in epoch
 * milliseconds. The SPI keeps topics "exactly as given, whatever characters they contain"; the one
 * limit is the store's topic column (MySQL/MariaDB: 255 characters), so the reason is cut to fit
 * and an entry that cannot fit at all is logged instead of written.
 */
final class History {
  /** The reserved group; {@code offsets list} hides it and admin commands refuse to change it. */
  static final String GROUP = "__tandem.admin-history";

  private static final Logger log = LoggerFactory.getLogger(History.class);
  private static final int MAX_TOPIC = 255;

  /** One change to one partition. {@code before}/{@code after} are null when absent. */
  record Entry(
      Instant when,
      String who,
      String action,
      String group,
      Partition partition,
      Long before,
      Long after,
      String reason) {

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("when", when.toString());
      m.put("who", who);
      m.put("action", action);
      m.put("group", group);
      m.put("topic", partition.topic());
      m.put("partition", partition.partition());
      m.put("before", before);
      m.put("after", after);
      m.put("reason", reason);
      return m;
    }
  }

  private History() {}

  static boolean reserved(String group) {
    return group.startsWith("__tandem.");
  }

  /** user@host of this process, for the record. */
  static String actor() {
    String user = System.getProperty("user.name", "unknown");
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      host = "unknown-host";
    }
    return user + "@" + host;
  }

  /**
   * Records the changes of one admin action: for every partition in {@code before} or {@code
   * after}, one entry (a partition absent from {@code after} was deleted).
   */
  static void record(
      OffsetStore<?> store,
      String action,
      String group,
      Map<Partition, Long> before,
      Map<Partition, Long> after,
      String reason) {
    Instant now = Instant.now();
    String who = actor();
    java.util.Set<Partition> touched = new java.util.TreeSet<>(after.keySet());
    if ("delete".equals(action)) {
      touched.addAll(before.keySet());
    }
    Map<Partition, Long> entries = new LinkedHashMap<>();
    long millis = now.toEpochMilli();
    for (Partition p : touched) {
      Entry e = new Entry(now, who, action, group, p, before.get(p), after.get(p), reason);
      String encoded = encode(e);
      if (encoded == null) {
        log.warn("History entry too long for the store's topic field, not recorded: {}", e);
        continue;
      }
      entries.put(Partition.of(encoded, 0), millis);
    }
    if (!entries.isEmpty()) {
      store.initialize(GROUP, entries);
    }
  }

  /** Every entry, oldest first, optionally only of one group. */
  static List<Entry> read(OffsetStore<?> store, String group) {
    List<Entry> out = new ArrayList<>();
    for (Partition p : store.positions(GROUP).keySet()) {
      Entry e = decode(p.topic());
      if (e != null && (group == null || group.equals(e.group()))) {
        out.add(e);
      }
    }
    out.sort(
        Comparator.comparing(Entry::when)
            .thenComparing(e -> e.partition().topic())
            .thenComparing(e -> e.partition().partition()));
    return out;
  }

  static String encode(Entry e) {
    String reason = e.reason() == null ? "" : e.reason();
    while (true) {
      String s =
          String.join(
              "|",
              "v1",
              e.when().toString(),
              enc(e.who()),
              enc(e.action()),
              enc(e.group()),
              enc(e.partition().topic()),
              Integer.toString(e.partition().partition()),
              e.before() == null ? "" : e.before().toString(),
              e.after() == null ? "" : e.after().toString(),
              enc(reason));
      if (s.length() <= MAX_TOPIC) {
        return s;
      }
      if (reason.isEmpty()) {
        return null;
      }
      reason = reason.substring(0, Math.max(0, reason.length() - (s.length() - MAX_TOPIC) - 1));
      if (!reason.isEmpty()) {
        reason = reason + "…";
      }
    }
  }

  static Entry decode(String s) {
    String[] f = s.split("\\|", -1);
    if (f.length != 10 || !"v1".equals(f[0])) {
      return null;
    }
    try {
      return new Entry(
          Instant.parse(f[1]),
          dec(f[2]),
          dec(f[3]),
          dec(f[4]),
          Partition.of(dec(f[5]), Integer.parseInt(f[6])),
          f[7].isEmpty() ? null : Long.valueOf(f[7]),
          f[8].isEmpty() ? null : Long.valueOf(f[8]),
          f[9].isEmpty() ? null : dec(f[9]));
    } catch (RuntimeException ex) {
      return null;
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String dec(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
