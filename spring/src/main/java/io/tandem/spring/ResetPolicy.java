package io.tandem.spring;

/**
 * Where a partition with no stored position starts, the first time a group sees it.
 *
 * @since 0.1
 */
public enum ResetPolicy {
  /** At the log start: everything still retained is processed. */
  EARLIEST,
  /** At the log end: only records produced from now on are processed. */
  LATEST,
  /** Refuse: the listener fails until an administrator stores a position. */
  NONE
}
