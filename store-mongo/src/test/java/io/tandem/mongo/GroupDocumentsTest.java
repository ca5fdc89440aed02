package io.tandem.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.mongo.internal.GroupDocuments;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.Partition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

class GroupDocumentsTest {

  private static final String WORST_TOPIC = "中".repeat(Partition.MAX_TOPIC_LENGTH);

  @Test
  void worstCasePartitionsFitInOneDocumentAndOneMoreDoesNot() {
    Map<Partition, Long> positions = new TreeMap<>();
    for (int i = 0; i < GroupDocuments.MAX_PARTITIONS_WORST_CASE; i++) {
      positions.put(new Partition(WORST_TOPIC, Integer.MAX_VALUE - i), Long.MAX_VALUE);
    }
    String group = "g".repeat(MongoOffsetStore.MAX_GROUP_BYTES);
    int size = GroupDocuments.size(GroupDocuments.document(group, Long.MAX_VALUE, positions));
    assertThat(size).isLessThanOrEqualTo(GroupDocuments.MAX_BSON_BYTES);
    // The per-partition figure is tight: about 800 bytes, so ~20,800 partitions per group.
    assertThat(GroupDocuments.WORST_ENTRY_BYTES).isBetween(780, 820);
    assertThat(GroupDocuments.MAX_PARTITIONS_WORST_CASE).isBetween(20_000, 23_000);
  }

  @Test
  void worstCaseCommitStatementFits() {
    List<OffsetRange> ranges = new ArrayList<>();
    for (int i = 0; i < GroupDocuments.MAX_RANGES_PER_COMMIT; i++) {
      ranges.add(new OffsetRange(new Partition(WORST_TOPIC, i), Long.MAX_VALUE, Long.MAX_VALUE));
    }
    BsonDocument statement =
        GroupDocuments.statement("g".repeat(MongoOffsetStore.MAX_GROUP_BYTES), ranges, 0);
    assertThat(GroupDocuments.size(statement)).isLessThanOrEqualTo(GroupDocuments.MAX_BSON_BYTES);
    assertThat(GroupDocuments.MAX_RANGES_PER_COMMIT)
        .isLessThanOrEqualTo(GroupDocuments.MAX_PARTITIONS_WORST_CASE);
  }

  @Test
  void topicsAreValuesNeverFieldNames() {
    Partition p = new Partition("$set.a.b", 3);
    BsonDocument statement = GroupDocuments.statement("g", List.of(new OffsetRange(p, 1, 2)), 0);
    assertThat(statement.toJson())
        .contains("\"partitions.$[r0].position\"")
        .contains("\"r0.topic\": \"$set.a.b\"")
        .doesNotContain("\"$set.a.b\":");
    assertThat(GroupDocuments.positions(GroupDocuments.document("g", 1, Map.of(p, 7L))))
        .isEqualTo(Map.of(p, 7L));
  }
}
