package io.tandem.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves a server's class path with Maven, once per machine and artifact set, outside any test
 * class path: {@code mvn dependency:build-classpath} on a small pom written under {@code
 * ~/.m2/tandem/<name>/}. The result is cached beside the pom and re-resolved when a listed jar is
 * gone. It needs only Maven Central, which the build needs anyway.
 */
final class MavenClassPath {

  private static final Logger log = LoggerFactory.getLogger(MavenClassPath.class);

  private MavenClassPath() {}

  /**
   * The class path of some artifacts and everything they depend on.
   *
   * @param name a directory name under {@code ~/.m2/tandem/}, unique per artifact set and version
   * @param artifacts {@code groupId:artifactId:version} coordinates
   * @return entries separated by the platform's path separator
   */
  static synchronized String of(String name, List<String> artifacts) {
    Path home = Paths.get(System.getProperty("user.home"), ".m2", "tandem", name);
    Path cached = home.resolve("classpath.txt");
    try {
      if (Files.isRegularFile(cached)) {
        String cp = Files.readString(cached).trim();
        if (!cp.isEmpty() && allExist(cp)) {
          return cp;
        }
      }
      Files.createDirectories(home);
      List<String> pom = new ArrayList<>();
      pom.add("<project xmlns=\"http://maven.apache.org/POM/4.0.0\">");
      pom.add("  <modelVersion>4.0.0</modelVersion>");
      pom.add("  <groupId>io.tandem.testing</groupId>");
      pom.add("  <artifactId>" + name + "-classpath</artifactId>");
      pom.add("  <version>1</version>");
      pom.add("  <dependencies>");
      for (String gav : artifacts) {
        String[] p = gav.split(":");
        if (p.length != 3) {
          throw new IllegalArgumentException("expected groupId:artifactId:version, got " + gav);
        }
        pom.add(
            "    <dependency><groupId>"
                + p[0]
                + "</groupId><artifactId>"
                + p[1]
                + "</artifactId><version>"
                + p[2]
                + "</version></dependency>");
      }
      pom.add("  </dependencies>");
      pom.add("</project>");
      pom.add("");
      Files.writeString(home.resolve("pom.xml"), String.join("\n", pom));
      Path out = home.resolve("classpath.tmp");
      List<String> cmd =
          List.of(
              mvn(),
              "-q",
              "-B",
              "-f",
              home.resolve("pom.xml").toString(),
              "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath",
              "-Dmdep.outputFile=" + out);
      log.info("Resolving the class path of {}: {}", artifacts, String.join(" ", cmd));
      Process p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(home.resolve("mvn.log").toFile())
              .start();
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException("mvn did not resolve " + artifacts + " in 10 minutes");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            "mvn could not resolve "
                + artifacts
                + " (exit "
                + p.exitValue()
                + "): see "
                + home.resolve("mvn.log"));
      }
      Files.move(out, cached, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return Files.readString(cached).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot resolve the class path of " + artifacts, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while resolving " + artifacts, e);
    }
  }

  private static boolean allExist(String cp) {
    for (String entry : cp.split(File.pathSeparator)) {
      if (!Files.exists(Paths.get(entry))) {
        return false;
      }
    }
    return true;
  }

  private static String mvn() {
    String home = System.getProperty("maven.home");
    if (home == null || home.isBlank()) {
      home = System.getenv("MAVEN_HOME");
    }
    if (home != null && !home.isBlank()) {
      Path bin = Paths.get(home, "bin", "mvn");
      if (Files.isExecutable(bin)) {
        return bin.toString();
      }
    }
    return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("win")
        ? "mvn.cmd"
        : "mvn";
  }
}
