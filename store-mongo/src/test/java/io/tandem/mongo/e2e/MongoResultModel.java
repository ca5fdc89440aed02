package io.tandem.mongo.e2e;

import com.mongodb.ConnectionString;
import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import io.tandem.mongo.MongoResults;
import io.tandem.tck.e2e.ResultModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.bson.Document;

/**
 * What both MongoDB result models share: a client for setup and reading back, opened on the store
 * URI minus Tandem's own parameters, and the run's collections {@code <ns>_results} and {@code
 * <ns>_totals}, created before any commit (MongoDB before 4.4, and sharded clusters before 8.0,
 * cannot create a collection inside a transaction).
 */
abstract class MongoResultModel implements ResultModel<MongoResults> {

  /** The store's own URI parameters (MongoStoreProvider), which the driver would reject. */
  private static final Set<String> TANDEM_PARAMETERS =
      Set.of("collection", "requiretransactions", "transactiontimeoutms");

  /** MongoDB's NamespaceExists: another worker JVM created the collection first. */
  private static final int NAMESPACE_EXISTS = 48;

  /** CommandNotFound: jongodb 0.1.6 has no {@code create} command (measured). */
  private static final int COMMAND_NOT_FOUND = 59;

  private MongoClient client;
  private MongoDatabase database;
  protected String results;
  protected String totals;

  @Override
  public void open(String storeUri, Map<String, String> properties, String namespace) {
    if (!namespace.matches("[a-z][a-z0-9_]{0,39}")) {
      throw new IllegalArgumentException("namespace must match [a-z][a-z0-9_]{0,39}: " + namespace);
    }
    ConnectionString uri = new ConnectionString(driverUri(storeUri));
    String db = properties.get("database");
    if (db == null) {
      db = uri.getDatabase() != null ? uri.getDatabase() : "tandem";
    }
    results = namespace + "_results";
    totals = namespace + "_totals";
    client = MongoClients.create(uri);
    database = client.getDatabase(db);
    for (String c : List.of(results, totals)) {
      try {
        database.createCollection(c);
      } catch (MongoCommandException e) {
        if (e.getErrorCode() == COMMAND_NOT_FOUND) {
          // Create it implicitly, outside any transaction: a marker only this JVM writes.
          String marker = "__create_" + UUID.randomUUID();
          database.getCollection(c).insertOne(new Document("_id", marker));
          database.getCollection(c).deleteOne(Filters.eq("_id", marker));
        } else if (e.getErrorCode() != NAMESPACE_EXISTS) {
          throw e;
        }
      }
    }
  }

  /** The store URI without Tandem's parameters, for the driver. */
  static String driverUri(String storeUri) {
    int q = storeUri.indexOf('?');
    if (q < 0) {
      return storeUri;
    }
    List<String> kept = new ArrayList<>();
    for (String pair : storeUri.substring(q + 1).split("&")) {
      String name = pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair;
      if (!pair.isEmpty() && !TANDEM_PARAMETERS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
        kept.add(pair);
      }
    }
    return storeUri.substring(0, q) + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
  }

  /** Every document of a collection, read outside any transaction. */
  protected final List<Document> all(String collection) {
    return database.getCollection(collection).find().into(new ArrayList<>());
  }

  @Override
  public void close() {
    if (client != null) {
      client.close();
      client = null;
    }
  }
}
