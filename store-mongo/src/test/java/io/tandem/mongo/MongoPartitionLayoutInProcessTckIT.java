package io.tandem.mongo;

/** {@link MongoInProcessTckIT} on the partition layout (a document per partition). */
class MongoPartitionLayoutInProcessTckIT extends MongoInProcessTckIT {

  @Override
  MongoLayout layout() {
    return MongoLayout.PARTITION;
  }
}
