package io.tandem.tck.model;

import io.tandem.spi.Partition;
import io.tandem.tck.model.Op.Kind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * What each actor will do, and which partitions are whose. With one actor every partition is its
 * own and the model is exact; with several, the shared partitions are only initialized, committed
 * and read (so positions there only grow and every outcome can be judged whatever the interleaving)
 * while each actor's own partitions take every operation and are judged exactly.
 *
 * @param shared partitions every actor uses
 * @param own per actor, the partitions only that actor uses
 * @param actors per actor, its operations in order
 * @param token the name part that makes this plan's topics unique
 */
record Plan(
    List<Partition> shared, List<List<Partition>> own, List<List<Op>> actors, String token) {

  /** Positions above 2^53: a store keeping them as doubles loses the low bit. */
  static final long BIG = (1L << 53) + 1;

  Plan {
    shared = List.copyOf(shared);
    own = own.stream().map(List::copyOf).toList();
    actors = actors.stream().map(List::copyOf).toList();
  }

  /**
   * The same plan on topics named with {@code next} instead of this plan's token, so that a plan
   * run again (while shrinking) starts from nothing, whatever a store kept of earlier runs.
   */
  Plan renamed(String next) {
    java.util.function.UnaryOperator<Partition> move =
        p -> {
          String t = p.topic();
          String lower = "m" + token;
          String upper = "M" + token.toUpperCase(java.util.Locale.ROOT);
          if (t.startsWith(lower)) {
            t = "m" + next + t.substring(lower.length());
          } else if (t.startsWith(upper)) {
            t = "M" + next.toUpperCase(java.util.Locale.ROOT) + t.substring(upper.length());
          }
          return Partition.of(t, p.partition());
        };
    List<List<Op>> ops = new ArrayList<>();
    for (List<Op> list : actors) {
      List<Op> moved = new ArrayList<>();
      for (Op o : list) {
        moved.add(
            new Op(
                o.kind(),
                o.partitions().stream().map(move).toList(),
                o.a(),
                o.b(),
                o.failWriter()));
      }
      ops.add(moved);
    }
    return new Plan(
        shared.stream().map(move).toList(),
        own.stream().map(l -> l.stream().map(move).toList()).toList(),
        ops,
        next);
  }

  int size() {
    return actors.stream().mapToInt(List::size).sum();
  }

  boolean isShared(Partition p) {
    return shared.contains(p);
  }

  List<Partition> all() {
    List<Partition> out = new ArrayList<>(shared);
    own.forEach(out::addAll);
    return out;
  }

  /**
   * A random plan. The partitions' names are chosen so that conflating stores mix them up: two
   * topics that differ only in case, one that differs only by a trailing dot, and partition numbers
   * that agree in their low 16 bits.
   *
   * @param random the source of every choice
   * @param actors how many actors; 1 is a sequential run
   * @param operations operations per actor
   * @param atomic whether the store is atomic across partitions (else one range per commit)
   * @param maxRanges the store's declared limit on ranges per commit
   * @param token a name part unique to this plan
   */
  static Plan generate(
      Random random, int actors, int operations, boolean atomic, int maxRanges, String token) {
    String lower = "m" + token;
    String upper = "M" + token.toUpperCase(java.util.Locale.ROOT);
    String dotted = lower + ".";
    List<Partition> shared = new ArrayList<>();
    List<List<Partition>> own = new ArrayList<>();
    if (actors == 1) {
      own.add(
          List.of(
              Partition.of(lower, 0),
              Partition.of(lower, 1),
              Partition.of(lower, 65_537),
              Partition.of(upper, 0),
              Partition.of(dotted, 1)));
    } else {
      shared.add(Partition.of(lower, 0));
      shared.add(Partition.of(upper, 0));
      shared.add(Partition.of(lower, 65_537));
      for (int a = 0; a < actors; a++) {
        own.add(List.of(Partition.of(lower, 2 * a + 1), Partition.of(dotted, 2 * a + 1)));
      }
    }
    int widest = atomic ? Math.min(3, maxRanges) : 1;
    List<List<Op>> plans = new ArrayList<>();
    for (int a = 0; a < actors; a++) {
      List<Partition> mine = own.get(a);
      List<Partition> usable = new ArrayList<>(shared);
      usable.addAll(mine);
      List<Op> ops = new ArrayList<>();
      if (actors > 1) {
        // Every actor starts by initializing the shared partitions: they race to do so.
        ops.add(initialize(random, shared));
      }
      while (ops.size() < operations) {
        ops.add(next(random, actors == 1, usable, mine, widest));
      }
      plans.add(ops);
    }
    return new Plan(shared, own, plans, token);
  }

  private static Op next(
      Random r, boolean sequential, List<Partition> usable, List<Partition> mine, int widest) {
    int roll = r.nextInt(100);
    if (roll < 14) {
      return initialize(r, pick(r, usable, 3));
    }
    if (roll < 54) {
      List<Partition> ps = pick(r, usable, widest);
      long[] skew = new long[ps.size()];
      long[] length = new long[ps.size()];
      for (int i = 0; i < ps.size(); i++) {
        int s = r.nextInt(10);
        skew[i] = s == 0 ? -1 - r.nextInt(2) : s == 1 ? 1 + r.nextInt(2) : 0;
        length[i] = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(4);
      }
      return new Op(Kind.COMMIT, ps, skew, length, r.nextInt(7) == 0);
    }
    if (roll < 68) {
      return new Op(Kind.READ, pick(r, usable, 3), new long[0], new long[0], false);
    }
    if (roll < 73) {
      return new Op(Kind.READ_GROUP, List.of(), new long[0], new long[0], false);
    }
    if (roll < 81) {
      List<Partition> ps = pick(r, mine, 2);
      long[] values = new long[ps.size()];
      for (int i = 0; i < ps.size(); i++) {
        values[i] = start(r);
      }
      return new Op(Kind.OVERWRITE, ps, values, new long[0], false);
    }
    if (roll < 88) {
      return new Op(Kind.DELETE_PARTITIONS, pick(r, mine, 2), new long[0], new long[0], false);
    }
    if (roll < 91 && sequential) {
      return new Op(Kind.DELETE_GROUP, List.of(), new long[0], new long[0], false);
    }
    if (roll < 94) {
      return new Op(Kind.REOPEN, List.of(), new long[0], new long[0], false);
    }
    return new Op(Kind.PREPARE, List.of(), new long[0], new long[0], false);
  }

  private static Op initialize(Random r, List<Partition> ps) {
    long[] starts = new long[ps.size()];
    for (int i = 0; i < ps.size(); i++) {
      starts[i] = start(r);
    }
    return new Op(Kind.INITIALIZE, ps, starts, new long[0], false);
  }

  private static long start(Random r) {
    return r.nextInt(8) == 0 ? BIG + 2L * r.nextInt(50) : r.nextInt(20);
  }

  private static List<Partition> pick(Random r, List<Partition> from, int most) {
    List<Partition> copy = new ArrayList<>(from);
    Collections.shuffle(copy, r);
    return List.copyOf(copy.subList(0, 1 + r.nextInt(Math.min(most, copy.size()))));
  }
}
