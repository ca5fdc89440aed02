package io.tandem.zookeeper;

import io.tandem.zookeeper.internal.Requests;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.common.PathUtils;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/**
 * The unit of work a {@link ZooKeeperOffsetStore} passes to result writers: a list of ZooKeeper
 * write operations that the store sends in the same {@code multi} as the position updates, so they
 * apply all together or not at all.
 *
 * <p>Append with {@link #add(Op)} or the shorthands. Only write operations ({@code create}, {@code
 * setData}, {@code delete}, {@code check}) may join a {@code multi}; nodes under the store's root
 * belong to the store and are refused. Reads ({@link #exists(String)}, {@link #getData(String,
 * Stat)}, {@link #getChildren(String)}, {@link #stats(Collection)}, {@link #nodes(Collection)}) go
 * to the server at once on the store's session and see committed data, not the operations queued
 * here; pair a read with a version-checked write ({@code setData(path, data, stat.getVersion())})
 * to make a read-modify-write safe: if another writer got there first the {@code multi} fails,
 * nothing applies, and the store runs the writer again on fresh data (see {@link
 * ZooKeeperStoreConfig#commitAttempts()}).
 *
 * <p>Valid only during {@link io.tandem.spi.ResultWriter#write(Object)}; not thread-safe.
 */
public final class ZooKeeperOps {

  private final ZooKeeper zk;
  private final String root;
  private final List<ACL> acl;
  private final long timeoutMs;
  private final int attempt;
  private final List<Op> ops = new ArrayList<>();
  private boolean sealed;

  ZooKeeperOps(ZooKeeper zk, String root, List<ACL> acl, long timeoutMs, int attempt) {
    this.zk = zk;
    this.root = root;
    this.acl = acl;
    this.timeoutMs = timeoutMs;
    this.attempt = attempt;
  }

  /**
   * Which run of the writers this is within one commit: 1 first, more when the previous {@code
   * multi} failed on a result operation (a node created, deleted or changed by someone else) and
   * the store runs the writers again. A writer that trusts something it remembered (say, that a
   * node exists) should look again when this is above 1.
   *
   * @return the attempt, from 1
   */
  public int attempt() {
    return attempt;
  }

  /**
   * Appends a write operation.
   *
   * @param op a {@code create}, {@code setData}, {@code delete} or {@code check} from {@link Op}
   * @return this
   * @throws IllegalArgumentException if {@code op} is a read, its path is invalid, or it touches
   *     the store's root
   * @throws IllegalStateException if the commit already took the operations
   */
  public ZooKeeperOps add(Op op) {
    Objects.requireNonNull(op, "op must not be null");
    if (sealed) {
      throw new IllegalStateException(
          "the commit already sent these operations: add them inside ResultWriter.write");
    }
    if (op.getKind() != Op.OpKind.TRANSACTION) {
      throw new IllegalArgumentException(
          "only write operations can join the commit's multi, got a read of "
              + op.getPath()
              + ": read with exists/getData/getChildren on this handle instead");
    }
    String path = op.getPath();
    boolean create =
        op.getType() == ZooDefs.OpCode.create
            || op.getType() == ZooDefs.OpCode.create2
            || op.getType() == ZooDefs.OpCode.createContainer
            || op.getType() == ZooDefs.OpCode.createTTL;
    // Sequential creates may end in '/'; the server checks the rest.
    PathUtils.validatePath(path, create);
    if (path.equals(root) || path.startsWith(root + "/") || root.startsWith(path + "/")) {
      throw new IllegalArgumentException(
          "result operations must not touch the store's root "
              + root
              + ", its ancestors or anything below it, got "
              + path
              + ": keep results elsewhere");
    }
    ops.add(op);
    return this;
  }

  /**
   * Appends the creation of a persistent node with the store's ACL.
   *
   * @param path the node
   * @param data its data
   * @return this
   */
  public ZooKeeperOps create(String path, byte[] data) {
    return add(Op.create(path, data, acl, org.apache.zookeeper.CreateMode.PERSISTENT));
  }

  /**
   * Appends a data update.
   *
   * @param path the node
   * @param data the new data
   * @param version the version it must have, or -1 for any
   * @return this
   */
  public ZooKeeperOps setData(String path, byte[] data, int version) {
    return add(Op.setData(path, data, version));
  }

  /**
   * Appends a deletion.
   *
   * @param path the node
   * @param version the version it must have, or -1 for any
   * @return this
   */
  public ZooKeeperOps delete(String path, int version) {
    return add(Op.delete(path, version));
  }

  /**
   * Appends a version check: the commit applies only if the node has this version.
   *
   * @param path the node
   * @param version the version it must have
   * @return this
   */
  public ZooKeeperOps check(String path, int version) {
    return add(Op.check(path, version));
  }

