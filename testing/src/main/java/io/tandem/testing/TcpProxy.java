package io.tandem.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP forwarder on loopback for fault injection: put it between a client and its server, then
 * black-hole the connections open now in one or both directions (bytes are read and dropped, like a
 * network that lost them), or cut them. Connections opened afterwards forward normally, so a client
 * that reconnects gets through.
 *
 * <p>Black-holing the server-to-client direction just before a request is sent makes the server
 * apply the request while the client never sees the reply: the client's outcome is unknown.
 */
public final class TcpProxy implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TcpProxy.class);

  /** Which way bytes flow. */
  public enum Direction {
    /** From the client to the server. */
    UPSTREAM,
    /** From the server to the client. */
    DOWNSTREAM
  }

  private final ServerSocket listener;
  private final InetSocketAddress target;
  private final List<Pair> pairs = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger repliesLost = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicBoolean loseNext =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile boolean closed;

  private TcpProxy(ServerSocket listener, InetSocketAddress target) {
    this.listener = listener;
    this.target = target;
  }

  /**
   * Starts a proxy on a free loopback port forwarding to {@code host:port}.
   *
   * @param host the server's host
   * @param port the server's port
   * @return the running proxy; the caller closes it
   * @throws IOException if no port can be bound
   */
  public static TcpProxy start(String host, int port) throws IOException {
    ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    TcpProxy proxy = new TcpProxy(listener, new InetSocketAddress(host, port));
    Thread t = new Thread(proxy::acceptLoop, "tcp-proxy-accept-" + listener.getLocalPort());
    t.setDaemon(true);
    t.start();
    return proxy;
  }

  /**
   * The port clients connect to.
   *
   * @return the port on 127.0.0.1
   */
  public int port() {
    return listener.getLocalPort();
  }

  /**
   * How many client connections were accepted so far.
   *
   * @return the count
   */
  public int connectionsAccepted() {
    return accepted.get();
  }

  /**
   * Drops, from now on, every byte of the connections open now in {@code direction}; the sockets
   * stay open. New connections are not affected.
   *
   * @param direction the direction to drop
   */
  public void blackhole(Direction direction) {
    for (Pair p : pairs) {
      if (direction == Direction.UPSTREAM) {
        p.dropUpstream = true;
      } else {
        p.dropDownstream = true;
      }
    }
  }

  /**
   * Loses the reply to the next request: the next bytes any client sends are forwarded to the
   * server, and when the server's first answer on that connection comes back it is dropped and the
   * connection closed. The server has then received (and, for a commit, applied) the request; the
   * client only sees its connection end while it waits: an unknown outcome. Connections opened
   * later are affected too, until one request has gone through.
   */
  public void loseNextReply() {
    loseNext.set(true);
  }

  /**
   * Whether a {@link #loseNextReply()} is still waiting for a request.
   *
   * @return true while armed
   */
  public boolean armed() {
    return loseNext.get();
  }

  /**
   * How many replies {@link #loseNextReply()} dropped so far.
   *
   * @return the count
   */
  public int repliesLost() {
    return repliesLost.get();
  }

  /** Closes every connection open now (both sides see a reset or end of stream). */
  public void cut() {
    for (Pair p : pairs) {
      p.close();
    }
  }

  /** Stops accepting and closes every connection; idempotent. */
  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException e) {
      log.debug("closing proxy listener", e);
    }
    cut();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket();
        try {
          server.connect(target, 5_000);
        } catch (IOException e) {
          client.close();
          server.close();
          continue;
        }
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        accepted.incrementAndGet();
        Pair p = new Pair(client, server);
        pairs.add(p);
        p.start();
      } catch (IOException e) {
        if (!closed) {
          log.debug("proxy accept failed", e);
        }
      }
    }
  }

  private final class Pair {
    final Socket client;
    final Socket server;
    volatile boolean dropUpstream;
    volatile boolean dropDownstream;
    volatile boolean loseReply;

    Pair(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    void start() {
      pump(client, server, true);
      pump(server, client, false);
    }

    private void pump(Socket from, Socket to, boolean upstream) {
      Thread t =
          new Thread(
              () -> {
                byte[] buf = new byte[16 * 1024];
                try (InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream()) {
                  int n;
                  while ((n = in.read(buf)) >= 0) {
                    if (upstream ? dropUpstream : dropDownstream) {
                      continue;
                    }
                    if (!upstream && loseReply) {
                      // The server answered the request: drop the answer, end the connection.
                      repliesLost.incrementAndGet();
                      break;
                    }
                    if (upstream && loseNext.compareAndSet(true, false)) {
                      // Set before forwarding, so that the answer cannot overtake the flag.
                      loseReply = true;
                    }
                    out.write(buf, 0, n);
                    out.flush();
                  }
                } catch (IOException e) {
                  // The other side closed or we were cut: end this pair.
                } finally {
                  close();
                }
              },
              "tcp-proxy-" + (upstream ? "up" : "down"));
      t.setDaemon(true);
      t.start();
    }

    void close() {
      pairs.remove(this);
      try {
        client.close();
      } catch (IOException e) {
        log.debug("closing proxied client socket", e);
      }
      try {
        server.close();
      } catch (IOException e) {
        log.debug("closing proxied server socket", e);
      }
    }
  }
}
