package io.tandem.cassandra;

/**
 * The whole TCK against the shared Cassandra, partition layout (a Cassandra partition per Kafka
 * partition).
 */
class CassandraPartitionLayoutTckIT extends CassandraTckIT {

  @Override
  CassandraLayout layout() {
    return CassandraLayout.PARTITION;
  }
}
