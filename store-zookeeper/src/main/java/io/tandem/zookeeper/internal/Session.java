package io.tandem.zookeeper.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ZooKeeper session at a time, replaced when it expires.
 *
 * <p>Internal: may change in any release.
 *
 * <p>The ZooKeeper client reconnects by itself after a connection loss, within the session timeout,
 * keeping the session. An <em>expired</em> session is final for its handle: every later call on it
 * fails with {@code SESSIONEXPIRED}. This class notices the {@code Expired} event and opens a new
 * handle on the next call, so the store recovers without the user's help. The offset store keeps no
 * ephemeral nodes and no watches, so nothing is lost with the old session.
 */
public final class Session implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Session.class);

  private final String connectString;
  private final int sessionTimeoutMs;
  private final int clientMaxPacket;
  private final String digest;
  private final String where;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private ZooKeeper current;
  private boolean connected;
  private boolean dead;
  private boolean authFailed;
  private boolean closed;
  private int generation;

  /**
   * Opens a session and waits until it is connected.
   *
   * @param connectString ZooKeeper's connect string
   * @param sessionTimeoutMs the session timeout asked for
   * @param connectTimeoutMs how long to wait for the first connection
   * @param clientMaxPacket the largest reply this client accepts (its own {@code jute.maxbuffer})
   * @param digest {@code user:password} for digest authentication, or null
   * @param where the connect string with any password masked, for messages
   * @throws IOException if the client cannot be created
   * @throws ConnectTimeout if no connection is made in time
   * @throws InterruptedException if interrupted while waiting
   */
  public Session(
      String connectString,
      int sessionTimeoutMs,
      long connectTimeoutMs,
      int clientMaxPacket,
      String digest,
      String where)
      throws IOException, ConnectTimeout, InterruptedException {
    this.connectString = connectString;
    this.sessionTimeoutMs = sessionTimeoutMs;
    this.clientMaxPacket = clientMaxPacket;
    this.digest = digest;
    this.where = where;
    lock.lock();
    try {
      openLocked();
    } finally {
      lock.unlock();
    }
    if (!awaitConnected(connectTimeoutMs)) {
      close();
      throw new ConnectTimeout(
          "no connection to ZooKeeper " + where + " within " + connectTimeoutMs + " ms");
    }
  }

  /** No connection could be made in time. */
  public static final class ConnectTimeout extends Exception {
    private static final long serialVersionUID = 1L;

    ConnectTimeout(String message) {
      super(message);
    }
  }

  /**
   * The live handle, a new one if the previous session expired. It may be disconnected at the
   * moment: calls on it then wait for the client's own reconnection or fail with {@code
   * CONNECTIONLOSS}.
   *
   * @return the handle
   * @throws IOException if a new handle cannot be created
   * @throws IllegalStateException if closed, or authentication failed
   */
  public ZooKeeper client() throws IOException {
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("the ZooKeeper offset store is closed");
      }
      if (authFailed) {
        throw new IllegalStateException(
            "ZooKeeper " + where + " refused the credentials: check the digest user and password");
      }
      if (!dead && !current.getState().isAlive()) {
        // Expired (or closed by the server) before our watcher heard of it.
        dead = true;
      }
      if (dead) {
        closeQuietly(current);
        openLocked();
      }
      return current;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until the current session is connected.
   *
   * @param timeoutMs how long to wait
   * @return whether it is connected
   * @throws InterruptedException if interrupted
   */
  public boolean awaitConnected(long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    lock.lock();
    try {
      while (true) {
        if (closed || authFailed) {
          return false;
        }
        if (dead) {
          try {
            closeQuietly(current);
            openLocked();
          } catch (IOException e) {
            log.warn("Cannot open a new ZooKeeper session to {}", where, e);
            return false;
          }
        }
        if (connected) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        changed.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * The current session's id, for logs and tests.
   *
   * @return the id, 0 before the first connection
   */
  public long sessionId() {
    lock.lock();
    try {
      return current == null ? 0 : current.getSessionId();
    } finally {
      lock.unlock();
    }
  }

  /** Closes the current handle (its session ends on the server); idempotent. */
  @Override
  public void close() {
    ZooKeeper toClose;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      toClose = current;
      current = null;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    closeQuietly(toClose);
  }

  private void openLocked() throws IOException {
    ZKClientConfig config = new ZKClientConfig();
    // The largest reply this client reads (a multi's results, a long child list). Our own
    // setting, not the JVM-wide system property, which an embedded server would share.
    config.setProperty(ZKClientConfig.JUTE_MAXBUFFER, Integer.toString(clientMaxPacket));
    int gen = ++generation;
    connected = false;
    dead = false;
    current = new ZooKeeper(connectString, sessionTimeoutMs, event -> onEvent(gen, event), config);
    if (digest != null) {
      current.addAuthInfo("digest", digest.getBytes(StandardCharsets.UTF_8));
    }
  }

  private void onEvent(int gen, org.apache.zookeeper.WatchedEvent event) {
    if (event.getType() != Watcher.Event.EventType.None) {
      return;
    }
    lock.lock();
    try {
      if (gen != generation) {
        return; // a late event of a replaced handle
      }
      switch (event.getState()) {
        case SyncConnected, ConnectedReadOnly -> {
          if (!connected) {
            log.debug("Connected to ZooKeeper {}", where);
          }
          connected = true;
        }
        case Disconnected -> {
          connected = false;
          log.debug("Disconnected from ZooKeeper {}; the client reconnects", where);
        }
        case Expired -> {
          connected = false;
          dead = true;
          log.warn(
              "ZooKeeper session 0x{} to {} expired; a new session opens on the next call",
              current == null ? "0" : Long.toHexString(current.getSessionId()),
              where);
        }
        case AuthFailed -> {
          connected = false;
          authFailed = true;
          log.error("ZooKeeper {} refused authentication", where);
        }
        case Closed -> connected = false;
        default -> {
          // SaslAuthenticated and others change nothing here.
        }
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private static void closeQuietly(ZooKeeper zk) {
    if (zk == null) {
      return;
    }
    try {
      zk.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The session timeout asked for.
   *
   * @return milliseconds
   */
  public int sessionTimeoutMs() {
    return sessionTimeoutMs;
  }
}
