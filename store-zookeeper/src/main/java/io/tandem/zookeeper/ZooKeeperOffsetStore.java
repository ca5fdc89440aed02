package io.tandem.zookeeper;

import io.tandem.spi.BatchTooLargeException;
import io.tandem.spi.Capabilities;
import io.tandem.spi.Guarantee;
import io.tandem.spi.InvalidBatchException;
import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.OffsetStoreException;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreAccessDeniedException;
import io.tandem.spi.StoreArguments;
import io.tandem.spi.StoreConfigurationException;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.spi.support.Conflicts;
import io.tandem.spi.support.ReadBack;
import io.tandem.zookeeper.internal.NodeNames;
import io.tandem.zookeeper.internal.Requests;
import io.tandem.zookeeper.internal.Requests.MultiReply;
import io.tandem.zookeeper.internal.Requests.Reply;
import io.tandem.zookeeper.internal.Session;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offsets in ZooKeeper, committed with results in one {@code multi}.
 *
 * <p><b>Layout.</b> A persistent znode per partition, {@code <root>/<group>/<topic>/<partition>},
 * whose data is the position as decimal ASCII. Group and topic names are escaped so that any name
 * (slashes, dots, {@code .}, {@code ..}, {@code zookeeper}, unicode) is one legal znode name and
 * decodes back: {@code [A-Za-z0-9._-]} stay as they are, every other byte of the UTF-8 form becomes
 * {@code %XX}, and a leading dot is escaped.
 *
 * <p><b>Commit.</b> Read the data and version of every range's node (pipelined); compare every
 * stored position with its range's {@code from} and report every mismatch (a missing node is
 * "missing") in one {@link OffsetConflictException} before anything is sent. Else the writer
 * appends its operations to a {@link ZooKeeperOps}, and one {@code multi} carries a {@code
 * setData(node, until, version)} per range followed by the writer's operations. ZooKeeper applies a
 * {@code multi} all or nothing; the version check makes it fail if any position changed since it
 * was read. The request's exact serialized size is checked against the servers' {@code
 * jute.maxbuffer} first: a server closes the connection on a larger packet, so an oversized batch
 * is refused with {@link BatchTooLargeException} and never split.
 *
 * <p><b>Guarantee.</b> {@link Guarantee#TRANSACTIONAL}, atomic across partitions. Durable: a
 * ZooKeeper server acknowledges a write after it is fsynced to its transaction log on a quorum
 * ({@code forceSync=yes}, the default). A server run with {@code forceSync=no} (or {@code
 * zookeeper.forceSync=no}) can lose acknowledged commits on a power loss or machine crash.
 *
 * <p><b>Failures.</b> Connection loss, operation timeouts and session expiry are {@link
 * StoreUnavailableException} (retriable); an expired session is replaced by a new one on the next
 * call. Authentication and ACL refusals are {@link StoreConfigurationException}. When the reply to
 * the commit's {@code multi} is lost (connection loss or expiry after sending), the outcome is
 * resolved by reading the positions back after a {@code sync}: every position at {@code until}
 * means the commit applied (it returns normally); every position still at {@code from} with the
 * version read before sending means it did not (unavailable, safe to retry). Reading back is sound
 * because every applied {@code setData} moves the node's version: the lost {@code multi} names the
 * versions read before it, so if it has not applied by the read-back, it can never apply on top of
 * a later commit, whose own {@code setData} moves the versions past the ones it expects.
 *
 * <p>Thread-safe; one ZooKeeper session per store.
 */
public final class ZooKeeperOffsetStore implements OffsetStore<ZooKeeperOps> {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperOffsetStore.class);

  /** The largest reply this client reads: a multi's results, a long child list. */
  private static final int CLIENT_MAX_PACKET = 64 * 1024 * 1024;

  private final ZooKeeperStoreConfig config;
  private final Session session;
  private final String root;
  private final String where;
  private final long replyTimeoutMs;
  private final long requestLimit;
  private final Capabilities capabilities;
  private final AtomicBoolean closed = new AtomicBoolean();

  private ZooKeeperOffsetStore(ZooKeeperStoreConfig config, Session session) {
    this.config = config;
    this.session = session;
    this.root = config.root();
    this.where = config.connectString() + root;
    // A reply comes or the client declares the connection lost within 2/3 of the session
    // timeout; the margin covers a reconnection the client attempts meanwhile.
    this.replyTimeoutMs = config.sessionTimeout().toMillis() + config.connectTimeout().toMillis();
    this.requestLimit = (long) config.juteMaxBuffer() - ZooKeeperStoreConfig.HEADROOM_BYTES;
    this.capabilities =
        new Capabilities(
            Guarantee.TRANSACTIONAL,
            true,
            config.maxRangesPerCommit(),
            true,
            "ZooKeeper "
                + where
                + ": one multi of version-checked setData per position plus the result ops;"
                + " requests up to "
                + requestLimit
                + " bytes (jute.maxbuffer "
                + config.juteMaxBuffer()
                + "); durable while the servers fsync their transaction log (forceSync=yes,"
                + " ZooKeeper's default)");
  }

  /**
   * Connects, creates the root node if absent, and returns a store ready to use.
   *
   * @param config the configuration
   * @return the open store; the caller closes it
   * @throws StoreUnavailableException if no server answers within the connect timeout
   * @throws StoreConfigurationException if the server refuses the credentials or the root
   */
  public static ZooKeeperOffsetStore open(ZooKeeperStoreConfig config) {
    Session session;
    try {
      session =
          new Session(
              config.connectString(),
              (int) config.sessionTimeout().toMillis(),
              config.connectTimeout().toMillis(),
              CLIENT_MAX_PACKET,
              config.digest(),
              config.connectString());
    } catch (Session.ConnectTimeout e) {
      throw new StoreUnavailableException(
          e.getMessage() + ". Is ZooKeeper running and reachable? Check the connect string.", e);
    } catch (IOException | IllegalArgumentException e) {
      throw new StoreConfigurationException(
          "Cannot create a ZooKeeper client for " + config.connectString() + ": " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("Interrupted while connecting to ZooKeeper", e);
    }
    ZooKeeperOffsetStore store = new ZooKeeperOffsetStore(config, session);
    try {
      store.ensurePath(config.root());
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
    log.info("ZooKeeper offset store open on {}", config);
    return store;
  }

  /**
   * Creates the root node and its ancestors where they are missing. {@link #open} already did;
   * calling it again restores a root an administrator removed. Idempotent; stored positions stay.
   *
   * @throws StoreUnavailableException if no server answers
   * @throws StoreConfigurationException if the server refuses the credentials or the ACL
   */
  @Override
  public void prepare() {
    checkOpen();
    ensurePath(root);
  }

  /**
   * The configuration this store was opened with.
   *
   * @return the configuration
   */
  public ZooKeeperStoreConfig config() {
    return config;
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public Class<ZooKeeperOps> handleType() {
    return ZooKeeperOps.class;
  }

  // ---------------------------------------------------------------------------------------------
  // Positions

  @Override
  public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
    StoreArguments.group(group);
    List<Partition> ps = StoreArguments.partitions(partitions);
    if (ps.isEmpty()) {
      return Map.of();
    }
    List<String> paths = positionPaths(group, ps);
    return call(
        "read positions of group '" + group + "'",
        zk -> readPositions(zk, ps, paths, new LinkedHashMap<>()));
  }

  @Override
  public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
    StoreArguments.group(group);
    Map<Partition, Long> sorted = StoreArguments.positions(starts);
    if (sorted.isEmpty()) {
      return Map.of();
    }
    List<Partition> ps = new ArrayList<>(sorted.keySet());
    List<String> paths = positionPaths(group, ps);
    return call(
        "initialize positions of group '" + group + "'",
        zk -> {
          // A delete of the same group may remove a parent between our create of it and the
          // position's create (NONODE): create parents again and retry, a bounded number of times.
          for (int round = 0; ; round++) {
            List<Reply> current = readData(zk, paths);
            List<Integer> missing = new ArrayList<>();
            Map<Partition, Long> out = new LinkedHashMap<>();
            for (int i = 0; i < ps.size(); i++) {
              Reply r = current.get(i);
              if (r.ok()) {
                out.put(ps.get(i), parsePosition(r.path(), r.data()));
              } else if (r.code() == Code.NONODE) {
                missing.add(i);
              } else {
                throw new Failed(r.code(), r.path());
              }
            }
            if (missing.isEmpty()) {
              return out;
            }
            if (round == 3) {
              throw new Failed(Code.NONODE, paths.get(missing.get(0)));
            }
            List<Partition> toCreate = missing.stream().map(ps::get).collect(Collectors.toList());
            createParents(zk, group, toCreate);
            List<String> createPaths = new ArrayList<>();
            List<byte[]> createData = new ArrayList<>();
            for (int i : missing) {
              createPaths.add(paths.get(i));
              createData.add(positionBytes(sorted.get(ps.get(i))));
            }
            List<Reply> created =
                Requests.create(zk, createPaths, createData, config.acl(), replyTimeoutMs);
            for (Reply r : created) {
              // NODEEXISTS: another instance initialized it first; its value wins (read above
              // on the next round). NONODE: a parent vanished; the next round recreates it.
              if (!r.ok() && r.code() != Code.NODEEXISTS && r.code() != Code.NONODE) {
                throw new Failed(r.code(), r.path());
              }
            }
          }
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Commit

  @Override
  public void commit(
      String group, Collection<OffsetRange> ranges, ResultWriter<ZooKeeperOps> results) {
    StoreArguments.group(group);
    List<OffsetRange> sorted = StoreArguments.ranges(ranges, config.maxRangesPerCommit());
    StoreArguments.results(results);
    checkOpen();
    List<Partition> ps = sorted.stream().map(OffsetRange::partition).collect(Collectors.toList());
    List<String> paths = positionPaths(group, ps);
    for (int attempt = 1; ; attempt++) {
      List<Reply> before = readForCommit(group, paths);
      ZooKeeper zk = client();
      List<Conflict> conflicts = conflicts(sorted, before);
      if (!conflicts.isEmpty()) {
        log.debug("Commit of group '{}' conflicts: {}", group, conflicts);
        throw new OffsetConflictException(group, conflicts);
      }

      List<Op> ops = new ArrayList<>(sorted.size() + 8);
      for (int i = 0; i < sorted.size(); i++) {
        ops.add(
            Op.setData(
                paths.get(i),
                positionBytes(sorted.get(i).until()),
                before.get(i).stat().getVersion()));
      }
      ZooKeeperOps handle = new ZooKeeperOps(zk, root, config.acl(), replyTimeoutMs, attempt);
      try {
        results.write(handle);
      } catch (Exception e) {
        throw new ResultWriteException(
            "The result writer of a commit of group '"
                + group
                + "' ("
                + describe(sorted)
                + ") threw; nothing was committed",
            e);
      }
      List<Op> resultOps = handle.seal();
      ops.addAll(resultOps);
      checkSize(group, sorted.size(), resultOps.size(), ops);

      MultiReply reply = Requests.multi(zk, ops, replyTimeoutMs);
      if (reply.code() == Code.OK) {
        log.debug(
            "Committed group '{}': {} with {} result op(s)",
            group,
            describe(sorted),
            resultOps.size());
        return;
      }
      if (unknownOutcome(reply.code())) {
        resolveUnknown(group, sorted, paths, before, reply.code());
        return;
      }
      int failing = failingOp(reply);
      Code code = failing >= 0 ? failingCode(reply, failing) : reply.code();
      if (failing >= 0 && failing < sorted.size()) {
        if (code == Code.BADVERSION || code == Code.NONODE) {
          // A position changed (or vanished) between our read and the multi: report what
          // stands now. If every value still equals `from` only its version moved (written
          // and set back): run again on the fresh versions.
          List<Reply> now = readForCommit(group, paths);
          List<Conflict> late = conflicts(sorted, now);
          if (!late.isEmpty()) {
            log.debug("Commit of group '{}' lost a race: {}", group, late);
            throw new OffsetConflictException(group, late);
          }
          if (attempt < config.commitAttempts()) {
            log.debug(
                "Commit of group '{}': {} moved its version, value unchanged; attempt {}",
                group,
                ps.get(failing),
                attempt + 1);
            continue;
          }
          throw new StoreUnavailableException(
              "Commit of group '"
                  + group
                  + "' failed "
                  + attempt
                  + " times because the versions of its positions kept changing while their"
                  + " values stayed; another writer is rewriting them. Nothing was committed;"
                  + " retry.",
              KeeperException.create(code, paths.get(failing)));
        }
        throw failure(code, "commit positions of group '" + group + "'", paths.get(failing));
      }
      if (failing >= sorted.size()) {
        Op op = ops.get(failing);
        int index = failing - sorted.size();
        if (raceCode(code) && attempt < config.commitAttempts()) {
          log.debug(
              "Commit of group '{}': result op #{} on {} failed with {}; attempt {}",
              group,
              index,
              op.getPath(),
              code,
              attempt + 1);
          continue;
        }
        throw new ResultWriteException(
            "Result operation #"
                + index
                + " ("
                + opName(op)
                + " "
                + op.getPath()
                + ") of a commit of group '"
                + group
                + "' failed on the server with "
                + code
                + (raceCode(code)
                    ? " after " + attempt + " attempt(s) (another writer changes the same nodes)"
                    : "")
                + "; nothing was committed",
            KeeperException.create(code, op.getPath()));
      }
      // No per-op result: the client refused the request before sending (an invalid op).
      throw failure(reply.code(), "commit of group '" + group + "'", null);
    }
  }

  private List<Reply> readForCommit(String group, List<String> paths) {
    return call(
        "read positions of group '" + group + "'",
        zk -> {
          List<Reply> replies = readData(zk, paths);
          for (Reply r : replies) {
            if (!r.ok() && r.code() != Code.NONODE) {
              throw new Failed(r.code(), r.path());
            }
          }
          return replies;
        });
  }

  private List<Conflict> conflicts(List<OffsetRange> ranges, List<Reply> stored) {
    return Conflicts.ofParallel(ranges, positionsOf(stored));
  }

  /** The position each reply read, null where the node does not exist. */
  private List<Long> positionsOf(List<Reply> replies) {
    List<Long> out = new ArrayList<>(replies.size());
    for (Reply r : replies) {
      out.add(r.ok() ? parsePosition(r.path(), r.data()) : null);
    }
    return out;
  }

  private void checkSize(String group, int rangeCount, int resultCount, List<Op> ops) {
    long bytes = Requests.multiRequestBytes(ops);
    if (bytes > requestLimit) {
      throw new BatchTooLargeException(
          "A commit of group '"
              + group
              + "' would send a ZooKeeper request of "
              + bytes
              + " bytes ("
              + rangeCount
              + " position update(s) and "
              + resultCount
              + " result op(s)); the limit is "
              + requestLimit
              + " bytes (the servers' jute.maxbuffer "
              + config.juteMaxBuffer()
              + " minus "
              + ZooKeeperStoreConfig.HEADROOM_BYTES
              + " bytes of headroom). Nothing was sent. Commit fewer partitions or smaller"
              + " results per call, or raise jute.maxbuffer on every server and client and set"
              + " juteMaxBuffer to match.");
    }
  }

  /**
   * The reply to the multi was lost: find out from the stored positions whether it applied.
   *
   * <p>Waits for the session to reconnect (or opens a new one after expiry), {@code sync}s so the
   * server has every committed write, and reads. All positions at {@code until}: applied (or an
   * identical commit of another instance applied; either way the records of these ranges have been
   * committed exactly once). All at {@code from} with unchanged versions: not applied, and it can
   * never apply later because any later commit moves the versions it names. Anything else: someone
   * else moved them; the outcome is reported unknown.
   */
  private void resolveUnknown(
      String group, List<OffsetRange> ranges, List<String> paths, List<Reply> before, Code code) {
    String what = "commit of group '" + group + "' (" + describe(ranges) + ")";
    log.warn(
        "ZooKeeper answered {} to the {}; reading positions back to learn its outcome", code, what);
    long deadline = System.nanoTime() + config.connectTimeout().toNanos();
    List<Reply> after = null;
    KeeperException.Code last = code;
    while (after == null) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      try {
        if (left <= 0 || !session.awaitConnected(left)) {
          break;
        }
        ZooKeeper zk = client();
        Code synced = Requests.sync(zk, root, replyTimeoutMs);
        if (synced != Code.OK) {
          last = synced;
          continue;
        }
        List<Reply> replies = readData(zk, paths);
        Optional<Reply> failed =
            replies.stream().filter(r -> !r.ok() && r.code() != Code.NONODE).findFirst();
        if (failed.isPresent()) {
          last = failed.get().code();
          if (!unknownOutcome(last)) {
            throw failure(last, "read back positions after a lost reply", failed.get().path());
          }
          continue;
        }
        after = replies;
      } catch (InterruptedException | Requests.Interrupted e) {
        Thread.currentThread().interrupt();
        throw new StoreUnavailableException(
            "Interrupted while learning the outcome of a "
                + what
                + "; it is unknown."
                + " Re-read positions before going on.",
            e);
      }
    }
    if (after == null) {
      throw new StoreUnavailableException(
          "The reply to a "
              + what
              + " was lost ("
              + code
              + ") and ZooKeeper "
              + where
              + " could not be read back within "
              + config.connectTimeout().toMillis()
              + " ms (last: "
              + last
              + "): the outcome is unknown. Re-read positions before going on.",
          KeeperException.create(code));
    }
    List<Long> positions = positionsOf(after);
    List<Reply> read = after;
    // An empty range (from == until) reads the same either way: the node's version tells, since
    // every applied setData moves it.
    ReadBack.Verdict verdict =
        ReadBack.ofCommit(
            ranges,
            positions,
            i ->
                read.get(i).ok()
                    && read.get(i).stat().getVersion() == before.get(i).stat().getVersion());
    List<String> now = new ArrayList<>();
    for (int i = 0; i < ranges.size(); i++) {
      Long pos = positions.get(i);
      now.add(ranges.get(i).partition() + "=" + (pos == null ? "none" : pos));
    }
    if (verdict == ReadBack.Verdict.APPLIED) {
      log.warn("The {} applied: read back after {} shows every position at its until", what, code);
      return;
    }
    if (verdict == ReadBack.Verdict.NOT_APPLIED) {
      throw new StoreUnavailableException(
          "Connection to ZooKeeper "
              + where
              + " lost during a "
              + what
              + " ("
              + code
              + "); read back shows it did not apply: nothing was committed. Retry.",
          KeeperException.create(code));
    }
    throw new StoreUnavailableException(
        "Connection to ZooKeeper "
            + where
            + " lost during a "
            + what
            + " ("
            + code
            + "); positions now "
            + String.join(", ", now)
            + " were moved by another writer, so whether this commit applied is unknown."
            + " Re-read positions before going on.",
        KeeperException.create(code));
  }

  private static boolean unknownOutcome(Code code) {
    return code == Code.CONNECTIONLOSS
        || code == Code.SESSIONEXPIRED
        || code == Code.OPERATIONTIMEOUT
        || code == Code.REQUESTTIMEOUT
        || code == Code.SESSIONMOVED;
  }

  /** Codes of a result op that a fresh read may resolve (another writer changed the node). */
  private static boolean raceCode(Code code) {
    return code == Code.NODEEXISTS
        || code == Code.NONODE
        || code == Code.BADVERSION
        || code == Code.NOTEMPTY;
  }

  /**
   * The index of the op that failed a multi: the first {@link OpResult.ErrorResult} whose error is
   * neither 0 (ran, rolled back) nor {@code RUNTIMEINCONSISTENCY} (not run because an earlier op
   * failed); verified on ZooKeeper 3.9.4 (RECIPES.md).
   */
  static int failingOp(MultiReply reply) {
    List<OpResult> results = reply.results();
    if (results == null) {
      return -1;
    }
    for (int i = 0; i < results.size(); i++) {
      if (results.get(i) instanceof OpResult.ErrorResult e
          && e.getErr() != 0
          && e.getErr() != Code.RUNTIMEINCONSISTENCY.intValue()) {
        return i;
      }
    }
    return -1;
  }

  private static Code failingCode(MultiReply reply, int index) {
    return Code.get(((OpResult.ErrorResult) reply.results().get(index)).getErr());
  }

  private static String opName(Op op) {
    return switch (op.getType()) {
      case org.apache.zookeeper.ZooDefs.OpCode.create,
          org.apache.zookeeper.ZooDefs.OpCode.create2,
          org.apache.zookeeper.ZooDefs.OpCode.createContainer,
          org.apache.zookeeper.ZooDefs.OpCode.createTTL ->
          "create";
      case org.apache.zookeeper.ZooDefs.OpCode.setData -> "setData";
      case org.apache.zookeeper.ZooDefs.OpCode.delete -> "delete";
      case org.apache.zookeeper.ZooDefs.OpCode.check -> "check";
      default -> "op " + op.getType();
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Administration

  @Override
  public Set<String> groups() {
    return call(
        "list groups",
        zk -> {
          List<Reply> rootReply = readChildren(zk, List.of(root));
          Reply r = rootReply.get(0);
          if (!found(r)) {
            return Set.of();
          }
          List<String> groupNames = new ArrayList<>();
          List<String> groupPaths = new ArrayList<>();
          for (String child : r.children()) {
            Optional<String> name = NodeNames.decode(child);
            if (name.isPresent()) {
              groupNames.add(name.get());
              groupPaths.add(root + "/" + child);
            } else {
              log.debug("Ignoring foreign node {}/{}", root, child);
            }
          }
          List<Reply> topics = readChildren(zk, groupPaths);
          List<String> topicPaths = new ArrayList<>();
          List<Integer> owner = new ArrayList<>();
          for (int i = 0; i < topics.size(); i++) {
            Reply t = topics.get(i);
            if (!found(t)) {
              continue;
            }
            for (String topic : t.children()) {
              topicPaths.add(t.path() + "/" + topic);
              owner.add(i);
            }
          }
          // A group is listed only if some topic node has a position under it: an emptied group
          // (or one whose initialize was cut short) has nodes but no position.
          List<Reply> stats = readData(zk, topicPaths);
          Set<String> out = new TreeSet<>();
          for (int i = 0; i < stats.size(); i++) {
            Reply s = stats.get(i);
            if (found(s) && s.stat().getNumChildren() > 0) {
              out.add(groupNames.get(owner.get(i)));
            }
          }
          return out;
        });
  }

  @Override
  public Map<Partition, Long> positions(String group) {
    StoreArguments.group(group);
    return call(
        "read positions of group '" + group + "'",
        zk -> {
          Map<Partition, String> tree = tree(zk, group);
          return readPositions(
              zk, new ArrayList<>(tree.keySet()), new ArrayList<>(tree.values()), new TreeMap<>());
        });
  }

  /**
   * Reads the position node of each partition ({@code paths.get(i)} is that of {@code ps.get(i)})
   * into {@code out}; a partition without a node is left out.
   */
  private Map<Partition, Long> readPositions(
      ZooKeeper zk, List<Partition> ps, List<String> paths, Map<Partition, Long> out)
      throws Failed, Requests.Interrupted {
    List<Reply> replies = readData(zk, paths);
    for (int i = 0; i < ps.size(); i++) {
      Reply r = replies.get(i);
      if (found(r)) {
        out.put(ps.get(i), parsePosition(r.path(), r.data()));
      }
    }
    return out;
  }

  @Override
  public void overwrite(String group, Map<Partition, Long> positions) {
    StoreArguments.group(group);
    Map<Partition, Long> sorted = StoreArguments.positions(positions);
    if (sorted.isEmpty()) {
      return;
    }
    List<Partition> ps = new ArrayList<>(sorted.keySet());
    List<String> paths = positionPaths(group, ps);
    String what = "overwrite positions of group '" + group + "'";
    for (int attempt = 1; ; attempt++) {
      ZooKeeper zk = client();
      List<Reply> stats;
      try {
        createParents(zk, group, ps);
        stats = readData(zk, paths);
      } catch (Failed f) {
        throw failure(f.code, what, f.path);
      } catch (Requests.Interrupted e) {
        throw interrupted(what, e);
      }
      List<Op> ops = new ArrayList<>(ps.size());
      for (int i = 0; i < ps.size(); i++) {
        Reply s = stats.get(i);
        byte[] data = positionBytes(sorted.get(ps.get(i)));
        if (s.ok()) {
          ops.add(Op.setData(paths.get(i), data, -1));
        } else if (s.code() == Code.NONODE) {
          ops.add(Op.create(paths.get(i), data, config.acl(), CreateMode.PERSISTENT));
        } else {
          throw failure(s.code(), what, s.path());
        }
      }
      long bytes = Requests.multiRequestBytes(ops);
      if (bytes > requestLimit) {
        throw new BatchTooLargeException(
            "Overwriting "
                + ps.size()
                + " positions of group '"
                + group
                + "' needs a ZooKeeper request of "
                + bytes
                + " bytes; the limit is "
                + requestLimit
                + ". Nothing was written. Overwrite fewer partitions per call.");
      }
      MultiReply reply = Requests.multi(zk, ops, replyTimeoutMs);
      if (reply.code() == Code.OK) {
        log.info("Overwrote {} position(s) of group '{}'", ps.size(), group);
        return;
      }
      int failing = failingOp(reply);
      Code code = failing >= 0 ? failingCode(reply, failing) : reply.code();
      if ((code == Code.NODEEXISTS || code == Code.NONODE) && attempt < config.commitAttempts()) {
        continue; // a concurrent initialize or delete: look again
      }
      if (unknownOutcome(code)) {
        // Outcome unknown: an overwrite is idempotent, so the caller may simply repeat it.
        throw failure(code, what + " (outcome unknown: repeat the overwrite)", null);
      }
      throw failure(code, what, failing >= 0 ? ops.get(failing).getPath() : null);
    }
  }

  @Override
  public boolean delete(String group) {
    StoreArguments.group(group);
    String what = "delete group '" + group + "'";
    for (int attempt = 1; ; attempt++) {
      ZooKeeper zk = client();
      Map<Partition, String> tree;
      List<String> topicPaths;
      try {
        tree = tree(zk, group);
        List<Reply> topics = readChildren(zk, List.of(groupPath(group)));
        if (topics.get(0).code() == Code.NONODE) {
          return false;
        }
        if (!topics.get(0).ok()) {
          throw new Failed(topics.get(0).code(), groupPath(group));
        }
        topicPaths = new ArrayList<>();
        for (String t : topics.get(0).children()) {
          topicPaths.add(groupPath(group) + "/" + t);
        }
      } catch (Failed f) {
        throw failure(f.code, what, f.path);
      } catch (Requests.Interrupted e) {
        throw interrupted(what, e);
      }
      // Children before parents. Foreign nodes under the group (not ours) make the group
      // delete fail with NOTEMPTY: they are reported, not removed.
      List<Op> ops = new ArrayList<>();
      tree.values().forEach(p -> ops.add(Op.delete(p, -1)));
      topicPaths.forEach(t -> ops.add(Op.delete(t, -1)));
      ops.add(Op.delete(groupPath(group), -1));
      MultiReply reply;
      if (Requests.multiRequestBytes(ops) <= requestLimit) {
        reply = Requests.multi(zk, ops, replyTimeoutMs);
      } else {
        // Too many nodes for one request: delete in chunks, positions first. Not atomic; a crash
        // midway leaves some positions, and deleting again finishes the job.
        log.info(
            "Deleting group '{}' ({} positions) in several requests: too large for one",
            group,
            tree.size());
        reply = deleteInChunks(zk, ops);
      }
      if (reply.code() == Code.OK) {
        log.info("Deleted group '{}' ({} position(s))", group, tree.size());
        return !tree.isEmpty();
      }
      int failing = failingOp(reply);
      Code code = failing >= 0 ? failingCode(reply, failing) : reply.code();
      if ((code == Code.NOTEMPTY || code == Code.NONODE) && attempt < config.commitAttempts()) {
        continue; // positions created or deleted meanwhile: list again
      }
      throw failure(code, what, failing >= 0 ? ops.get(failing).getPath() : null);
    }
  }

  private MultiReply deleteInChunks(ZooKeeper zk, List<Op> ops) {
    List<Op> chunk = new ArrayList<>();
    long budget = requestLimit - 64;
    long size = 16;
    for (Op op : ops) {
      long opSize = Requests.multiRequestBytes(List.of(op));
      if (!chunk.isEmpty() && size + opSize > budget) {
        MultiReply r = Requests.multi(zk, chunk, replyTimeoutMs);
        if (r.code() != Code.OK) {
          return r;
        }
        chunk = new ArrayList<>();
        size = 16;
      }
      chunk.add(op);
      size += opSize;
    }
    return Requests.multi(zk, chunk, replyTimeoutMs);
  }

  @Override
  public int delete(String group, Collection<Partition> partitions) {
    StoreArguments.group(group);
    List<Partition> ps = StoreArguments.partitions(partitions);
    if (ps.isEmpty()) {
      return 0;
    }
    List<String> paths = positionPaths(group, ps);
    String what = "delete positions of group '" + group + "'";
    for (int attempt = 1; ; attempt++) {
      ZooKeeper zk = client();
      List<Reply> stats;
      try {
        stats = readData(zk, paths);
      } catch (Requests.Interrupted e) {
        throw interrupted(what, e);
      }
      List<Op> ops = new ArrayList<>();
      for (Reply s : stats) {
        if (s.ok()) {
          ops.add(Op.delete(s.path(), -1));
        } else if (s.code() != Code.NONODE) {
          throw failure(s.code(), what, s.path());
        }
      }
      if (ops.isEmpty()) {
        return 0;
      }
      MultiReply reply =
          Requests.multiRequestBytes(ops) <= requestLimit
              ? Requests.multi(zk, ops, replyTimeoutMs)
              : deleteInChunks(zk, ops);
      if (reply.code() == Code.OK) {
        removeEmptyParents(zk, group, ps);
        log.info("Deleted {} position(s) of group '{}'", ops.size(), group);
        return ops.size();
      }
      int failing = failingOp(reply);
      Code code = failing >= 0 ? failingCode(reply, failing) : reply.code();
      if (code == Code.NONODE && attempt < config.commitAttempts()) {
        continue; // deleted meanwhile by someone else: count again
      }
      throw failure(code, what, failing >= 0 ? ops.get(failing).getPath() : null);
    }
  }

  /** Best effort: an emptied topic or group node goes, so the tree does not keep dead branches. */
  private void removeEmptyParents(ZooKeeper zk, String group, List<Partition> ps) {
    Set<String> topics = new LinkedHashSet<>();
    ps.forEach(p -> topics.add(topicPath(group, p.topic())));
    List<String> all = new ArrayList<>(topics);
    all.add(groupPath(group));
    for (String path : all) {
      try {
        zk.delete(path, -1);
      } catch (KeeperException e) {
        // NOTEMPTY: still in use. NONODE: gone already. Anything else: harmless leftover.
        log.trace("Kept {}: {}", path, e.code());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      session.close();
      log.info("ZooKeeper offset store on {} closed", where);
    }
  }

  /** The current session id, for tests that expire it. */
  long sessionId() {
    return session.sessionId();
  }

  /** The current client, for tests that take over its session. */
  ZooKeeper clientForTests() {
    return client();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** Every position node of a group: partition to path. Foreign nodes are skipped. */
  private Map<Partition, String> tree(ZooKeeper zk, String group)
      throws Failed, Requests.Interrupted {
    String groupPath = groupPath(group);
    // The reply names the path asked for: groupPath.
    Reply topics = readChildren(zk, List.of(groupPath)).get(0);
    if (!found(topics)) {
      return Map.of();
    }
    List<String> topicNames = new ArrayList<>();
    List<String> topicPaths = new ArrayList<>();
    for (String child : topics.children()) {
      Optional<String> topic = NodeNames.decode(child);
      if (topic.isPresent() && validTopic(topic.get())) {
        topicNames.add(topic.get());
        topicPaths.add(groupPath + "/" + child);
      } else {
        log.debug("Ignoring foreign node {}/{}", groupPath, child);
      }
    }
    List<Reply> partitions = readChildren(zk, topicPaths);
    Map<Partition, String> out = new TreeMap<>();
    for (int i = 0; i < partitions.size(); i++) {
      Reply r = partitions.get(i);
      if (!found(r)) {
        continue;
      }
      for (String child : r.children()) {
        Integer number = partitionNumber(child);
        if (number == null) {
          log.debug("Ignoring foreign node {}/{}", r.path(), child);
          continue;
        }
        out.put(new Partition(topicNames.get(i), number), r.path() + "/" + child);
      }
    }
    return out;
  }

  /**
   * Whether a read found its node: true on {@code OK}, false on {@code NONODE}.
   *
   * @throws Failed for any other code, naming the reply's path
   */
  private static boolean found(Reply r) throws Failed {
    if (r.ok()) {
      return true;
    }
    if (r.code() != Code.NONODE) {
      throw new Failed(r.code(), r.path());
    }
    return false;
  }

  private static boolean validTopic(String topic) {
    return !topic.isEmpty() && topic.length() <= Partition.MAX_TOPIC_LENGTH;
  }

  private static Integer partitionNumber(String child) {
    if (child.isEmpty() || child.length() > 10 || (child.length() > 1 && child.charAt(0) == '0')) {
      return null;
    }
    for (int i = 0; i < child.length(); i++) {
      if (child.charAt(i) < '0' || child.charAt(i) > '9') {
        return null;
      }
    }
    long n = Long.parseLong(child);
    return n > Integer.MAX_VALUE ? null : (int) n;
  }

  private void createParents(ZooKeeper zk, String group, List<Partition> ps)
      throws Failed, Requests.Interrupted {
    List<String> parents = new ArrayList<>();
    parents.add(groupPath(group));
    new TreeSet<>(ps.stream().map(Partition::topic).collect(Collectors.toSet()))
        .forEach(t -> parents.add(topicPath(group, t)));
    // The group first, then its topics: a topic's create needs the group node.
    for (List<String> level : List.of(parents.subList(0, 1), parents.subList(1, parents.size()))) {
      List<byte[]> empty = level.stream().map(p -> new byte[0]).collect(Collectors.toList());
      for (Reply r : Requests.create(zk, level, empty, config.acl(), replyTimeoutMs)) {
        if (r.code() == Code.NONODE) {
          // The root went away (an administrator removed it): recreate it and try once more.
          ensurePath(root);
          Reply again =
              Requests.create(
                      zk, List.of(r.path()), List.of(new byte[0]), config.acl(), replyTimeoutMs)
                  .get(0);
          if (!again.ok() && again.code() != Code.NODEEXISTS) {
            throw new Failed(again.code(), again.path());
          }
        } else if (!r.ok() && r.code() != Code.NODEEXISTS) {
          throw new Failed(r.code(), r.path());
        }
      }
    }
  }

  /** Creates a path and its ancestors if absent (NODEEXISTS is fine: another instance did). */
  private void ensurePath(String path) {
    List<String> prefixes = new ArrayList<>();
    for (int i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) {
      prefixes.add(path.substring(0, i));
    }
    prefixes.add(path);
    call(
        "create root " + path,
        zk -> {
          for (String p : prefixes) {
            Reply r =
                Requests.create(zk, List.of(p), List.of(new byte[0]), config.acl(), replyTimeoutMs)
                    .get(0);
            if (!r.ok() && r.code() != Code.NODEEXISTS) {
              throw new Failed(r.code(), p);
            }
          }
          return null;
        });
  }

  /** Reads of small nodes: up to 1000 per read multi, each request well under the limit. */
  private List<Reply> readData(ZooKeeper zk, List<String> paths) throws Requests.Interrupted {
    return Requests.readData(zk, paths, 1000, Math.min(requestLimit, 256 * 1024), replyTimeoutMs);
  }

  /** Child lists may be long (a topic of 10 000 partitions): few per read multi. */
  private List<Reply> readChildren(ZooKeeper zk, List<String> paths) throws Requests.Interrupted {
    return Requests.readChildren(zk, paths, 32, Math.min(requestLimit, 256 * 1024), replyTimeoutMs);
  }

  private String groupPath(String group) {
    return root + "/" + encode(group, "group");
  }

  private String topicPath(String group, String topic) {
    return groupPath(group) + "/" + encode(topic, "topic");
  }

  private List<String> positionPaths(String group, List<Partition> ps) {
    String groupPath = groupPath(group);
    Map<String, String> topicPaths = new HashMap<>();
    List<String> out = new ArrayList<>(ps.size());
    for (Partition p : ps) {
      String topicPath =
          topicPaths.computeIfAbsent(p.topic(), t -> groupPath + "/" + encode(t, "topic"));
      out.add(topicPath + "/" + p.partition());
    }
    return out;
  }

  private static String encode(String name, String kind) {
    try {
      return NodeNames.encode(name);
    } catch (IllegalArgumentException e) {
      throw new InvalidBatchException(kind + " '" + name + "' cannot be stored: " + e.getMessage());
    }
  }

  private static byte[] positionBytes(long position) {
    return Long.toString(position).getBytes(StandardCharsets.US_ASCII);
  }

  private static long parsePosition(String path, byte[] data) {
    String text = data == null ? "" : new String(data, StandardCharsets.US_ASCII);
    try {
      long value = Long.parseLong(text);
      if (value >= 0 && !text.startsWith("+")) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new OffsetStoreException(
        "ZooKeeper node "
            + path
            + " holds '"
            + (text.length() > 40 ? text.substring(0, 40) + "..." : text)
            + "', not a position (a decimal number >= 0). Something other than Tandem wrote it;"
            + " fix it with an overwrite.");
  }

  private static String describe(List<OffsetRange> ranges) {
    if (ranges.size() <= 3) {
      return ranges.stream().map(OffsetRange::toString).collect(Collectors.joining(", "));
    }
    return ranges.get(0) + ", ... " + ranges.size() + " ranges";
  }

  private ZooKeeper client() {
    checkOpen();
    try {
      return session.client();
    } catch (IOException e) {
      throw new StoreUnavailableException(
          "Cannot open a new ZooKeeper session to " + config.connectString() + ": " + e, e);
    } catch (IllegalStateException e) {
      if (closed.get()) {
        throw e;
      }
      throw new StoreConfigurationException(e.getMessage(), e);
    }
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("ZooKeeperOffsetStore on " + where + " is closed");
    }
  }

  /** Runs reads; an expired session is replaced and the reads run once more on the new one. */
  private <R> R call(String what, ZkCall<R> body) {
    for (int attempt = 1; ; attempt++) {
      ZooKeeper zk = client();
      try {
        return body.run(zk);
      } catch (Failed f) {
        if (f.code == Code.SESSIONEXPIRED && attempt == 1) {
          log.debug("Session expired during '{}'; retrying on a new session", what);
          continue;
        }
        throw failure(f.code, what, f.path);
      } catch (Requests.Interrupted e) {
        throw interrupted(what, e);
      }
    }
  }

  /** Maps a ZooKeeper result code to the SPI's exceptions: the one place that decides. */
  private OffsetStoreException failure(Code code, String what, String path) {
    KeeperException cause =
        path == null ? KeeperException.create(code) : KeeperException.create(code, path);
    String base = "Cannot " + what + " on ZooKeeper " + where + ": " + code;
    switch (code) {
      case CONNECTIONLOSS,
      OPERATIONTIMEOUT,
      REQUESTTIMEOUT,
      SESSIONEXPIRED,
      SESSIONMOVED,
      NEWCONFIGNOQUORUM,
      RECONFIGINPROGRESS,
      THROTTLEDOP:
        return new StoreUnavailableException(
            base + ". Retriable: re-read positions and retry.", cause);
      case NOAUTH, AUTHFAILED, SESSIONCLOSEDREQUIRESASLAUTH:
        // Never retriable: the same session, with the same digest, meets the same ACL.
        return new StoreAccessDeniedException(
            base + ". Check the credentials (digest) and the ACL of " + root + "; not retriable.",
            cause);
      case INVALIDACL:
        return new StoreConfigurationException(
            base + ". Check the acl option (creator needs a digest).", cause);
      default:
        return new OffsetStoreException(base + (path == null ? "" : " (" + path + ")"), cause);
    }
  }

  private static StoreUnavailableException interrupted(String what, Exception e) {
    Thread.currentThread().interrupt();
    return new StoreUnavailableException("Interrupted during " + what, e);
  }

  @FunctionalInterface
  private interface ZkCall<R> {
    R run(ZooKeeper zk) throws Failed, Requests.Interrupted;
  }

  /** A request failed with a code; mapped by {@link #failure}. */
  private static final class Failed extends Exception {
    private static final long serialVersionUID = 1L;
    final Code code;
    final String path;

    Failed(Code code, String path) {
      super(code + " " + path, null, false, false);
      this.code = code;
      this.path = path;
    }
  }
}
