/**
 * Building blocks for store implementations, so that every store reads its options, reports
 * conflicts and judges an unknown outcome the same way: {@link io.tandem.spi.support.StoreOption}
 * and {@link io.tandem.spi.support.StoreOptions} declare and read options from a URI query and a
 * property map, {@link io.tandem.spi.support.Durations} is the one duration grammar, {@link
 * io.tandem.spi.support.Conflicts} lists a commit's mismatched positions, and {@link
 * io.tandem.spi.support.ReadBack} tells from positions read back whether a commit applied.
 *
 * <p>Users of stores never need this package; backend authors may. JDK only.
 *
 * @since 0.1
 */
package io.tandem.spi.support;
