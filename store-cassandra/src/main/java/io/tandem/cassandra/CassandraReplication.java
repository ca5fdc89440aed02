package io.tandem.cassandra;

import io.tandem.spi.StoreConfigurationException;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The replication of a keyspace that {@link
 * CassandraOffsetStore#createSchema(CassandraReplication)} creates. There is no default: the
 * replication factor decides how many node failures a commit survives, so the caller states it.
 */
public final class CassandraReplication {

  private final String cql;

  private CassandraReplication(String cql) {
    this.cql = cql;
  }

  /**
   * {@code SimpleStrategy}: one datacenter, {@code factor} replicas. Fine for tests and single-DC
   * clusters; production clusters use {@link #networkTopology(Map)}.
   *
   * @param factor replicas, at least 1 (3 for production: LOCAL_QUORUM then survives one node down)
   * @return the replication
   */
  public static CassandraReplication simple(int factor) {
    positive("replication factor", factor);
    return new CassandraReplication(
        "{'class': 'SimpleStrategy', 'replication_factor': " + factor + "}");
  }

  /**
   * {@code NetworkTopologyStrategy}: replicas per datacenter.
   *
   * @param factors replicas per datacenter name; not empty
   * @return the replication
   */
  public static CassandraReplication networkTopology(Map<String, Integer> factors) {
    Objects.requireNonNull(factors, "factors must not be null");
    if (factors.isEmpty()) {
      throw new StoreConfigurationException("networkTopology needs at least one datacenter");
    }
    TreeMap<String, Integer> sorted = new TreeMap<>(factors);
    sorted.forEach(
        (dc, n) -> {
          if (!dc.matches("[A-Za-z0-9_.\\-]+")) {
            throw new StoreConfigurationException(
                "datacenter name must match [A-Za-z0-9_.-]+, got '" + dc + "'");
          }
          positive("replication factor of " + dc, n == null ? 0 : n);
        });
    return new CassandraReplication(
        "{'class': 'NetworkTopologyStrategy', "
            + sorted.entrySet().stream()
                .map(e -> "'" + e.getKey() + "': " + e.getValue())
                .collect(Collectors.joining(", "))
            + "}");
  }

  /**
   * Parses {@code SimpleStrategy:3} or {@code NetworkTopologyStrategy:dc1=3,dc2=3}, the URI form.
   *
   * @param spec the specification
   * @return the replication
   * @throws StoreConfigurationException if malformed
   */
  public static CassandraReplication parse(String spec) {
    Objects.requireNonNull(spec, "spec must not be null");
    int colon = spec.indexOf(':');
    String kind = colon < 0 ? spec : spec.substring(0, colon);
    String args = colon < 0 ? "" : spec.substring(colon + 1);
    try {
      if (kind.equalsIgnoreCase("SimpleStrategy")) {
        return simple(Integer.parseInt(args.trim()));
      }
      if (kind.equalsIgnoreCase("NetworkTopologyStrategy")) {
        Map<String, Integer> factors = new TreeMap<>();
        for (String pair : args.split(",")) {
          int eq = pair.indexOf('=');
          if (eq < 0) {
            throw new StoreConfigurationException("expected dc=factor, got '" + pair + "'");
          }
          factors.put(
              pair.substring(0, eq).trim(), Integer.parseInt(pair.substring(eq + 1).trim()));
        }
        return networkTopology(factors);
      }
    } catch (NumberFormatException | StoreConfigurationException e) {
      throw new StoreConfigurationException(
          "replication must be SimpleStrategy:<factor> or"
              + " NetworkTopologyStrategy:<dc>=<factor>[,<dc>=<factor>...], got '"
              + spec
              + "': "
              + e.getMessage(),
          e);
    }
    throw new StoreConfigurationException(
        "replication must be SimpleStrategy:<factor> or"
            + " NetworkTopologyStrategy:<dc>=<factor>[,<dc>=<factor>...], got '"
            + spec
            + "'");
  }

  private static void positive(String what, int n) {
    if (n < 1) {
      throw new StoreConfigurationException(what + " must be >= 1, got " + n);
    }
  }

  /** The CQL map literal, for {@code CREATE KEYSPACE ... WITH replication = }. */
  String cql() {
    return cql;
  }

  @Override
  public String toString() {
    return cql;
  }
}
