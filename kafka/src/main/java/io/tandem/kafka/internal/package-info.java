/**
 * Internal: may change in any release. Helpers of the consumer runtime.
 *
 * @since 0.1
 */
package io.tandem.kafka.internal;
