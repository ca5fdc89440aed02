package io.tandem.cassandra;

/** The whole TCK against the shared Cassandra, group layout (one Cassandra partition per group). */
class CassandraGroupLayoutTckIT extends CassandraTckIT {

  @Override
  CassandraLayout layout() {
    return CassandraLayout.GROUP;
  }
}
