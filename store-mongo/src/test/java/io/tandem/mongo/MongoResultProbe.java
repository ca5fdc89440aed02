package io.tandem.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.tandem.spi.ResultWriter;
import io.tandem.tck.ResultProbe;
import java.util.HashMap;
import java.util.Map;
import org.bson.Document;

/** Results as documents {@code {_id: key, v: value}} in a collection per namespace. */
final class MongoResultProbe implements ResultProbe<MongoResults>, AutoCloseable {

  private final MongoClient reader;
  private final String database;

  MongoResultProbe(String uri, String database) {
    this.reader = MongoClients.create(uri);
    this.database = database;
  }

  @Override
  public ResultWriter<MongoResults> put(String namespace, Map<String, String> entries) {
    Map<String, String> copy = Map.copyOf(entries);
    return tx -> copy.forEach((k, v) -> tx.replace(namespace, k, new Document("v", v)));
  }

  @Override
  public Map<String, String> read(String namespace) {
    Map<String, String> out = new HashMap<>();
    for (Document d : reader.getDatabase(database).getCollection(namespace).find()) {
      out.put(d.getString("_id"), d.getString("v"));
    }
    return out;
  }

  @Override
  public void close() {
    reader.close();
  }
}
