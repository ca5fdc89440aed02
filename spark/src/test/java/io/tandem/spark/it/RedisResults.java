package io.tandem.spark.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.redis.RedisTransaction;
import io.tandem.spark.BatchProcessor;
import io.tandem.spi.ResultWriter;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import redis.clients.jedis.Jedis;

/**
 * The test job's results in Redis, in the commit's MULTI/EXEC: a count per record seen (a duplicate
 * shows as 2) and value sums and counts per key (a fold: a batch applied twice shows).
 */
final class RedisResults implements Serializable {

  private static final long serialVersionUID = 1L;

  private final String name;
  private final String group;

  RedisResults(String name, String group) {
    this.name = name;
    this.group = group;
  }

  private String key(String what) {
    // The group's hash tag keeps results in the slot of its positions (Redis Cluster).
    return name + ":{" + group + "}:" + what;
  }

  ResultWriter<RedisTransaction> writer(List<JdbcResults.Seen> rows) {
    return tx -> {
      var cmd = tx.commands();
      for (JdbcResults.Seen r : rows) {
        cmd.hincrBy(key("seen"), r.partition() + ":" + r.offset(), 1);
        cmd.hincrBy(key("total"), r.key(), r.value());
        cmd.hincrBy(key("n"), r.key(), 1);
      }
    };
  }

  BatchProcessor<Dataset<Row>, RedisTransaction> perBatch() {
    return batch -> {
      List<JdbcResults.Seen> rows = new ArrayList<>();
      for (Iterator<Row> it = batch.toLocalIterator(); it.hasNext(); ) {
        rows.add(JdbcResults.seen(it.next()));
      }
      return writer(rows);
    };
  }

  void verify(Jedis redis, long records) {
    Map<String, String> seen = redis.hgetAll(key("seen"));
    assertThat(seen).as("records seen").hasSize((int) records);
    assertThat(seen.values()).as("times each record was applied").containsOnly("1");
    Map<String, Long> totals = new TreeMap<>();
    redis.hgetAll(key("total")).forEach((k, v) -> totals.put(k, Long.parseLong(v)));
    assertThat(totals).as("folded totals").isEqualTo(Fixture.expectedTotals(records));
    long n = redis.hgetAll(key("n")).values().stream().mapToLong(Long::parseLong).sum();
    assertThat(n).as("records folded").isEqualTo(records);
  }
}
