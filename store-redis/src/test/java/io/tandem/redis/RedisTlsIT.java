package io.tandem.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStores;
import io.tandem.spi.Partition;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.testing.FreePorts;
import io.tandem.testing.RedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code rediss://} against a redis-server with a self-signed certificate for "localhost". */
class RedisTlsIT {

  private static final Partition A = Partition.of("t", 0);

  private static Path dir;
  private static Path trustStore;
  private static int tlsPort;
  private static RedisServer server;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/openssl")),
        "openssl is needed to make the test certificate");
    dir = Files.createTempDirectory("tandem-redis-tls-");
    run(
        "/usr/bin/openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        dir.resolve("key.pem").toString(),
        "-out",
        dir.resolve("cert.pem").toString(),
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost");
    trustStore = dir.resolve("trust.p12");
    run(
        Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-importcert",
        "-noprompt",
        "-alias",
        "redis",
        "-file",
        dir.resolve("cert.pem").toString(),
        "-keystore",
        trustStore.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        "changeit");
    tlsPort = FreePorts.next();
    server =
        RedisServer.startPrivate(
            "always",
            true,
            List.of(
                "tls-port " + tlsPort,
                "tls-cert-file " + dir.resolve("cert.pem"),
                "tls-key-file " + dir.resolve("key.pem"),
                "tls-ca-cert-file " + dir.resolve("cert.pem"),
                "tls-auth-clients no"));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("tool.log").toFile())
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("tool.log"))).isZero();
  }

  private static String uri(String host, String options) {
    return "rediss://" + host + ":" + tlsPort + "?connectTimeout=2s&" + options;
  }

  @Test
  void commitsOverTlsWithTheGivenTrustStore() {
    try (RedisOffsetStore store =
        (RedisOffsetStore)
            OffsetStores.open(
                uri("localhost", "trustStore=" + trustStore),
                Map.of("trustStorePassword", "changeit"))) {
      store.initialize("g", Map.of(A, 0L));
      store.commit("g", List.of(new OffsetRange(A, 0, 4)), tx -> tx.commands().set("tls", "y"));
      assertThat(store.positions("g")).containsOnly(Map.entry(A, 4L));
      assertThat(store.capabilities().description()).contains("rediss://localhost:" + tlsPort);
    }
  }

  @Test
  void hostNameIsVerifiedUnlessTurnedOff() {
    // The certificate names localhost only.
    assertThatThrownBy(
            () ->
                OffsetStores.open(
                    uri("127.0.0.1", "trustStore=" + trustStore + "&trustStorePassword=changeit")))
        .isInstanceOf(StoreUnavailableException.class)
        .hasStackTraceContaining("No subject alternative names matching IP address 127.0.0.1");
    try (var store =
        OffsetStores.open(
            uri(
                "127.0.0.1",
                "trustStore="
                    + trustStore
                    + "&trustStorePassword=changeit&verifyHostname=false"))) {
      assertThat(store.capabilities().transactional()).isTrue();
    }
  }

  @Test
  void anUntrustedCertificateIsRefused() {
    assertThatThrownBy(() -> OffsetStores.open(uri("localhost", "timeout=2s")))
        .isInstanceOf(StoreUnavailableException.class)
        .hasStackTraceContaining("unable to find valid certification path");
  }
}
