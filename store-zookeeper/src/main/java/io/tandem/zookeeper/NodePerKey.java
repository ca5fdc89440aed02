package io.tandem.zookeeper;

import io.tandem.spi.ResultWriter;
import io.tandem.zookeeper.internal.NodeNames;
import io.tandem.zookeeper.internal.Requests;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.common.PathUtils;

/**
 * Sink adapter: results kept as one znode per key under a parent node, {@code <parent>/<key>},
 * written in the same {@code multi} as the offsets.
 *
 * <p>Keys are escaped like group names (any non-empty string is a key). An existing node gets
 * {@code setData(path, data, -1)}, a missing one {@code create}; missing ancestors of the parent
 * are created in the same {@code multi}. Which nodes exist is looked up (one pipelined round trip
 * for the keys not known) and remembered: the adapter keeps the paths it has seen exist, up to
 * {@link #DEFAULT_KNOWN_NODES} (see {@link #knownNodes(int)}), so a pipeline whose keys recur sends
 * blind {@code setData}s and no reads at all. A look-up per key per commit cost 1 000 pipelined
 * {@code exists} per batch of 1 000 keys, and cut a pipeline to a tenth.
 *
 * <p><b>Races.</b> Between a look-up (or a remembered one) and the {@code multi}, another writer
 * may create a key this writer wants to create ({@code NODEEXISTS}) or delete one it wants to
 * update ({@code NONODE}). Either fails the whole {@code multi}: nothing, offsets included,
 * applies. The store then reads again and runs the writer once more ({@link
 * ZooKeeperStoreConfig#commitAttempts()}); on that run ({@link ZooKeeperOps#attempt()} above 1) the
 * adapter trusts nothing it remembered and looks every key up, so it takes the other branch. Only a
 * key that keeps flipping for every attempt surfaces as a {@link
 * io.tandem.spi.ResultWriteException}. Last writer wins on the data, as with any upsert.
 *
 * <p>{@link #add(Map)} is a fold (a counter per key): it reads the current value and version and
 * writes {@code setData(path, value + delta, version)}, so two writers adding to one key never lose
 * an increment: the second one's {@code multi} fails on the version and is run again.
 *
 * <p>Thread-safe: one adapter may serve several consumers.
 */
public final class NodePerKey {

  /** How many node paths an adapter remembers as existing, by default. */
  public static final int DEFAULT_KNOWN_NODES = 50_000;

  private final String parent;
  private final List<String> chain;
  private final int capacity;
  // Paths seen to exist by a look-up. Only what a read confirmed goes in: a node this adapter
  // queued a create for may never exist if that commit fails. Past the capacity it starts over
  // (cheaper than an LRU on the commit path; the next look-ups refill it).
  private final Set<String> known = ConcurrentHashMap.newKeySet();

  private NodePerKey(String parent, int capacity) {
    this.parent = parent;
    this.capacity = capacity;
    // The parent and its ancestors, top down.
    List<String> c = new ArrayList<>();
    for (int i = parent.indexOf('/', 1); i > 0; i = parent.indexOf('/', i + 1)) {
      c.add(parent.substring(0, i));
    }
    c.add(parent);
    this.chain = List.copyOf(c);
  }

  /**
   * Results under a parent node.
   *
   * @param parent an absolute ZooKeeper path, not {@code /}, outside the store's root
   * @return the adapter
   * @throws IllegalArgumentException if {@code parent} is not a valid path
   */
  public static NodePerKey under(String parent) {
    Objects.requireNonNull(parent, "parent must not be null");
    PathUtils.validatePath(parent);
    if (parent.equals("/")) {
      throw new IllegalArgumentException("parent must not be /: give results a node of their own");
    }
    return new NodePerKey(parent, DEFAULT_KNOWN_NODES);
  }

