package io.tandem.spark;

import io.tandem.spi.ResultWriter;
import java.io.Serializable;

/**
 * Turns a whole batch into the results to commit with all of its ranges at once, on the driver: an
 * aggregation collected to the driver, a count, a small table. Used by {@link
 * TandemDirectStream#commitOnDriver} (the batch is a {@code JavaRDD}) and by {@link
 * TandemForeachBatch} (a {@code Dataset<Row>}).
 *
 * <p>{@link #process} computes (runs Spark jobs); the {@link ResultWriter} it returns writes the
 * results through the store's handle inside the commit, and may be called more than once.
 *
 * @param <B> the batch: a {@code JavaRDD} or a {@code Dataset<Row>}
 * @param <T> the store's handle type
 * @since 0.1.0
 */
@FunctionalInterface
public interface BatchProcessor<B, T> extends Serializable {

  /**
   * Computes the batch's results.
   *
   * @param batch the batch's records that are not committed yet
   * @return the writer of the results, called inside the store's commit
   * @throws Exception to fail the batch: nothing is committed
   */
  ResultWriter<T> process(B batch) throws Exception;
}
