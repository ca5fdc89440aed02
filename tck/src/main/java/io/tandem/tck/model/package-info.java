/**
 * Model-based checking of an {@link io.tandem.spi.OffsetStore}: seeded random operation sequences
 * from one or several concurrent actors, checked against a model of the contract and shrunk to a
 * small counterexample on failure. Entry point: {@link io.tandem.tck.model.ModelCheck}.
 *
 * @since 0.1
 */
package io.tandem.tck.model;
