package io.tandem.zookeeper.e2e;

import io.tandem.tck.e2e.E2eRecord;
import io.tandem.tck.e2e.ResultModel;
import io.tandem.zookeeper.NodePerKey;
import io.tandem.zookeeper.ZooKeeperOps;
import io.tandem.zookeeper.ZooKeeperStoreConfig;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;

/**
 * The end-to-end kit's results in ZooKeeper, written into the store's commit {@code multi}.
 *
 * <p>Layout, all below {@code <store root>-e2e/<namespace>} (a sibling of the store's root, which
 * result operations may not touch):
 *
 * <ul>
 *   <li>{@code results/<shard>/<id>-<10-digit sequence>}: one empty {@code PERSISTENT_SEQUENTIAL}
 *       node appended per applied record. Nothing is keyed by the id, so a record applied twice
 *       leaves two nodes and shows as a duplicate. The ids are spread over {@value #SHARDS} parents
 *       so that one {@code getChildren} reply stays far below {@code jute.maxbuffer} (a reply is a
 *       packet too: 20 000 names of ~18 bytes under one parent would already be ~440 KB).
 *   <li>{@code totals/<key>}: a decimal counter per Kafka key, folded by {@link NodePerKey#add}
 *       (read, then a version-checked {@code setData} in the same {@code multi}). A key maps to one
 *       partition, so only the partition's owner folds it; a racing zombie fails the whole {@code
 *       multi} on its position's version check before any result applies.
 * </ul>
 *
 * <p>Request size: a sequential create here is about 110 serialized bytes (op header, a ~55-char
 * path, empty data, the one {@code world:anyone} ACL, flags) and a total's {@code setData} about
 * 80, so the kit's largest batch (200 records, 40 keys) is about 25 KB against the store's limit of
 * {@code jute.maxbuffer − 1024} (1 MiB − 1 − 1024 by default): no need to lower {@code
 * max.poll.records}. A batch over the limit would fail with {@code BatchTooLargeException}, not be
 * split.
 */
public final class ZooKeeperResultModel implements ResultModel<ZooKeeperOps> {

  /** Parents the per-record nodes are spread over. */
  static final int SHARDS = 64;

  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,39}");
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_.]+");

  /** {@code <id>-} plus the server's 10-digit sequence suffix. */
  private static final Pattern RESULT = Pattern.compile("(.+)-(\\d{10})");

  private ZooKeeper zk;
  private String base;
  private NodePerKey totals;

  /** For the kit, which instantiates it by name. */
  public ZooKeeperResultModel() {}

  @Override
  public void open(String storeUri, Map<String, String> properties, String namespace)
      throws Exception {
    if (!NAME.matcher(namespace).matches()) {
      throw new IllegalArgumentException("namespace must match " + NAME + ": " + namespace);
    }
    // The same parsing and checks as the store's own provider: connect string, root, timeouts.
    ZooKeeperStoreConfig config = ZooKeeperStoreConfig.fromUri(storeUri, properties);
    base = config.root() + "-e2e/" + namespace;
    totals = NodePerKey.under(base + "/totals");
    zk = connect(config);
    String digest = digest(storeUri, properties);
    if (digest != null) {
      zk.addAuthInfo("digest", digest.getBytes(StandardCharsets.UTF_8));
    }
    // Several worker JVMs run this at once: NODEEXISTS means another one made the node.
    List<String> parents = new ArrayList<>();
    for (int i = base.indexOf('/', 1); i > 0; i = base.indexOf('/', i + 1)) {
      parents.add(base.substring(0, i));
    }
    parents.add(base);
    parents.add(base + "/results");
    parents.add(totals.parent());
    for (int s = 0; s < SHARDS; s++) {
      parents.add(shardPath(s));
    }
    for (String p : parents) {
      // A mutable copy: ZooKeeper.create checks acl.contains(null), which an immutable list
      // answers with a NullPointerException (seen with 3.9.4).
      createIfAbsent(p, new ArrayList<>(config.acl()));
    }
  }

  @Override
  public void write(ZooKeeperOps handle, List<E2eRecord> batch) throws Exception {
    Map<String, Long> sums = new TreeMap<>();
    for (E2eRecord r : batch) {
      if (!SAFE.matcher(r.id()).matches()) {
        // The kit's ids are r0000123: a plain znode name. Anything else would need escaping.
        throw new IllegalArgumentException("record id is not a plain znode name: " + r.id());
      }
      handle.add(
          Op.create(
              shardPath(shard(r.id())) + "/" + r.id() + "-",
              new byte[0],
              new ArrayList<>(handle.acl()), // see open(): no immutable ACL lists
              CreateMode.PERSISTENT_SEQUENTIAL));
      sums.merge(r.key(), r.amount(), Long::sum);
    }
    totals.add(sums).write(handle);
  }

  @Override
  public Observed read() throws Exception {
    Map<String, Integer> occurrences = new HashMap<>();
    for (int s = 0; s < SHARDS; s++) {
      for (String child : zk.getChildren(shardPath(s), false)) {
        Matcher m = RESULT.matcher(child);
        // A name that is not <id>-<sequence> is reported under its full name, as an unexpected id.
        occurrences.merge(m.matches() ? m.group(1) : child, 1, Integer::sum);
      }
    }
    Map<String, Long> folded = new HashMap<>();
    for (Map.Entry<String, byte[]> e : totals.read(zk).entrySet()) {
      folded.put(e.getKey(), Long.parseLong(new String(e.getValue(), StandardCharsets.US_ASCII)));
    }
    return new Observed(occurrences, folded);
  }

  @Override
  public void close() throws InterruptedException {
    if (zk != null) {
      zk.close();
      zk = null;
    }
  }

  private String shardPath(int shard) {
    return base + "/results/" + String.format("%02d", shard);
  }

  private static int shard(String id) {
    return Math.floorMod(id.hashCode(), SHARDS);
  }

  private void createIfAbsent(String path, List<ACL> acl)
      throws KeeperException, InterruptedException {
    try {
      zk.create(path, new byte[0], acl, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException e) {
      // Made by another worker, or by an earlier open: what we wanted.
    }
  }

  private static ZooKeeper connect(ZooKeeperStoreConfig config) throws Exception {
    CountDownLatch connected = new CountDownLatch(1);
    Watcher watcher =
        event -> {
          if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
            connected.countDown();
          }
        };
    ZooKeeper client =
        new ZooKeeper(
            config.connectString(), (int) config.sessionTimeout().toMillis(), watcher, false);
    if (!connected.await(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
      client.close();
      throw new IllegalStateException(
          "no connection to ZooKeeper at "
              + config.connectString()
              + " within "
              + config.connectTimeout());
    }
    return client;
  }

  /** {@code user:password} from the {@code digest} option, else from the URI's user info. */
  private static String digest(String uri, Map<String, String> properties) {
    if (properties.containsKey("digest")) {
      return properties.get("digest");
    }
    String rest = uri.substring(uri.indexOf("//") + 2);
    int end = rest.length();
    for (char c : new char[] {'/', '?', '#'}) {
      int i = rest.indexOf(c);
      if (i >= 0) {
        end = Math.min(end, i);
      }
    }
    String authority = rest.substring(0, end);
    int at = authority.lastIndexOf('@');
    return at < 0 ? null : URLDecoder.decode(authority.substring(0, at), StandardCharsets.UTF_8);
  }
}
