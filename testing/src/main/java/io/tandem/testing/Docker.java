package io.tandem.testing;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Whether Testcontainers can reach a Docker engine; asked once per JVM. */
public final class Docker {

  private static final Logger log = LoggerFactory.getLogger(Docker.class);
  private static volatile Boolean available;

  private Docker() {}

  /**
   * Whether Testcontainers is on the class path and a Docker engine answers. Set {@code
   * TANDEM_NO_DOCKER=1} to skip the check and go straight to the embedded launchers.
   *
   * @return true when containers can be started
   */
  public static boolean available() {
    Boolean known = available;
    if (known == null) {
      synchronized (Docker.class) {
        known = available;
        if (known == null) {
          known = probe();
          available = known;
        }
      }
    }
    return known;
  }

  private static boolean probe() {
    if (System.getenv("TANDEM_NO_DOCKER") != null) {
      log.info("TANDEM_NO_DOCKER is set: not asking for a Docker engine");
      return false;
    }
    try {
      Class<?> factory = Class.forName("org.testcontainers.DockerClientFactory");
      Object instance = factory.getMethod("instance").invoke(null);
      boolean up = (Boolean) factory.getMethod("isDockerAvailable").invoke(instance);
      log.info(
          "Docker engine {}",
          up ? "answers: using Testcontainers" : "absent: using embedded launchers");
      return up;
    } catch (ClassNotFoundException e) {
      log.info("Testcontainers not on the class path: using embedded launchers");
      return false;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      log.info("Docker check failed ({}): using embedded launchers", e.toString());
      return false;
    }
  }
}
