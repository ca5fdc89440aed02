package io.tandem.spi;

/**
 * What a store promises about results and offsets of one commit.
 *
 * @since 0.1
 */
public enum Guarantee {
  /**
   * Results and offsets commit in one transaction: all or nothing. Works for any transformation,
   * folds and destructive updates included.
   */
  TRANSACTIONAL,

  /**
   * Results are written first, then offsets advance conditionally. On a conflict or crash the
   * results may stand but no offset moves, so a replay writes them again: results must be keyed so
   * that a rewrite overwrites itself. Not suitable for folds (sums, counters, appends).
   */
  IDEMPOTENT
}