  /**
   * The same adapter remembering at most {@code capacity} existing node paths (about 150 bytes
   * each); 0 looks every key up on every commit.
   *
   * @param capacity most paths remembered, 0 or more
   * @return a new adapter with an empty memory
   * @throws IllegalArgumentException if {@code capacity} is negative
   */
  public NodePerKey knownNodes(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("knownNodes must be 0 or more, got " + capacity);
    }
    return new NodePerKey(parent, capacity);
  }

  /**
   * The parent node.
   *
   * @return the path
   */
  public String parent() {
    return parent;
  }

  /**
   * The node of a key.
   *
   * @param key the key, not empty
   * @return {@code <parent>/<escaped key>}
   */
  public String path(String key) {
    return parent + "/" + NodeNames.encode(key);
  }

  /**
   * A writer that upserts each entry as the data of its key's node.
   *
   * @param entries key to data
   * @return the writer
   */
  public ResultWriter<ZooKeeperOps> put(Map<String, byte[]> entries) {
    Map<String, byte[]> copy = new LinkedHashMap<>(entries);
    return ops -> upsert(ops, copy);
  }

  /**
   * A writer that upserts each entry's UTF-8 text.
   *
   * @param entries key to text
   * @return the writer
   */
  public ResultWriter<ZooKeeperOps> putText(Map<String, String> entries) {
    Map<String, byte[]> bytes = new LinkedHashMap<>();
    entries.forEach((k, v) -> bytes.put(k, v.getBytes(StandardCharsets.UTF_8)));
    return ops -> upsert(ops, bytes);
  }

  /**
   * A writer that upserts one node per record; of records with the same key the last wins.
   *
   * @param <R> the record type
   * @param records the batch
   * @param key the key of a record
   * @param data the node data of a record
   * @return the writer
   */
  public <R> ResultWriter<ZooKeeperOps> put(
      Collection<R> records, Function<R, String> key, Function<R, byte[]> data) {
    List<R> copy = List.copyOf(records);
    return ops -> {
      Map<String, byte[]> entries = new LinkedHashMap<>();
      for (R r : copy) {
        entries.put(key.apply(r), data.apply(r));
      }
      upsert(ops, entries);
    };
  }

  /**
   * A writer that adds each delta to its key's counter (a decimal number, 0 when the node is
   * absent), checking the version it read.
   *
   * @param deltas key to amount
   * @return the writer
   */
  public ResultWriter<ZooKeeperOps> add(Map<String, Long> deltas) {
    Map<String, Long> copy = new LinkedHashMap<>(deltas);
    return ops -> {
      Map<String, String> paths = new LinkedHashMap<>();
      copy.keySet().forEach(k -> paths.put(k, path(k)));
      List<String> all = new ArrayList<>(chain);
      all.addAll(paths.values());
      // One round trip for the parent chain and every counter.
      Map<String, ZooKeeperOps.Node> found = ops.nodes(all);
      createMissing(ops, chain, found.keySet());
      for (Map.Entry<String, Long> e : copy.entrySet()) {
        String path = paths.get(e.getKey());
        ZooKeeperOps.Node node = found.get(path);
        if (node == null) {
          ops.create(path, bytes(e.getValue()));
        } else {
          long value = Long.parseLong(new String(node.data(), StandardCharsets.US_ASCII));
          ops.setData(path, bytes(Math.addExact(value, e.getValue())), node.stat().getVersion());
        }
      }
    };
  }

  /**
   * Reads every key's data under the parent now (pipelined), for checks and tools.
   *
   * @param zk a client
   * @return key to data, sorted by key; empty if the parent does not exist
   * @throws KeeperException if ZooKeeper fails a read
   * @throws InterruptedException if interrupted
   */
  public Map<String, byte[]> read(ZooKeeper zk) throws KeeperException, InterruptedException {
    List<String> children;
    try {
      children = zk.getChildren(parent, false);
    } catch (KeeperException.NoNodeException e) {
      return Map.of();
    }
    List<String> keys = new ArrayList<>();
    List<String> paths = new ArrayList<>();
    for (String child : children) {
      Optional<String> key = NodeNames.decode(child);
      if (key.isPresent()) {
        keys.add(key.get());
        paths.add(parent + "/" + child);
      }
    }
    List<Requests.Reply> replies = ZooKeeperOps.pipelined(Requests::getData, zk, paths, 60_000);
    Map<String, byte[]> out = new TreeMap<>();
    for (int i = 0; i < keys.size(); i++) {
      Requests.Reply r = replies.get(i);
      if (ZooKeeperOps.found(r)) {
        out.put(keys.get(i), r.data());
      }
    }
    return out;
  }

  private void upsert(ZooKeeperOps ops, Map<String, byte[]> entries)
      throws KeeperException, InterruptedException {
    if (entries.isEmpty()) {
      return;
    }
    Map<String, byte[]> byPath = new LinkedHashMap<>();
    entries.forEach((k, v) -> byPath.put(path(k), Objects.requireNonNull(v, "data of " + k)));
    // A later attempt means the last multi failed, maybe on a node remembered wrongly.
    if (ops.attempt() > 1) {
      chain.forEach(known::remove);
      byPath.keySet().forEach(known::remove);
    }
    // Decided once here: the memory may start over meanwhile (another consumer's look-up).
    Set<String> unknown = new HashSet<>();
    for (String p : chain) {
      if (!known.contains(p)) {
        unknown.add(p);
      }
    }
    for (String p : byPath.keySet()) {
      if (!known.contains(p)) {
        unknown.add(p);
      }
    }
    Set<String> found = Set.of();
    if (!unknown.isEmpty()) {
      // One round trip for whatever is not known.
      found = ops.stats(unknown).keySet();
      remember(found);
    }
    for (String p : chain) {
      if (unknown.contains(p) && !found.contains(p)) {
        ops.create(p, new byte[0]);
      }
    }
    for (Map.Entry<String, byte[]> e : byPath.entrySet()) {
      String p = e.getKey();
      if (unknown.contains(p) && !found.contains(p)) {
        ops.create(p, e.getValue());
      } else {
        ops.setData(p, e.getValue(), -1);
      }
    }
  }

  private void remember(Set<String> paths) {
    if (capacity == 0 || paths.isEmpty()) {
      return;
    }
    if (known.size() + paths.size() > capacity) {
      known.clear();
    }
    if (paths.size() <= capacity) {
      known.addAll(paths);
    }
  }

  /** Creates, in the same multi, the parent and ancestors not found. */
  private static void createMissing(ZooKeeperOps ops, List<String> chain, Set<String> found) {
    for (String p : chain) {
      if (!found.contains(p)) {
        ops.create(p, new byte[0]);
      }
    }
  }

  private static byte[] bytes(long value) {
    return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
  }
}
