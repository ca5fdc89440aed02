/**
 * The consumer runtime: drives a Kafka consumer so that each batch's results and offsets commit
 * together in an {@link io.tandem.spi.OffsetStore}, never in Kafka.
 *
 * <p>Start with {@link io.tandem.kafka.TandemConsumer#builder}. Processing is either a
 * transactional {@link io.tandem.kafka.BatchProcessor} (results written through the store's handle,
 * inside the commit) or an {@link io.tandem.kafka.IdempotentSink} (keyed results written anywhere
 * before the offsets commit).
 *
 * @since 0.1
 */
package io.tandem.kafka;
