/**
 * Tandem's compatibility kit: a JUnit 5 base class, {@link io.tandem.tck.OffsetStoreVerification},
 * that proves an {@link io.tandem.spi.OffsetStore} keeps the contract. A backend extends it once,
 * supplying a store factory and a {@link io.tandem.tck.ResultProbe}; the rules it checks are listed
 * in {@code RULES.md} (also inside the jar under {@code META-INF/tandem-tck/RULES.md}).
 *
 * @since 0.1
 */
package io.tandem.tck;
