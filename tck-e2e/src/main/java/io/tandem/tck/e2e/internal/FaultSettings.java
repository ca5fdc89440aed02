package io.tandem.tck.e2e.internal;

/**
 * Sizes of the fault rules ([E5]-[E11]) from system properties: small by default, so that CI stays
 * bounded, larger by property ({@code -Dtandem.e2e.storm.cycles=100}).
 *
 * <p>Internal: may change in any release.
 *
 * @param records input records of each fault run ({@code tandem.e2e.faults.records}, 1000)
 * @param cycles faults injected per run ({@code tandem.e2e.faults.cycles}, 2)
 * @param stormCycles 1-4-1 cycles per group protocol ({@code tandem.e2e.storm.cycles}, 1)
 */
public record FaultSettings(int records, int cycles, int stormCycles) {

  /**
   * Checks the sizes.
   *
   * @param records input records, at least 100
   * @param cycles at least 1
   * @param stormCycles at least 1
   * @throws IllegalArgumentException if a size is too small
   */
  public FaultSettings {
    if (records < 100 || cycles < 1 || stormCycles < 1) {
      throw new IllegalArgumentException(
          "tandem.e2e.faults.records must be >= 100 and the cycles >= 1, got records="
              + records
              + ", cycles="
              + cycles
              + ", storm cycles="
              + stormCycles);
    }
  }

  /**
   * Reads the settings.
   *
   * @return the settings from system properties and defaults
   */
  public static FaultSettings fromSystemProperties() {
    return new FaultSettings(
        Integer.getInteger("tandem.e2e.faults.records", 1000),
        Integer.getInteger("tandem.e2e.faults.cycles", 2),
        Integer.getInteger("tandem.e2e.storm.cycles", 1));
  }
}
