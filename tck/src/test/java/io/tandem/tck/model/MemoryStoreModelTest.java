package io.tandem.tck.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.spi.OffsetConflictException;
import io.tandem.spi.OffsetConflictException.Conflict;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.tck.memory.MemoryDatabase;
import io.tandem.tck.memory.MemoryOffsetStore;
import io.tandem.tck.memory.MemoryTransaction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * Model-based test of the reference store: random programs of initialize, read, commit, overwrite
 * and delete, issued by three actors on two store instances over one database, each actor
 * committing from the positions it last read (so its view goes stale as the others move, as a
 * consumer's does), checked after every step against a model of the contract: which commits win,
 * which conflict and with what, every position, and a fold (a counter every commit adds its record
 * count to) that is exact only if each successful commit applied its writer once. jqwik shrinks a
 * failing program to a minimal one.
 */
class MemoryStoreModelTest {

  private static final String GROUP = "model";
  private static final List<Partition> PARTITIONS =
      List.of(Partition.of("a", 0), Partition.of("a", 1), Partition.of("b", 0));

  @Property(tries = 300)
  void referenceStoreAgreesWithTheModel(
      @ForAll @Size(max = 80) List<@IntRange(min = 0, max = Integer.MAX_VALUE) Integer> program) {
    MemoryDatabase db = new MemoryDatabase();
    run(program, () -> MemoryOffsetStore.builder().database(db).build(), db);
  }

  /** The property can fail: a store that never compares {@code from} breaks it at once. */
  @Test
  void aStoreIgnoringFromDisagreesWithTheModel() {
    MemoryDatabase db = new MemoryDatabase();
    // initialize a-0 at 0 (op 1), actor 0 reads (op 0), actor 1 reads, actor 0 commits a-0 by 3,
    // actor 1 commits a-0 from its stale view: the model expects a conflict.
    List<Integer> program = List.of(code(1, 0, 0, 0), code(0, 0, 0, 0), code(0, 1, 0, 0));
    List<Integer> commits = List.of(code(2, 0, 1, 3), code(2, 1, 1, 3));
    List<Integer> all = new ArrayList<>(program);
    all.addAll(commits);
    Function<MemoryOffsetStore.Builder, MemoryOffsetStore> ignoringFrom =
        b ->
            new MemoryOffsetStore(b) {
              @Override
              protected List<Conflict> conflicts(
                  String group, List<OffsetRange> ranges, Map<Partition, Long> stored) {
                return List.of();
              }
            };
    assertThatThrownBy(
            () -> run(all, () -> ignoringFrom.apply(MemoryOffsetStore.builder().database(db)), db))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("conflict");
  }

  /** Encodes one step: operation, actor, partition mask or index, amount. */
  private static int code(int op, int actor, int partitions, int amount) {
    return op + 6 * (actor + 3 * (partitions + 8 * amount));
  }

  private static void run(
      List<Integer> program,
      java.util.function.Supplier<MemoryOffsetStore> open,
      MemoryDatabase db) {
    List<OffsetStore<MemoryTransaction>> stores = List.of(open.get(), open.get());
    Map<Partition, Long> model = new TreeMap<>();
    long fold = 0;
    List<Map<Partition, Long>> views = List.of(new HashMap<>(), new HashMap<>(), new HashMap<>());
    int step = 0;
    for (int c : program) {
      step++;
      int op = c % 6;
      int actor = (c / 6) % 3;
      int mask = (c / 18) % 8;
      long amount = (c / 144) % 5;
      Partition one = PARTITIONS.get(mask % PARTITIONS.size());
      OffsetStore<MemoryTransaction> s = stores.get(actor % 2);
      Map<Partition, Long> view = views.get(actor);
      String at = "step " + step + " (op " + op + ", actor " + actor + ")";
      switch (op) {
        case 0 -> {
          view.clear();
          view.putAll(s.positions(GROUP, PARTITIONS));
          assertThat(new TreeMap<>(view)).as(at + ": positions read").isEqualTo(model);
        }
        case 1 -> {
          Map<Partition, Long> got = s.initialize(GROUP, Map.of(one, amount * 10));
          model.putIfAbsent(one, amount * 10);
          assertThat(got).as(at + ": initialize returned").isEqualTo(Map.of(one, model.get(one)));
        }
        case 2 -> {
          List<OffsetRange> ranges = new ArrayList<>();
          Map<Partition, Long> expectedFound = new HashMap<>();
          List<Conflict> expected = new ArrayList<>();
          for (int i = 0; i < PARTITIONS.size(); i++) {
            if ((mask & (1 << i)) == 0 && !(mask == 0 && i == 0)) {
              continue;
            }
            Partition p = PARTITIONS.get(i);
            long from = view.getOrDefault(p, 0L);
            ranges.add(new OffsetRange(p, from, from + amount));
            Long stored = model.get(p);
            if (stored == null) {
              expected.add(Conflict.missing(p, from));
            } else if (stored != from) {
              expected.add(Conflict.of(p, from, stored));
            }
            expectedFound.put(p, from + amount);
          }
          long records = ranges.stream().mapToLong(r -> r.until() - r.from()).sum();
          try {
            s.commit(GROUP, ranges, tx -> tx.add("fold", records));
            assertThat(expected)
                .as(at + ": commit " + ranges + " succeeded, model expects conflict")
                .isEmpty();
            model.putAll(expectedFound);
            view.putAll(expectedFound);
            fold += records;
          } catch (OffsetConflictException e) {
            assertThat(new HashSet<>(e.conflicts()))
                .as(at + ": conflict of commit " + ranges)
                .isEqualTo(new HashSet<>(expected));
            assertThat(expected).as(at + ": model expects no conflict").isNotEmpty();
          }
        }
        case 3 -> {
          s.overwrite(GROUP, Map.of(one, amount * 7));
          model.put(one, amount * 7);
        }
        case 4 -> {
          int n = s.delete(GROUP, List.of(one));
          assertThat(n)
              .as(at + ": delete(" + one + ") count")
              .isEqualTo(model.remove(one) == null ? 0 : 1);
        }
        default -> {
          boolean had = !model.isEmpty();
          assertThat(s.delete(GROUP)).as(at + ": delete(group)").isEqualTo(had);
          model.clear();
        }
      }
      assertThat(new TreeMap<>(stores.get(1 - actor % 2).positions(GROUP)))
          .as(at + ": positions(group) on the other instance")
          .isEqualTo(model);
      assertThat(db.counters().getOrDefault("fold", 0L))
          .as(at + ": the fold (records of successful commits, once each)")
          .isEqualTo(fold);
    }
  }
}
