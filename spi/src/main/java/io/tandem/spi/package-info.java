/**
 * The Tandem contract: a Kafka-style consumer commits each batch's results and its offsets
 * together, in the user's own store.
 *
 * <p>{@link io.tandem.spi.OffsetStore} is the normative statement of the contract. Stores are found
 * with {@link io.tandem.spi.OffsetStores#open(String, java.util.Map)} through {@link
 * java.util.ServiceLoader} and {@link io.tandem.spi.OffsetStoreProvider}. This package depends on
 * the JDK only: it never sees Kafka, so any log with partitions and positions can use it.
 *
 * @since 0.1
 */
package io.tandem.spi;
