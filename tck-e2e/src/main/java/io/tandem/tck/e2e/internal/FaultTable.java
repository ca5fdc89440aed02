package io.tandem.tck.e2e.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fault runs' results, one row per backend and fault, appended to {@code
 * target/e2e/fault-table.md} (a Markdown table) and logged, so that a build's figures can be
 * collected from every module.
 *
 * <p>Internal: may change in any release.
 */
public final class FaultTable {

  private static final Logger log = LoggerFactory.getLogger(FaultTable.class);
  static final String HEADER =
      "| backend | fault | cycles | records | lost | duplicated | folds exact | notes |\n"
          + "|---|---|---|---|---|---|---|---|\n";

  private FaultTable() {}

  /**
   * Records one row.
   *
   * @param backend the test class
   * @param fault the fault's name
   * @param cycles faults injected
   * @param records input records
   * @param lost records without a result
   * @param duplicated extra results
   * @param folds {@code yes}, {@code NO} or why not checked
   * @param notes counters of the run (resolutions, seed...)
   */
  public static synchronized void row(
      String backend,
      String fault,
      int cycles,
      long records,
      long lost,
      long duplicated,
      String folds,
      String notes) {
    String line =
        String.format(
            "| %s | %s | %d | %d | %d | %d | %s | %s |%n",
            backend, fault, cycles, records, lost, duplicated, folds, notes);
    log.info("[tandem-e2e] fault table row: {}", line.strip());
    Path file = Path.of("target", "e2e", "fault-table.md");
    try {
      Files.createDirectories(file.getParent());
      if (!Files.exists(file)) {
        Files.writeString(file, HEADER, StandardCharsets.UTF_8, StandardOpenOption.CREATE);
      }
      Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      log.warn("cannot append to {}: {}", file, e.toString());
    }
  }
}
