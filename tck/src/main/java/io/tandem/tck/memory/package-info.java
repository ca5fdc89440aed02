/**
 * The reference store: {@link io.tandem.tck.memory.MemoryOffsetStore}, a small, correct, in-memory
 * {@link io.tandem.spi.OffsetStore} that passes the whole kit. Tests that need a store but do not
 * test one (a runtime's unit tests, a kit's self-tests) use it, and a backend author can read it as
 * the contract in a few hundred lines.
 *
 * @since 0.1
 */
package io.tandem.tck.memory;
