package io.tandem.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Memory of this JVM: heap in use after the last garbage collection (the live set, without forcing
 * a GC), and the process's resident set from {@code /proc/self/status}.
 */
final class Memory implements AutoCloseable {

  private final Thread sampler;
  private volatile boolean stop;
  private volatile long peakHeapAfterGc;
  private volatile long peakRssKb;

  /** Starts sampling every 100 ms until {@link #close()}. */
  Memory() {
    sampler =
        new Thread(
            () -> {
              while (!stop) {
                sample();
                try {
                  Thread.sleep(100);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "bench-memory-sampler");
    sampler.setDaemon(true);
    sampler.start();
  }

  /**
   * Forces a full GC, then samples: the live heap at a progress milestone. Returns the sample and
   * how long the GC took, which the caller subtracts from its timing.
   */
  Snapshot sampleAfterFullGc() {
    ManagementFactory.getMemoryMXBean().gc();
    long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    Snapshot s = new Snapshot(used, statusKb("VmRSS"));
    if (used > peakHeapAfterGc) {
      peakHeapAfterGc = used;
    }
    if (s.rssKb() > peakRssKb) {
      peakRssKb = s.rssKb();
    }
    return s;
  }

  /** Takes one sample now. */
  Snapshot sample() {
    Snapshot s = new Snapshot(heapAfterGc(), statusKb("VmRSS"));
    if (s.heapAfterGc() > peakHeapAfterGc) {
      peakHeapAfterGc = s.heapAfterGc();
    }
    if (s.rssKb() > peakRssKb) {
      peakRssKb = s.rssKb();
    }
    return s;
  }

  long peakHeapAfterGc() {
    return peakHeapAfterGc;
  }

  long peakRssKb() {
    return peakRssKb;
  }

  @Override
  public void close() {
    stop = true;
    sampler.interrupt();
  }

  /** One sample: heap bytes after the last GC and RSS in KiB. */
  record Snapshot(long heapAfterGc, long rssKb) {}

  /** Sum over heap pools of the usage after their last collection (0 before any GC). */
  static long heapAfterGc() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        MemoryUsage u = pool.getCollectionUsage();
        if (u != null) {
          sum += u.getUsed();
        }
      }
    }
    return sum;
  }

  /** A field of /proc/self/status in KiB ({@code VmRSS}, {@code VmHWM}); -1 if unreadable. */
  static long statusKb(String field) {
    try {
      return parseStatus(Files.readString(Path.of("/proc/self/status")), field);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  static long parseStatus(String status, String field) {
    for (String line : status.split("\n")) {
      if (line.startsWith(field + ":")) {
        String v = line.substring(field.length() + 1).trim();
        return Long.parseLong(v.split("\\s+")[0]);
      }
    }
    return -1;
  }
}
