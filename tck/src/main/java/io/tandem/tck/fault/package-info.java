/**
 * Fault injection around any store: {@link io.tandem.tck.fault.FaultyStore}.
 *
 * @since 0.1
 */
package io.tandem.tck.fault;
