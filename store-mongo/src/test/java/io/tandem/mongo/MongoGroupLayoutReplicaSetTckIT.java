package io.tandem.mongo;

/** {@link MongoReplicaSetTckIT} on the group layout (one document per group). */
class MongoGroupLayoutReplicaSetTckIT extends MongoReplicaSetTckIT {

  @Override
  MongoLayout layout() {
    return MongoLayout.GROUP;
  }
}
