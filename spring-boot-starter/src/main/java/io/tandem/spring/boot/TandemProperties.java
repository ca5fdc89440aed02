package io.tandem.spring.boot;

import io.tandem.spring.ResetPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Tandem's Spring Boot settings, under {@code tandem.*}.
 *
 * @since 0.1
 */
@ConfigurationProperties("tandem")
public class TandemProperties {

  /** Whether Tandem manages the application's Kafka listener containers. */
  private boolean enabled = true;

  /** The store holding positions (and, for transactional stores, results). */
  private final Store store = new Store();

  /**
   * The group positions are stored under. Unset: each listener's consumer group id. Set: every
   * managed listener must consume as this group.
   */
  private String group;

  /** Where a partition with no stored position starts. */
  private ResetPolicy resetPolicy = ResetPolicy.EARLIEST;

  /** Mirror each committed position to Kafka's group offsets, for lag tools (never read back). */
  private boolean mirrorToKafka;

  /** The longest pause between attempts while the store is unreachable. */
  private Duration maxBackoff = Duration.ofSeconds(10);

  /** Ids of the listener containers to manage; empty: every @KafkaListener container. */
  private List<String> listenerIds = new ArrayList<>();

  /**
   * Whether Tandem is on.
   *
   * @return the flag
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Turns Tandem on or off.
   *
   * @param enabled the flag
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * The store settings.
   *
   * @return the store settings
   */
  public Store getStore() {
    return store;
  }

  /**
   * The store group.
   *
   * @return the group, or null
   */
  public String getGroup() {
    return group;
  }

  /**
   * Sets the store group.
   *
   * @param group the group
   */
  public void setGroup(String group) {
    this.group = group == null || group.isBlank() ? null : group;
  }

  /**
   * The reset policy.
   *
   * @return the policy
   */
  public ResetPolicy getResetPolicy() {
    return resetPolicy;
  }

  /**
   * Sets the reset policy.
   *
   * @param resetPolicy the policy
   */
  public void setResetPolicy(ResetPolicy resetPolicy) {
    this.resetPolicy = resetPolicy;
  }

  /**
   * Whether positions are mirrored to Kafka.
   *
   * @return the flag
   */
  public boolean isMirrorToKafka() {
    return mirrorToKafka;
  }

  /**
   * Turns the mirror on or off.
   *
   * @param mirrorToKafka the flag
   */
  public void setMirrorToKafka(boolean mirrorToKafka) {
    this.mirrorToKafka = mirrorToKafka;
  }

  /**
   * The longest back-off.
   *
   * @return the duration
   */
  public Duration getMaxBackoff() {
    return maxBackoff;
  }

  /**
   * Sets the longest back-off.
   *
   * @param maxBackoff the duration
   */
  public void setMaxBackoff(Duration maxBackoff) {
    this.maxBackoff = maxBackoff;
  }

  /**
   * The managed listener ids.
   *
   * @return the ids; empty means all
   */
  public List<String> getListenerIds() {
    return listenerIds;
  }

  /**
   * Sets the managed listener ids.
   *
   * @param listenerIds the ids
   */
  public void setListenerIds(List<String> listenerIds) {
    this.listenerIds = listenerIds == null ? new ArrayList<>() : listenerIds;
  }

  /** {@code tandem.store.*}. */
  public static class Store {

    /**
     * The store's URI: {@code jdbc:postgresql://...}, {@code redis://...}, ... A JDBC URI that
     * names the application's DataSource reuses it (and its transactions).
     */
    private String uri;

    /** Options beside the URI, passed to the store's provider. */
    private Map<String, String> properties = new LinkedHashMap<>();

    /**
     * The URI.
     *
     * @return the URI, or null
     */
    public String getUri() {
      return uri;
    }

    /**
     * Sets the URI.
     *
     * @param uri the URI
     */
    public void setUri(String uri) {
      this.uri = uri;
    }

    /**
     * The provider options.
     *
     * @return the options
     */
    public Map<String, String> getProperties() {
      return properties;
    }

    /**
     * Sets the provider options.
     *
     * @param properties the options
     */
    public void setProperties(Map<String, String> properties) {
      this.properties = properties == null ? new LinkedHashMap<>() : properties;
    }
  }
}