  /**
   * The operations appended so far.
   *
   * @return an unmodifiable view
   */
  public List<Op> ops() {
    return Collections.unmodifiableList(ops);
  }

  /**
   * The number of operations appended so far.
   *
   * @return the count
   */
  public int size() {
    return ops.size();
  }

  /**
   * The ACL the store gives the nodes it creates.
   *
   * @return the ACL
   */
  public List<ACL> acl() {
    return acl;
  }

  /**
   * Reads a node's stat now.
   *
   * @param path the node
   * @return its stat, or null if it does not exist
   * @throws KeeperException if ZooKeeper fails the read
   * @throws InterruptedException if interrupted
   */
  public Stat exists(String path) throws KeeperException, InterruptedException {
    return zk.exists(path, false);
  }

  /**
   * Reads a node's data now.
   *
   * @param path the node
   * @param stat filled with the node's stat if not null
   * @return its data, or null if it does not exist
   * @throws KeeperException if ZooKeeper fails the read
   * @throws InterruptedException if interrupted
   */
  public byte[] getData(String path, Stat stat) throws KeeperException, InterruptedException {
    try {
      return zk.getData(path, false, stat);
    } catch (KeeperException.NoNodeException e) {
      return null;
    }
  }

  /**
   * Lists a node's children now.
   *
   * @param path the node
   * @return the child names, or null if it does not exist
   * @throws KeeperException if ZooKeeper fails the read
   * @throws InterruptedException if interrupted
   */
  public List<String> getChildren(String path) throws KeeperException, InterruptedException {
    try {
      return zk.getChildren(path, false);
    } catch (KeeperException.NoNodeException e) {
      return null;
    }
  }

  /**
   * Reads many nodes' stats at once (pipelined: one round trip, not one per node).
   *
   * @param paths the nodes
   * @return the stat of each node that exists; absent ones are missing
   * @throws KeeperException if ZooKeeper fails a read
   * @throws InterruptedException if interrupted
   */
  public Map<String, Stat> stats(Collection<String> paths)
      throws KeeperException, InterruptedException {
    Map<String, Stat> out = new LinkedHashMap<>();
    for (Requests.Reply r : pipelined(Requests::exists, zk, List.copyOf(paths), timeoutMs)) {
      if (found(r)) {
        out.put(r.path(), r.stat());
      }
    }
    return out;
  }

  /**
   * A node read by {@link #nodes(Collection)}.
   *
   * @param data the node's data
   * @param stat the node's stat; its version is what a version-checked write names
   */
  public record Node(byte[] data, Stat stat) {}

  /**
   * Reads many nodes' data and stats at once (pipelined: one round trip, not one per node).
   *
   * @param paths the nodes
   * @return each node that exists; absent ones are missing
   * @throws KeeperException if ZooKeeper fails a read
   * @throws InterruptedException if interrupted
   */
  public Map<String, Node> nodes(Collection<String> paths)
      throws KeeperException, InterruptedException {
    Map<String, Node> out = new LinkedHashMap<>();
    for (Requests.Reply r : pipelined(Requests::getData, zk, List.copyOf(paths), timeoutMs)) {
      if (found(r)) {
        out.put(r.path(), new Node(r.data(), r.stat()));
      }
    }
    return out;
  }

  /** A pipelined read of {@link Requests}, such as {@link Requests#getData}. */
  interface Read {
    List<Requests.Reply> send(ZooKeeper zk, List<String> paths, long timeoutMs)
        throws Requests.Interrupted;
  }

  /**
   * Sends a pipelined read and waits for its replies, one per path in order. An interrupt comes out
   * as the {@link InterruptedException} that this class's callers handle, caused by the wait's.
   */
  static List<Requests.Reply> pipelined(Read read, ZooKeeper zk, List<String> paths, long timeoutMs)
      throws InterruptedException {
    try {
      return read.send(zk, paths, timeoutMs);
    } catch (Requests.Interrupted e) {
      InterruptedException ie = new InterruptedException(e.getMessage());
      ie.initCause(e);
      throw ie;
    }
  }

  /**
   * Whether a read found its node.
   *
   * @return true on {@code OK}, false on {@code NONODE}
   * @throws KeeperException for any other code
   */
  static boolean found(Requests.Reply r) throws KeeperException {
    if (r.ok()) {
      return true;
    }
    if (r.code() != KeeperException.Code.NONODE) {
      throw KeeperException.create(r.code(), r.path());
    }
    return false;
  }

  /** The commit takes the operations: later appends are refused. */
  List<Op> seal() {
    sealed = true;
    return List.copyOf(ops);
  }
}
