package io.tandem.spi;

import java.util.Map;
import java.util.Set;

/** Providers registered in this module's test resources, to test selection by scheme. */
final class TestProviders {
  private TestProviders() {}

  abstract static class Base implements OffsetStoreProvider {
    @Override
    public OffsetStore<?> open(String uri, Map<String, String> properties) {
      throw new StoreConfigurationException(name() + " opened " + StoreUris.mask(uri));
    }
  }

  public static final class Alpha extends Base {
    @Override
    public String name() {
      return "alpha";
    }

    @Override
    public Set<String> schemes() {
      return Set.of("alpha", "alpha+tls");
    }
  }

  public static final class DupOne extends Base {
    @Override
    public String name() {
      return "dup-one";
    }

    @Override
    public Set<String> schemes() {
      return Set.of("dup");
    }
  }

  public static final class DupTwo extends Base {
    @Override
    public String name() {
      return "dup-two";
    }

    @Override
    public Set<String> schemes() {
      return Set.of("dup");
    }
  }

  /** Fails in its constructor, as a provider with a missing driver would. */
  public static final class Broken extends Base {
    public Broken() {
      throw new IllegalStateException("driver missing");
    }

    @Override
    public String name() {
      return "broken";
    }

    @Override
    public Set<String> schemes() {
      return Set.of("broken");
    }
  }
}
