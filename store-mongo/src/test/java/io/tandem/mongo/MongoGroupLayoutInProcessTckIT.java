package io.tandem.mongo;

/** {@link MongoInProcessTckIT} on the group layout (one document per group). */
class MongoGroupLayoutInProcessTckIT extends MongoInProcessTckIT {

  @Override
  MongoLayout layout() {
    return MongoLayout.GROUP;
  }
}
