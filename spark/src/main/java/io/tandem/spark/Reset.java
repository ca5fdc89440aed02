package io.tandem.spark;

/**
 * Where a partition the store has no position for starts: the first time a group reads it. Existing
 * positions always win.
 *
 * @since 0.1.0
 */
public enum Reset {
  /** At the log start: every record still retained. */
  EARLIEST,
  /** At the log end: only records written from now on. */
  LATEST,
  /** Nowhere: a partition without a stored position fails the start, naming it. */
  NONE
}
