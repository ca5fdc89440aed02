package io.tandem.tck.model;

import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreUnavailableException;
import io.tandem.tck.ResultProbe;
import io.tandem.tck.model.ModelCheck.StoreFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One run of a {@link Plan} against a store, judged by the model as it goes (each actor's own
 * partitions, exactly) and at the end (the shared partitions, from every actor's observations).
 *
 * <p>The model keeps, per own partition, the set of positions it may hold ({@value #ABSENT} for no
 * position): one value after any answer that tells, several after an outcome the store left unknown
 * ({@link StoreUnavailableException}). Shared partitions are only initialized, committed and read,
 * so their position never decreases; every observation (a read, a conflict's found position, a
 * commit's from and until, what initialize returned) is a value that stood at some time between the
 * call and its answer, and a logical clock orders calls: an observation that ended before another
 * began must not be larger. At the end, the successful commits of each shared partition must form
 * one contiguous chain from the initialized position to the final one.
 */
final class Execution<T> {

  static final long ABSENT = -1;

  private final Plan plan;
  private final StoreFactory<T> factory;
  private final ResultProbe<T> probe;
  private final boolean transactional;
  private final boolean atomic;
  private final String group;
  private final String namespace;
  private final long timeoutMillis;

  private final AtomicLong clock = new AtomicLong();
  private final List<Fact> facts = Collections.synchronizedList(new ArrayList<>());
  private final List<Edge> edges = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, Outcome> keys = new ConcurrentHashMap<>();
  private final List<List<String>> transcripts = new ArrayList<>();
  private final List<Map<Partition, Set<Long>>> models = new ArrayList<>();
  private final List<OffsetStore<T>> opened = Collections.synchronizedList(new ArrayList<>());
  private volatile String violation;

  private record Fact(Partition p, long value, long invoked, long answered, String where) {}

  private record Edge(Partition p, long from, long until, boolean known, String where) {}

  private enum Outcome {
    COMMITTED,
    FAILED,
    UNKNOWN
  }

  /** Thrown by a writer the plan makes fail; the commit must wrap exactly this one. */
  static final class PlannedWriterFailure extends Exception {
    private static final long serialVersionUID = 1L;

    PlannedWriterFailure(String key) {
      super("planned writer failure after writing " + key, null, false, false);
    }
  }

  private static final class Violation extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Violation(String message) {
      super(message, null, false, false);
    }
  }

  Execution(
      Plan plan,
      StoreFactory<T> factory,
      ResultProbe<T> probe,
      boolean transactional,
      boolean atomic,
      String group,
      String namespace,
      long timeoutMillis) {
    this.plan = plan;
    this.factory = factory;
    this.probe = probe;
    this.transactional = transactional;
    this.atomic = atomic;
    this.group = group;
    this.namespace = namespace;
    this.timeoutMillis = timeoutMillis;
    for (int a = 0; a < plan.actors().size(); a++) {
      transcripts.add(Collections.synchronizedList(new ArrayList<>()));
      Map<Partition, Set<Long>> model = new HashMap<>();
      for (Partition p : plan.own().get(a)) {
        model.put(p, new TreeSet<>(Set.of(ABSENT)));
      }
      models.add(model);
    }
  }

  /**
   * Runs the plan and judges it.
   *
   * @return the first violation found, or null when every outcome was allowed
   */
  String run() {
    try {
      int n = plan.actors().size();
      if (n == 1) {
        actor(0);
      } else {
        List<Thread> threads = new ArrayList<>();
        for (int a = 0; a < n; a++) {
          int actor = a;
          Thread t = new Thread(() -> actor(actor), "tandem-model-actor-" + a);
          t.setDaemon(true);
          threads.add(t);
        }
        threads.forEach(Thread::start);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (Thread t : threads) {
          long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
          t.join(Math.max(1, left));
          if (t.isAlive()) {
            threads.forEach(Thread::interrupt);
            fail(t.getName() + " did not finish within " + timeoutMillis + " ms (a call hangs)");
          }
        }
      }
      if (violation == null) {
        try {
          finalChecks();
        } catch (Violation v) {
          throw v;
        } catch (RuntimeException e) {
          throw fail("after the run: " + e);
        }
      }
    } catch (Violation v) {
      record(v.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      record("interrupted");
    } finally {
      closeAll();
    }
    return violation;
  }

  /** What each actor called and what came back, for the failure report. */
  String transcript() {
    StringBuilder s = new StringBuilder();
    for (int a = 0; a < transcripts.size(); a++) {
      s.append("  actor ").append(a).append(":\n");
      synchronized (transcripts.get(a)) {
        for (String line : transcripts.get(a)) {
          s.append("    ").append(line).append('\n');
        }
      }
    }
    return s.toString();
  }

  private synchronized void record(String message) {
    if (violation == null) {
      violation = message;
    }
  }

  private static Violation fail(String message) {
    throw new Violation(message);
  }

  // ------------------------------------------------------------------------- one actor

  private void actor(int a) {
    List<String> log = transcripts.get(a);
    try {
      OffsetStore<T> store = open();
      List<Op> ops = plan.actors().get(a);
      Map<Partition, Long> known = new HashMap<>();
      for (int i = 0; i < ops.size() && violation == null; i++) {
        Op op = ops.get(i);
        String where = "actor " + a + " op " + i;
        if (op.kind() == Op.Kind.REOPEN) {
          store.close();
          opened.remove(store);
          store = open();
          log.add(i + ": reopen");
          continue;
        }
        try {
          step(a, i, op, store, known, where, log);
        } catch (Violation v) {
          throw v;
        } catch (RuntimeException e) {
          log.add(i + ": " + op + " -> threw " + e);
          throw fail(where + ": " + op + " threw " + e);
        }
      }
    } catch (Violation v) {
      record(v.getMessage());
    } catch (Throwable t) {
      record("actor " + a + ": unexpected " + t);
    }
  }

  private OffsetStore<T> open() {
    try {
      OffsetStore<T> s = factory.open();
      opened.add(s);
      return s;
    } catch (Exception e) {
      throw fail("opening a store failed: " + e);
    }
  }

  private void closeAll() {
    synchronized (opened) {
      for (OffsetStore<T> s : opened) {
        try {
          s.close();
        } catch (RuntimeException e) {
          record("close() threw " + e);
        }
      }
      opened.clear();
    }
  }

  private void step(
      int a,
      int i,
      Op op,
      OffsetStore<T> store,
      Map<Partition, Long> known,
      String where,
      List<String> log) {
    Map<Partition, Set<Long>> model = models.get(a);
    List<Partition> ps = op.partitions();
    long invoked = clock.incrementAndGet();
    switch (op.kind()) {
      case INITIALIZE -> {
        Map<Partition, Long> starts = new LinkedHashMap<>();
        for (int k = 0; k < ps.size(); k++) {
          starts.put(ps.get(k), op.a()[k]);
        }
        Map<Partition, Long> got;
        try {
          got = store.initialize(group, starts);
        } catch (StoreUnavailableException e) {
          log.add(i + ": " + op + " -> unavailable (outcome unknown)");
          starts.forEach(
              (p, v) -> {
                if (!plan.isShared(p) && model.get(p).contains(ABSENT)) {
                  model.get(p).add(v);
                }
              });
          return;
        }
        long answered = clock.incrementAndGet();
        log.add(i + ": " + op + " -> " + got);
        if (!got.keySet().equals(starts.keySet())) {
          throw fail(
              where
                  + ": initialize("
                  + starts
                  + ") returned "
                  + got
                  + ", not every partition asked");
        }
        for (Partition p : ps) {
          long v = got.get(p);
          known.put(p, v);
          if (plan.isShared(p)) {
            facts.add(new Fact(p, v, invoked, answered, where + " initialize"));
          } else {
            Set<Long> may = model.get(p);
            Set<Long> allowed = new TreeSet<>(may);
            allowed.remove(ABSENT);
            if (may.contains(ABSENT)) {
              allowed.add(starts.get(p));
            }
            if (!allowed.contains(v)) {
              throw fail(
                  where
                      + ": initialize("
                      + p
                      + "="
                      + starts.get(p)
                      + ") returned "
                      + v
                      + ", the model allows "
                      + allowed
                      + " (stored "
                      + show(may)
                      + "; an existing position wins)");
            }
            set(model, p, v);
          }
        }
      }
      case COMMIT -> commit(a, i, op, store, known, where, log, invoked);
      case READ -> {
        Map<Partition, Long> got;
        try {
          got = store.positions(group, ps);
        } catch (StoreUnavailableException e) {
          log.add(i + ": " + op + " -> unavailable");
          return;
        }
        long answered = clock.incrementAndGet();
        log.add(i + ": " + op + " -> " + got);
        if (!new HashSet<>(ps).containsAll(got.keySet())) {
          throw fail(where + ": positions(" + ps + ") returned partitions not asked for: " + got);
        }
        for (Partition p : ps) {
          observe(a, p, got.getOrDefault(p, ABSENT), invoked, answered, where + " read", known);
        }
      }
      case READ_GROUP -> {
        Map<Partition, Long> got;
        try {
          got = store.positions(group);
        } catch (StoreUnavailableException e) {
          log.add(i + ": read_group -> unavailable");
          return;
        }
        long answered = clock.incrementAndGet();
        log.add(i + ": read_group -> " + got);
        List<Partition> all = plan.all();
        for (Partition p : got.keySet()) {
          if (!all.contains(p)) {
            throw fail(
                where + ": positions(group) returned " + p + ", a partition never written: " + got);
          }
        }
        for (Partition p : all) {
          if (plan.isShared(p) || model.containsKey(p)) {
            observe(
                a, p, got.getOrDefault(p, ABSENT), invoked, answered, where + " read_group", known);
          }
        }
      }
      case OVERWRITE -> {
        Map<Partition, Long> values = new LinkedHashMap<>();
        for (int k = 0; k < ps.size(); k++) {
          values.put(ps.get(k), op.a()[k]);
        }
        try {
          store.overwrite(group, values);
          log.add(i + ": " + op);
          values.forEach((p, v) -> set(model, p, v));
          known.putAll(values);
        } catch (StoreUnavailableException e) {
          log.add(i + ": " + op + " -> unavailable (outcome unknown)");
          values.forEach((p, v) -> model.get(p).add(v));
        }
      }
      case DELETE_PARTITIONS -> {
        int n;
        try {
          n = store.delete(group, ps);
        } catch (StoreUnavailableException e) {
          log.add(i + ": " + op + " -> unavailable (outcome unknown)");
          ps.forEach(p -> model.get(p).add(ABSENT));
          return;
        }
        log.add(i + ": " + op + " -> " + n);
        int least = 0;
        int most = 0;
        for (Partition p : ps) {
          Set<Long> may = model.get(p);
          most += may.equals(Set.of(ABSENT)) ? 0 : 1;
          least += may.contains(ABSENT) ? 0 : 1;
        }
        if (n < least || n > most) {
          throw fail(
              where
                  + ": delete("
                  + ps
                  + ") returned "
                  + n
                  + ", the model expects "
                  + (least == most ? String.valueOf(least) : least + ".." + most)
                  + " (stored "
                  + show(model, ps)
                  + ")");
        }
        ps.forEach(p -> set(model, p, ABSENT));
        ps.forEach(known::remove);
      }
      case DELETE_GROUP -> {
        boolean had;
        try {
          had = store.delete(group);
        } catch (StoreUnavailableException e) {
          log.add(i + ": delete_group -> unavailable (outcome unknown)");
          model.values().forEach(may -> may.add(ABSENT));
          return;
        }
        log.add(i + ": delete_group -> " + had);
        boolean surely = model.values().stream().anyMatch(may -> !may.contains(ABSENT));
        boolean maybe = model.values().stream().anyMatch(may -> !may.equals(Set.of(ABSENT)));
        if ((had && !maybe) || (!had && surely)) {
          throw fail(
              where
                  + ": delete(group) returned "
                  + had
                  + " but the group "
                  + (had ? "had no" : "had")
                  + " stored positions: "
                  + show(model, plan.own().get(a)));
        }
        model.keySet().forEach(p -> set(model, p, ABSENT));
        known.clear();
      }
      case PREPARE -> {
        try {
          store.prepare();
          log.add(i + ": prepare");
        } catch (StoreUnavailableException e) {
          log.add(i + ": prepare -> unavailable");
        }
      }
      case REOPEN -> throw new IllegalStateException("handled by the actor loop");
    }
  }

  private void commit(
      int a,
      int i,
      Op op,
      OffsetStore<T> store,
      Map<Partition, Long> known,
      String where,
      List<String> log,
      long invoked) {
    Map<Partition, Set<Long>> model = models.get(a);
    List<OffsetRange> ranges = new ArrayList<>();
    for (int k = 0; k < op.partitions().size(); k++) {
      Partition p = op.partitions().get(k);
      long base = known.getOrDefault(p, 0L);
      long from = Math.max(0, base + op.a()[k]);
      ranges.add(new OffsetRange(p, from, from + op.b()[k]));
    }
    String key = "a" + a + "_" + i;
    ResultWriter<T> put = probe.put(namespace, Map.of(key, "v"));
    PlannedWriterFailure planned = op.failWriter() ? new PlannedWriterFailure(key) : null;
    ResultWriter<T> writer =
        planned == null
            ? put
            : tx -> {
              put.write(tx);
              throw planned;
            };
    String call = "commit " + ranges + (planned != null ? " (writer throws)" : "");
    try {
      store.commit(group, ranges, writer);
    } catch (OffsetConflictException e) {
      long answered = clock.incrementAndGet();
      log.add(i + ": " + call + " -> conflict " + e.conflicts());
      keys.put(key, Outcome.FAILED);
      conflict(a, ranges, e, invoked, answered, where, known);
      return;
    } catch (ResultWriteException e) {
      log.add(i + ": " + call + " -> writer failed");
      keys.put(key, Outcome.FAILED);
      if (planned == null) {
        throw fail(
            where
                + ": "
                + call
                + " failed with ResultWriteException though its writer did not throw: "
                + e);
      }
      if (e.getCause() != planned) {
        throw fail(
            where
                + ": "
                + call
                + ": the ResultWriteException's cause is "
                + e.getCause()
                + ", not the exception the writer threw");
      }
      // Nothing moved: an own partition keeps what it had, a shared one may have moved by others.
      return;
    } catch (StoreUnavailableException e) {
      log.add(i + ": " + call + " -> unavailable (outcome unknown)");
      keys.put(key, Outcome.UNKNOWN);
      for (OffsetRange r : ranges) {
        if (plan.isShared(r.partition())) {
          edges.add(new Edge(r.partition(), r.from(), r.until(), false, where));
        } else if (model.get(r.partition()).contains(r.from())) {
          model.get(r.partition()).add(r.until());
        }
      }
      return;
    }
    long answered = clock.incrementAndGet();
    log.add(i + ": " + call + " -> committed");
    if (planned != null) {
      keys.put(key, Outcome.FAILED);
      throw fail(where + ": " + call + " returned normally though its writer threw");
    }
    keys.put(key, Outcome.COMMITTED);
    for (OffsetRange r : ranges) {
      Partition p = r.partition();
      known.put(p, r.until());
      if (plan.isShared(p)) {
        facts.add(new Fact(p, r.from(), invoked, answered, where + " commit from"));
        facts.add(new Fact(p, r.until(), invoked, answered, where + " commit until"));
        edges.add(new Edge(p, r.from(), r.until(), true, where));
      } else {
        Set<Long> may = model.get(p);
        if (!may.contains(r.from())) {
          throw fail(
              where
                  + ": "
                  + call
                  + " succeeded, but the stored position of "
                  + p
                  + " was "
                  + show(may)
                  + ", not "
                  + r.from()
                  + " (a commit must start at the stored position)");
        }
        set(model, p, r.until());
      }
    }
  }

  private void conflict(
      int a,
      List<OffsetRange> ranges,
      OffsetConflictException e,
      long invoked,
      long answered,
      String where,
      Map<Partition, Long> known) {
    Map<Partition, Set<Long>> model = models.get(a);
    Map<Partition, Conflict> reported = new HashMap<>();
    for (Conflict c : e.conflicts()) {
      if (reported.put(c.partition(), c) != null) {
        throw fail(where + ": the conflict lists " + c.partition() + " twice: " + e.conflicts());
      }
    }
    Map<Partition, OffsetRange> byPartition = new HashMap<>();
    ranges.forEach(r -> byPartition.put(r.partition(), r));
    if (reported.isEmpty()) {
      throw fail(where + ": an OffsetConflictException with no conflict");
    }
    if (!byPartition.keySet().containsAll(reported.keySet())) {
      throw fail(
          where
              + ": the conflict names partitions the commit did not: "
              + e.conflicts()
              + " for "
              + ranges);
    }
    for (OffsetRange r : ranges) {
      Partition p = r.partition();
      Conflict c = reported.get(p);
      if (c != null) {
        long found = c.found().isPresent() ? c.found().getAsLong() : ABSENT;
        if (c.expected() != r.from()) {
          throw fail(
              where
                  + ": conflict "
                  + c
                  + " has expected "
                  + c.expected()
                  + ", the range's from is "
                  + r.from());
        }
        if (found == r.from()) {
          throw fail(
              where
                  + ": conflict "
                  + c
                  + " reports the position the range starts at: that is no conflict");
        }
        observe(a, p, found, invoked, answered, where + " conflict found", known);
      } else {
        // Not reported: the stored position was the range's from (every conflict is reported),
        // and it did not move (no position of a failed commit moves).
        observe(a, p, r.from(), invoked, answered, where + " conflict, unreported range", known);
      }
    }
  }

  /** A value of {@code p} that stood at some time between {@code invoked} and {@code answered}. */
  private void observe(
      int a,
      Partition p,
      long value,
      long invoked,
      long answered,
      String where,
      Map<Partition, Long> known) {
    if (value != ABSENT) {
      known.put(p, value);
    }
    if (plan.isShared(p)) {
      facts.add(new Fact(p, value, invoked, answered, where));
      return;
    }
    Map<Partition, Set<Long>> model = models.get(a);
    Set<Long> may = model.get(p);
    if (!may.contains(value)) {
      throw fail(
          where
              + ": "
              + p
              + " is "
              + (value == ABSENT ? "absent" : String.valueOf(value))
              + ", the model expects "
              + show(may));
    }
    set(model, p, value);
  }

  private static void set(Map<Partition, Set<Long>> model, Partition p, long value) {
    Set<Long> may = model.get(p);
    may.clear();
    may.add(value);
  }

  private static String show(Set<Long> may) {
    List<String> out = new ArrayList<>();
    for (long v : may) {
      out.add(v == ABSENT ? "absent" : String.valueOf(v));
    }
    return out.size() == 1 ? out.get(0) : "one of " + out;
  }

  private static String show(Map<Partition, Set<Long>> model, List<Partition> ps) {
    Map<Partition, String> out = new LinkedHashMap<>();
    ps.forEach(p -> out.put(p, show(model.get(p))));
    return out.toString();
  }

  // ------------------------------------------------------------------------- after the run

  private void finalChecks() {
    // Any store still open sees what every actor committed (they share the backend).
    OffsetStore<T> store;
    synchronized (opened) {
      store = opened.isEmpty() ? null : opened.get(opened.size() - 1);
    }
    if (store == null) {
      store = open();
    }
    long invoked = clock.incrementAndGet();
    Map<Partition, Long> last = store.positions(group, plan.all());
    long answered = clock.incrementAndGet();
    transcripts.get(0).add("after the run: positions " + plan.all() + " -> " + last);
    for (int a = 0; a < models.size(); a++) {
      for (Partition p : plan.own().get(a)) {
        observe(
            a,
            p,
            last.getOrDefault(p, ABSENT),
            invoked,
            answered,
            "after the run: read",
            new HashMap<>());
      }
    }
    for (Partition p : plan.shared()) {
      long end = last.getOrDefault(p, ABSENT);
      facts.add(new Fact(p, end, invoked, answered, "after the run: read"));
      chain(p, end);
    }
    realTimeOrder();
    results();
  }

  /** The successful commits of a shared partition form one chain from its first position. */
  private void chain(Partition p, long end) {
    // The first position stored is the smallest that ever stood (positions of shared partitions
    // only grow), and every successful commit's from was observed: the smallest observation is
    // where the chain starts.
    Long start = null;
    synchronized (facts) {
      for (Fact f : facts) {
        if (f.p().equals(p) && f.value() != ABSENT && (start == null || f.value() < start)) {
          start = f.value();
        }
      }
    }
    List<Edge> mine = new ArrayList<>();
    synchronized (edges) {
      for (Edge e : edges) {
        if (e.p().equals(p) && e.from() != e.until()) {
          mine.add(e);
        }
      }
    }
    Map<Long, Edge> winners = new HashMap<>();
    for (Edge e : mine) {
      if (e.known()) {
        Edge other = winners.put(e.from(), e);
        if (other != null) {
          throw fail(
              "two commits of shared "
                  + p
                  + " from "
                  + e.from()
                  + " both succeeded ("
                  + other.where()
                  + " to "
                  + other.until()
                  + ", "
                  + e.where()
                  + " to "
                  + e.until()
                  + "): of concurrent commits of one range at most one may win");
        }
      }
    }
    if (start == null) {
      return; // never observed with a position: no commit can have succeeded
    }
    if (!walk(start, end, winners, mine, new HashSet<>())) {
      List<String> w = new ArrayList<>();
      winners.values().forEach(e -> w.add("[" + e.from() + ", " + e.until() + ") by " + e.where()));
      Collections.sort(w);
      throw fail(
          "shared "
              + p
              + ": the successful commits "
              + w
              + " do not lead from the initialized position "
              + start
              + " to the final position "
              + (end == ABSENT ? "absent" : end)
              + " (a position moved without a successful commit, or a successful commit did not move it)");
    }
  }

  private static boolean walk(
      long at, long end, Map<Long, Edge> winners, List<Edge> all, Set<Edge> used) {
    Edge w = winners.get(at);
    if (w != null) {
      if (!used.add(w)) {
        return false;
      }
      boolean ok = walk(w.until(), end, winners, all, used);
      if (!ok) {
        used.remove(w);
      }
      return ok;
    }
    if (at == end && used.containsAll(winners.values())) {
      return true;
    }
    for (Edge e : all) {
      if (!e.known() && e.from() == at && !used.contains(e)) {
        used.add(e);
        if (walk(e.until(), end, winners, all, used)) {
          return true;
        }
        used.remove(e);
      }
    }
    return false;
  }

  /** Positions of shared partitions never decrease: a value seen after another is not smaller. */
  private void realTimeOrder() {
    List<Fact> all;
    synchronized (facts) {
      all = new ArrayList<>(facts);
    }
    for (Fact x : all) {
      for (Fact y : all) {
        if (x.p().equals(y.p()) && x.answered() < y.invoked() && x.value() > y.value()) {
          throw fail(
              "shared "
                  + x.p()
                  + " was "
                  + x.value()
                  + " ("
                  + x.where()
                  + "), later "
                  + (y.value() == ABSENT ? "absent" : String.valueOf(y.value()))
                  + " ("
                  + y.where()
                  + "): with only initialize and commit, a position never goes back");
        }
      }
    }
  }

  private void results() {
    Map<String, String> found;
    try {
      found = probe.read(namespace);
    } catch (Exception e) {
      throw fail("reading the results back failed: " + e);
    }
    for (String k : found.keySet()) {
      Outcome o = keys.get(k);
      if (o == null) {
        throw fail("result " + k + " stands, but no commit wrote it");
      }
      if (o == Outcome.FAILED && transactional) {
        throw fail("result " + k + " of a failed commit stands on a TRANSACTIONAL store");
      }
    }
    keys.forEach(
        (k, o) -> {
          if (o == Outcome.COMMITTED && !found.containsKey(k)) {
            throw fail("result " + k + " of a successful commit is missing");
          }
        });
  }
}
