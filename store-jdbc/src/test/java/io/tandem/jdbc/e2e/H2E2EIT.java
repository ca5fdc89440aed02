package io.tandem.jdbc.e2e;

import io.tandem.tck.e2e.ExactlyOnceVerification;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.testing.FreePorts;
import io.tandem.testing.KafkaBroker;
import io.tandem.testing.ServerLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Map;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The end-to-end kit on H2 with a file database. Workers are separate JVMs and an H2 file opened
 * in-process is exclusive to one JVM, so the database is served by H2's TCP server (started here,
 * the kit never starts servers).
 */
class H2E2EIT extends ExactlyOnceVerification {

  private Server server;
  private String url;

  @BeforeAll
  void startH2() throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "h2-e2e")).toAbsolutePath();
    int port = FreePorts.next();
    server =
        Server.createTcpServer(
                "-tcpPort", Integer.toString(port), "-baseDir", dir.toString(), "-ifNotExists")
            .start();
    url = "jdbc:h2:tcp://127.0.0.1:" + port + "/e2e";
    ServerLog.using("H2", "TCP server " + server.getURL() + ", file database under " + dir);
  }

  @AfterAll
  void stopH2() throws SQLException {
    if (server != null) {
      server.stop();
    }
  }

  @Override
  protected String faultRulesSkippedReason() {
    return "H2 is the embedded, one-JVM store (it loses updates under concurrent transactions from"
        + " several JVMs); the fault runs cover JDBC on PostgreSQL";
  }

  @Override
  protected String bootstrapServers() {
    return KafkaBroker.shared().bootstrapServers();
  }

  @Override
  protected String storeUri() {
    return url;
  }

  @Override
  protected Class<? extends ResultModel<?>> resultModel() {
    return JdbcResultModel.class;
  }

  @Override
  protected Map<String, String> consumerProperties() {
    return E2eBrokerSettings.consumerProperties(super.consumerProperties());
  }
}
