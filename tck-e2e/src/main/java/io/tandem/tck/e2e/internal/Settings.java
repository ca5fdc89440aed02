package io.tandem.tck.e2e.internal;

import java.time.Duration;

/**
 * The end-to-end kit's knobs, from system properties, so CI stays bounded and a user can scale a
 * run up: {@code -Dtandem.e2e.records=200000 -Dtandem.e2e.kills=50}.
 *
 * <p>Internal: may change in any release.
 *
 * @param records input records of the hard-kill run
 * @param kills hard kills (SIGKILL) in the run, about half of them mid-commit
 * @param partitions partitions of the run's topic
 * @param keys distinct keys (fold targets)
 * @param workers consumer JVMs at the start
 * @param maxWorkers most consumer JVMs at once
 * @param workMs time each batch's writer spends inside the commit
 * @param timeout how long the run may take to drain after the last kill
 * @param zombieRecords input records of each zombie run ([E3], [E4]) on one partition, at least 400
 *     (the zombie commits two batches of 100 and holds the third; the new owner needs more after)
 * @param seed the random seed (logged, to replay a run)
 */
public record Settings(
    int records,
    int kills,
    int partitions,
    int keys,
    int workers,
    int maxWorkers,
    long workMs,
    Duration timeout,
    long seed,
    int zombieRecords) {

  /** The smallest zombie run: two committed batches, one held, and more for the new owner. */
  public static final int MIN_ZOMBIE_RECORDS = 400;

  /**
   * Checks the zombie run's size.
   *
   * @param records input records of the hard-kill run
   * @param kills hard kills in the run
   * @param partitions partitions of the run's topic
   * @param keys distinct keys
   * @param workers consumer JVMs at the start
   * @param maxWorkers most consumer JVMs at once
   * @param workMs time each batch's writer spends inside the commit
   * @param timeout how long the run may take to drain
   * @param seed the random seed
   * @param zombieRecords input records of each zombie run
   * @throws IllegalArgumentException if {@code zombieRecords} is below {@link #MIN_ZOMBIE_RECORDS}
   */
  public Settings {
    if (zombieRecords < MIN_ZOMBIE_RECORDS) {
      throw new IllegalArgumentException(
          "tandem.e2e.zombie.records must be >= " + MIN_ZOMBIE_RECORDS + ", got " + zombieRecords);
    }
  }

  /**
   * Reads the settings.
   *
   * @return the settings from {@code tandem.e2e.*} system properties and defaults
   */
  public static Settings fromSystemProperties() {
    return new Settings(
        Integer.getInteger("tandem.e2e.records", 20_000),
        Integer.getInteger("tandem.e2e.kills", 10),
        Integer.getInteger("tandem.e2e.partitions", 6),
        Integer.getInteger("tandem.e2e.keys", 40),
        Integer.getInteger("tandem.e2e.workers", 2),
        Integer.getInteger("tandem.e2e.maxWorkers", 4),
        Long.getLong("tandem.e2e.workMs", 5),
        Duration.ofSeconds(Long.getLong("tandem.e2e.timeoutSeconds", 300)),
        Long.getLong("tandem.e2e.seed", System.nanoTime()),
        Integer.getInteger(ZOMBIE_RECORDS_PROPERTY, 2_000));
  }

  /** The property that sizes the zombie runs. */
  public static final String ZOMBIE_RECORDS_PROPERTY = "tandem.e2e.zombie.records";

  /**
   * Whether the zombie runs' size was given on the command line (a backend's own smaller default
   * then yields to it).
   *
   * @return true if {@value #ZOMBIE_RECORDS_PROPERTY} is set
   */
  public static boolean zombieRecordsGiven() {
    return System.getProperty(ZOMBIE_RECORDS_PROPERTY) != null;
  }
}
