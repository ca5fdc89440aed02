package io.tandem.spring.boot;

import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetStore;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/** Up when the store answers; reports what it guarantees. */
final class TandemHealthIndicator extends AbstractHealthIndicator {

  private final OffsetStore<?> store;

  TandemHealthIndicator(OffsetStore<?> store) {
    super("Tandem offset store health check failed");
    this.store = store;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    // groups() is a real round trip to the store: reachable, and readable with our credentials.
    int groups = store.groups().size();
    Capabilities c = store.capabilities();
    builder
        .up()
        .withDetail("store", store.toString())
        .withDetail("guarantee", c.guarantee().name())
        .withDetail("atomicAcrossPartitions", c.atomicAcrossPartitions())
        .withDetail("durable", c.durable())
        .withDetail("description", c.description())
        .withDetail("groups", groups);
  }
}
