package io.tandem.bench;

import com.mongodb.client.ClientSession;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.WriteModel;
import io.tandem.mongo.MongoLayout;
import io.tandem.mongo.MongoOffsetStore;
import io.tandem.mongo.MongoResults;
import io.tandem.mongo.MongoSink;
import io.tandem.mongo.MongoStoreConfig;
import io.tandem.spi.Guarantee;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriter;
import io.tandem.testing.MongoServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bson.Document;

/**
 * MongoDB through {@link MongoOffsetStore}, results as one document per key ({@link
 * MongoSink#replace}). No real MongoDB runs on this machine: unless {@code TANDEM_MONGODB_URI}
 * names one, this is an emulator (jongodb's replica-set profile, else the in-process
 * mongo-java-server), and its numbers say nothing about MongoDB.
 */
final class MongoBackend implements Backend<MongoResults> {

  private final MongoLayout layout;
  private final MongoServer.Instance server;
  private final MongoClient client;
  private final MongoOffsetStore store;
  private final boolean transactional;

  MongoBackend(MongoLayout layout) {
    this.layout = layout;
    server = MongoServer.best().orElseGet(MongoServer::inProcess);
    client = MongoClients.create(server.uri());
    store =
        MongoOffsetStore.open(
            MongoStoreConfig.builder()
                .client(client)
                .database("bench")
                .layout(layout)
                // A collection holds one layout.
                .collection(
                    layout == MongoLayout.GROUP ? "tandem_offsets" : "tandem_offsets_partition")
                .build());
    transactional = store.capabilities().guarantee() == Guarantee.TRANSACTIONAL;
  }

  @Override
  public String name() {
    return layout == MongoLayout.GROUP ? "mongo" : "mongo" + Backends.PARTITION_LAYOUT;
  }

  @Override
  public String server() {
    return (server.emulator() ? "EMULATOR, not MongoDB: " : "")
        + server.description()
        + "; "
        + store.capabilities().description();
  }

  boolean emulator() {
    return server.emulator();
  }

  @Override
  public OffsetStore<MongoResults> store() {
    return store;
  }

  static String collection(String namespace) {
    return "results_" + namespace;
  }

  @Override
  public void prepare(String namespace, int keys, int partitions) {
    // Collections appear on first write.
  }

  @Override
  public ResultWriter<MongoResults> writer(String namespace, List<Row> rows) {
    return MongoSink.<Row>replace(
            collection(namespace), Row::key, r -> new Document("v", r.value()))
        .writer(rows);
  }

  @Override
  public void write(String namespace, List<Row> rows, Map<Partition, Long> positions) {
    MongoCollection<Document> results =
        client.getDatabase("bench").getCollection(collection(namespace));
    MongoCollection<Document> pos = client.getDatabase("bench").getCollection("positions");
    List<WriteModel<Document>> writes = new ArrayList<>(rows.size());
    for (Row r : rows) {
      writes.add(
          new ReplaceOneModel<>(
              Filters.eq("_id", r.key()),
              new Document("v", r.value()),
              new ReplaceOptions().upsert(true)));
    }
    Document set = new Document();
    positions.forEach((p, v) -> set.append(p.topic() + "-" + p.partition(), v));
    if (transactional) {
      try (ClientSession s = client.startSession()) {
        s.withTransaction(
            () -> {
              if (!writes.isEmpty()) {
                results.bulkWrite(s, writes);
              }
              if (!set.isEmpty()) {
                pos.updateOne(
                    s,
                    Filters.eq("_id", namespace),
                    new Document("$set", set),
                    new UpdateOptions().upsert(true));
              }
              return null;
            });
      }
    } else {
      if (!writes.isEmpty()) {
        results.bulkWrite(writes);
      }
      if (!set.isEmpty()) {
        pos.updateOne(
            Filters.eq("_id", namespace),
            new Document("$set", set),
            new UpdateOptions().upsert(true));
      }
    }
  }

  @Override
  public void close() {
    store.close();
    client.close();
  }
}
