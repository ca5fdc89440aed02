package io.tandem.connect;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version Connect shows for our connectors and tasks (from the build). */
final class Versions {

  private static final String VERSION = load();

  private Versions() {}

  static String version() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in = Versions.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
