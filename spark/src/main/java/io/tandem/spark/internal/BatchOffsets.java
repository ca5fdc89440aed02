package io.tandem.spark.internal;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * Internal: may change in any release.
 *
 * <p>A micro-batch's exact Kafka ranges, read from what Spark records for it in the query's
 * checkpoint before running it. Spark's {@code MicroBatchExecution} writes batch {@code N}'s end
 * offsets to {@code offsets/N} (its write-ahead log: a version line, a metadata line, then one line
 * per source, {@code -} for none) and then reads the batch from the end offsets of batch {@code
 * N-1} ({@code offsets/N-1}, always retained: it is the last committed batch) to those; for batch 0
 * from the source's initial offsets, which the Kafka source writes to {@code sources/<i>/0} (a zero
 * byte, a version line, the offsets). The Kafka source's offsets are positions per topic partition
 * ({@link OffsetJson}), so markers and compacted records at the edges are accounted for, unlike a
 * range guessed from the records' offsets.
 *
 * <p>(The Dataset {@code foreachBatch} receives carries no offsets: Spark 4 hands it over as a
 * {@code LogicalRDD} of the executed batch.)
 */
public final class BatchOffsets {

  /** StreamExecution.QUERY_ID_KEY: the running query's id, set on the stream's driver thread. */
  static final String QUERY_ID_PROPERTY = "sql.streaming.queryId";

  private BatchOffsets() {}

  /**
   * The batch's Kafka ranges.
   *
   * @param spark the session running the query
   * @param checkpoint the query's checkpoint location
   * @param batchId the batch
   * @return its ranges, sorted by partition
   * @throws IllegalStateException if the checkpoint has no entry for the batch, or a partition has
   *     an end without a start (it was added to the topic during the query)
   */
  public static List<OffsetRange> of(SparkSession spark, String checkpoint, long batchId) {
    Path root = new Path(checkpoint);
    try {
      FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      checkQuery(spark, fs, root, checkpoint);
      List<String> end =
          sourceLines(read(fs, new Path(root, "offsets/" + batchId)))
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "the checkpoint "
                              + checkpoint
                              + " has no offset log entry for batch "
                              + batchId
                              + ": pass the query's own checkpointLocation"));
      List<String> start;
      if (batchId > 0) {
        start =
            sourceLines(read(fs, new Path(root, "offsets/" + (batchId - 1))))
                .orElseThrow(
                    () ->
                        new IllegalStateException(
                            "the checkpoint "
                                + checkpoint
                                + " has no offset log entry for batch "
                                + (batchId - 1)
                                + ", the batch before "
                                + batchId));
      } else {
        start = new ArrayList<>();
        for (int i = 0; i < end.size(); i++) {
          start.add(
              read(fs, new Path(root, "sources/" + i + "/0"))
                  .map(BatchOffsets::lastLine)
                  .orElse("-"));
        }
      }
      Map<Partition, OffsetRange> ranges = new TreeMap<>();
      for (int i = 0; i < end.size(); i++) {
        Optional<Map<Partition, Long>> to = kafka(end.get(i));
        if (to.isEmpty()) {
          continue; // another kind of source, or none this batch
        }
        Map<Partition, Long> from =
            i < start.size() ? kafka(start.get(i)).orElse(Map.of()) : Map.of();
        for (Map.Entry<Partition, Long> e : to.get().entrySet()) {
          Long at = from.get(e.getKey());
          if (at == null) {
            throw new IllegalStateException(
                e.getKey()
                    + " has no start offset in batch "
                    + batchId
                    + " (a partition added to the topic during the query). Restart the query with"
                    + " a new checkpoint; it then starts every partition from the store");
          }
          OffsetRange range = new OffsetRange(e.getKey(), at, e.getValue());
          OffsetRange before = ranges.putIfAbsent(e.getKey(), range);
          if (before != null && !before.equals(range)) {
            throw new IllegalStateException(
                "two Kafka sources read " + e.getKey() + " differently: " + before + ", " + range);
          }
        }
      }
      return new ArrayList<>(ranges.values());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the offset log of " + checkpoint, e);
    }
  }

  /**
   * Refuses a checkpoint location of another query: its offset log would give another query's
   * ranges. Spark keeps the query id in {@code <checkpoint>/metadata} and, while a batch runs, in
   * the driver thread's local property {@value #QUERY_ID_PROPERTY}.
   */
  private static void checkQuery(SparkSession spark, FileSystem fs, Path root, String checkpoint)
      throws IOException {
    String running = spark.sparkContext().getLocalProperty(QUERY_ID_PROPERTY);
    Optional<String> metadata = read(fs, new Path(root, "metadata"));
    if (running == null || metadata.isEmpty()) {
      return;
    }
    if (!metadata.get().contains("\"" + running + "\"")) {
      throw new IllegalStateException(
          "the checkpoint "
              + checkpoint
              + " belongs to another query ("
              + metadata.get().trim()
              + ") than the one running this batch ("
              + running
              + "): pass the query's own checkpointLocation");
    }
  }

  /** Offsets of one source line: empty unless it is the Kafka source's JSON. */
  private static Optional<Map<Partition, Long>> kafka(String line) {
    String t = line.trim();
    if (t.equals("-") || !t.startsWith("{")) {
      return Optional.empty();
    }
    try {
      return Optional.of(OffsetJson.read(t));
    } catch (IllegalArgumentException e) {
      return Optional.empty(); // another source's offset format
    }
  }

  /** An offset log file's source lines: after the version line and the metadata line. */
  private static Optional<List<String>> sourceLines(Optional<String> file) {
    return file.map(
        text -> {
          String[] lines = text.split("\n");
          List<String> out = new ArrayList<>();
          for (int i = 2; i < lines.length; i++) {
            out.add(lines[i]);
          }
          return out;
        });
  }

  private static String lastLine(String text) {
    String[] lines = text.replace("\u0000", "").trim().split("\n");
    return lines[lines.length - 1];
  }

  private static Optional<String> read(FileSystem fs, Path path) throws IOException {
    try (InputStream in = fs.open(path)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return Optional.of(out.toString(StandardCharsets.UTF_8));
    } catch (FileNotFoundException e) {
      return Optional.empty();
    }
  }
}
