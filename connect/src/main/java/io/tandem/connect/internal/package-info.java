/**
 * Internal: may change in any release. Helpers of the Kafka Connect sink tasks.
 *
 * @since 0.1
 */
package io.tandem.connect.internal;
