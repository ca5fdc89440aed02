package io.tandem.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The line format a scale worker JVM ({@link ScaleWorker}) writes to its own file and the scale run
 * ({@link Scale}) reads back after it. One event per line, fields separated by one space, times in
 * epoch milliseconds (all JVMs run on one machine, one clock):
 *
 * <ul>
 *   <li>{@code C <time> <group> <latencyMicros> <records> <p,p,...>}: a commit of group number
 *       {@code group} moved these partitions;
 *   <li>{@code O <time> <group> <p,p,...>|-}: the member's whole assignment in that group after a
 *       change ({@code -}: none);
 *   <li>{@code H <time> <bytes>}: heap in use right after a full GC;
 *   <li>{@code S <time> <conflicts> <retries>}: the JVM's consumers' counters, summed.
 * </ul>
 *
 * Pure: formatting and parsing only. A last line cut off by a SIGKILL is skipped.
 */
final class ScaleLog {

  private ScaleLog() {}

  /** A commit: when, which group, how long, how many records, which partitions. */
  record Commit(long time, int group, long latencyMicros, int records, int[] partitions) {}

  /** A member's assignment in one group after a change. */
  record Owns(long time, int group, Set<Integer> partitions) {}

  /** Heap in use after a full GC. */
  record Heap(long time, long bytes) {}

  /** Runtime counters of a JVM's consumers, summed. */
  record Stats(long time, long conflicts, long retries) {}

  /** Everything one JVM wrote. */
  record Parsed(List<Commit> commits, List<Owns> owns, List<Heap> heap, List<Stats> stats) {}

  static String commit(
      long time, int group, long latencyMicros, int records, Collection<Integer> ps) {
    return "C " + time + " " + group + " " + latencyMicros + " " + records + " " + join(ps);
  }

  static String owns(long time, int group, Collection<Integer> ps) {
    return "O " + time + " " + group + " " + (ps.isEmpty() ? "-" : join(ps));
  }

  static String heap(long time, long bytes) {
    return "H " + time + " " + bytes;
  }

  static String stats(long time, long conflicts, long retries) {
    return "S " + time + " " + conflicts + " " + retries;
  }

  private static String join(Collection<Integer> ps) {
    StringBuilder b = new StringBuilder();
    for (Integer p : ps) {
      if (b.length() > 0) {
        b.append(',');
      }
      b.append(p);
    }
    return b.toString();
  }

  private static int[] partitions(String s) {
    if (s.equals("-")) {
      return new int[0];
    }
    return Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  /**
   * Parses a worker's file. Lines that are not complete events (the last one, cut off by a kill)
   * are skipped.
   *
   * @param lines the file's lines
   * @return its events, in file order
   */
  static Parsed parse(List<String> lines) {
    List<Commit> commits = new ArrayList<>();
    List<Owns> owns = new ArrayList<>();
    List<Heap> heap = new ArrayList<>();
    List<Stats> stats = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.trim().split(" ");
      try {
        switch (f[0]) {
          case "C" -> {
            if (f.length == 6) {
              commits.add(
                  new Commit(
                      Long.parseLong(f[1]),
                      Integer.parseInt(f[2]),
                      Long.parseLong(f[3]),
                      Integer.parseInt(f[4]),
                      partitions(f[5])));
            }
          }
          case "O" -> {
            if (f.length == 4) {
              Set<Integer> set = new TreeSet<>();
              for (int p : partitions(f[3])) {
                set.add(p);
              }
              owns.add(new Owns(Long.parseLong(f[1]), Integer.parseInt(f[2]), set));
            }
          }
          case "H" -> {
            if (f.length == 3) {
              heap.add(new Heap(Long.parseLong(f[1]), Long.parseLong(f[2])));
            }
          }
          case "S" -> {
            if (f.length == 4) {
              stats.add(
                  new Stats(Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])));
            }
          }
          default -> {
            // not an event (an empty or cut-off line)
          }
        }
      } catch (NumberFormatException e) {
        // a line cut off by SIGKILL in the middle of a number
      }
    }
    return new Parsed(commits, owns, heap, stats);
  }
}
