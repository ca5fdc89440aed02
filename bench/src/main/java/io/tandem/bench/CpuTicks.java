package io.tandem.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The whole machine's CPU time from {@code /proc/stat}: how busy every core was over a run. On two
 * cores shared by the broker, the store and the consumers, a run that keeps them near 100 % busy
 * cannot go faster with more consumers; this is what says so.
 */
final class CpuTicks {

  private final long busy;
  private final long total;

  private CpuTicks(long busy, long total) {
    this.busy = busy;
    this.total = total;
  }

  /** Now, or null where {@code /proc/stat} cannot be read. */
  static CpuTicks now() {
    try {
      return parse(Files.readString(Path.of("/proc/stat")));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The aggregate {@code cpu} line: user nice system idle iowait irq softirq steal ... */
  static CpuTicks parse(String stat) {
    String line = stat.lines().filter(l -> l.startsWith("cpu ")).findFirst().orElseThrow();
    String[] f = line.trim().split("\\s+");
    long total = 0;
    // Fields 1..8; guest time is already counted in user.
    for (int i = 1; i <= Math.min(8, f.length - 1); i++) {
      total += Long.parseLong(f[i]);
    }
    long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
    return new CpuTicks(total - idle, total);
  }

  /** The fraction of all cores' time busy between {@code from} and {@code to}; NaN if unknown. */
  static double busyBetween(CpuTicks from, CpuTicks to) {
    if (from == null || to == null || to.total <= from.total) {
      return Double.NaN;
    }
    return (double) (to.busy - from.busy) / (to.total - from.total);
  }
}
