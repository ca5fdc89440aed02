package io.tandem.kafka;

/**
 * A snapshot of a {@link TandemConsumer}'s counters since it started. Always available, with or
 * without Micrometer.
 *
 * @param state the consumer's state
 * @param records records whose results were committed (dead letters excluded)
 * @param batches commits that succeeded, dead-letter commits included
 * @param conflicts commits refused because another writer moved the stored position
 * @param retries store calls retried after the store was unavailable
 * @param deadLetters poison records written to the dead-letter writer
 * @param skippedPositions positions skipped because retention removed them ({@link
 *     OutOfRangePolicy#SKIP})
 * @param assignedPartitions partitions assigned now
 * @param lag records between the consumer's positions and the log end, summed over the assigned
 *     partitions; -1 while unknown
 * @since 0.1
 */
public record ConsumerStats(
    TandemConsumer.State state,
    long records,
    long batches,
    long conflicts,
    long retries,
    long deadLetters,
    long skippedPositions,
    int assignedPartitions,
    long lag) {}
