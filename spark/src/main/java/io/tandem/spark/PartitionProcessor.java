package io.tandem.spark;

import io.tandem.spi.ResultWriter;
import java.io.Serializable;
import java.util.Iterator;

/**
 * Turns the records of one RDD partition (one Kafka partition's range of a batch) into the results
 * to commit with that range. Runs on an executor.
 *
 * <p>{@link #process} reads the records and computes; the {@link ResultWriter} it returns writes
 * the results through the store's handle inside the commit. Keep them apart: the store may call the
 * writer more than once (a Redis {@code EXEC} retried after an unrelated key changed), and the
 * records can be read only once.
 *
 * @param <R> the element type: {@code ConsumerRecord<K, V>}, or what a one-to-one transformation of
 *     the stream's RDD made of it
 * @param <T> the store's handle type
 * @since 0.1.0
 */
@FunctionalInterface
public interface PartitionProcessor<R, T> extends Serializable {

  /**
   * Computes one partition's results.
   *
   * @param records the partition's records of this batch that are not committed yet
   * @return the writer of the results, called inside the store's commit
   * @throws Exception to fail the task: nothing of this partition is committed, and Spark retries
   *     the task
   */
  ResultWriter<T> process(Iterator<R> records) throws Exception;
}
