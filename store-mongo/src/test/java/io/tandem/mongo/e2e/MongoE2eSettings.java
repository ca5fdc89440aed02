package io.tandem.mongo.e2e;

import io.tandem.testing.KafkaBroker;
import java.util.Map;

/** What the MongoDB end-to-end runs share: database name, URI shaping, consumer settings. */
final class MongoE2eSettings {

  /** The database of the offsets collection and of the results collections. */
  static final String DATABASE = "tandem_e2e";

  private MongoE2eSettings() {}

  /**
   * The server's connection string with its database path replaced by {@link #DATABASE}; query
   * options (such as {@code replicaSet}) are kept.
   */
  static String onDatabase(String serverUri) {
    int hosts = serverUri.indexOf("://") + 3;
    int query = serverUri.indexOf('?', hosts);
    int slash = serverUri.indexOf('/', hosts);
    String options = query < 0 ? "" : serverUri.substring(query);
    int endOfHosts =
        slash >= 0 && (query < 0 || slash < query) ? slash : query < 0 ? serverUri.length() : query;
    return serverUri.substring(0, endOfHosts) + "/" + DATABASE + options;
  }

  /** The embedded broker accepts short session timeouts: killed members' partitions move sooner. */
  static Map<String, String> consumerProperties(Map<String, String> defaults) {
    String env = System.getenv(KafkaBroker.ENV);
    if (env != null && !env.isBlank()) {
      return defaults; // a user's cluster: the kit's defaults are valid on any broker
    }
    return Map.of("session.timeout.ms", "2000", "heartbeat.interval.ms", "500");
  }
}
