package io.tandem.jdbc;

import io.tandem.spi.Capabilities;
import io.tandem.spi.OffsetRange;
import io.tandem.spi.OffsetStore;
import io.tandem.spi.Partition;
import io.tandem.spi.ResultWriteException;
import io.tandem.spi.ResultWriter;
import io.tandem.spi.StoreArguments;
import io.tandem.tck.OffsetStoreVerification;
import io.tandem.tck.ResultProbe;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Deliberately broken JDBC stores and TCK subclasses over them, run by {@link
 * BrokenStoreFailsTckIT} through the JUnit launcher to show that the kit catches each flaw. Their
 * names match neither Surefire's nor Failsafe's patterns, so the build does not run them directly.
 */
final class BrokenKits {

  private BrokenKits() {}

  static final String URL = "jdbc:h2:mem:broken_kits;DB_CLOSE_DELAY=-1";

  private static final SqlResultProbe PROBE =
      new SqlResultProbe(() -> DriverManager.getConnection(URL), "broken_results");

  /** Delegates everything to a real store except what a subclass breaks. */
  abstract static class Delegating implements OffsetStore<Connection> {
    final JdbcOffsetStore real =
        JdbcOffsetStore.open(
            JdbcStoreConfig.builder().url(URL).tableName("broken_offsets").poolSize(10).build());

    @Override
    public Capabilities capabilities() {
      return real.capabilities();
    }

    @Override
    public Class<Connection> handleType() {
      return Connection.class;
    }

    @Override
    public Map<Partition, Long> positions(String group, Collection<Partition> partitions) {
      return real.positions(group, partitions);
    }

    @Override
    public Map<Partition, Long> initialize(String group, Map<Partition, Long> starts) {
      return real.initialize(group, starts);
    }

    @Override
    public Set<String> groups() {
      return real.groups();
    }

    @Override
    public Map<Partition, Long> positions(String group) {
      return real.positions(group);
    }

    @Override
    public void overwrite(String group, Map<Partition, Long> positions) {
      real.overwrite(group, positions);
    }

    @Override
    public boolean delete(String group) {
      return real.delete(group);
    }

    @Override
    public int delete(String group, Collection<Partition> partitions) {
      return real.delete(group, partitions);
    }

    @Override
    public void close() {
      real.close();
    }
  }

  /**
   * The classic mistake: results written on a second, auto-commit connection, then the offsets
   * committed on their own. Results of failed or conflicting commits stay.
   */
  static final class ResultsOutsideTransaction extends Delegating {
    @Override
    public void commit(
        String group, Collection<OffsetRange> ranges, ResultWriter<Connection> results) {
      StoreArguments.group(group);
      StoreArguments.ranges(ranges, JdbcOffsetStore.MAX_RANGES_PER_COMMIT);
      StoreArguments.results(results);
      try (Connection side = DriverManager.getConnection(URL)) {
        side.setAutoCommit(true);
        results.write(side);
      } catch (Exception e) {
        throw new ResultWriteException("writer failed", e);
      }
      real.commit(group, ranges, ResultWriter.none());
    }
  }

  /**
   * No contiguity check: positions are set to each range's end whatever they were (a blind UPDATE).
   * Gaps, overlaps and races all "succeed".
   */
  static final class BlindAdvance extends Delegating {
    @Override
    public void commit(
        String group, Collection<OffsetRange> ranges, ResultWriter<Connection> results) {
      StoreArguments.group(group);
      StoreArguments.ranges(ranges, JdbcOffsetStore.MAX_RANGES_PER_COMMIT);
      StoreArguments.results(results);
      Map<Partition, Long> ends = new HashMap<>();
      ranges.forEach(r -> ends.put(r.partition(), r.until()));
      Map<Partition, Long> now = real.positions(group, ends.keySet());
      // Only "is there a position at all" is checked, by an empty range at whatever stands.
      real.commit(
          group,
          ranges.stream()
              .map(
                  r -> {
                    long at = now.getOrDefault(r.partition(), r.from());
                    return new OffsetRange(r.partition(), at, at);
                  })
              .toList(),
          ResultWriter.none());
      try (Connection side = DriverManager.getConnection(URL)) {
        side.setAutoCommit(false);
        results.write(side);
        side.commit();
      } catch (Exception e) {
        throw new ResultWriteException("writer failed", e);
      }
      real.overwrite(group, ends);
    }
  }

  /** The kit over {@link ResultsOutsideTransaction}. */
  static class OutsideTransactionKit extends OffsetStoreVerification<Connection> {
    @Override
    protected OffsetStore<Connection> newStore() {
      return new ResultsOutsideTransaction();
    }

    @Override
    protected ResultProbe<Connection> probe() {
      return PROBE;
    }
  }

  /** The kit over {@link BlindAdvance}. */
  static class BlindAdvanceKit extends OffsetStoreVerification<Connection> {
    @Override
    protected OffsetStore<Connection> newStore() {
      return new BlindAdvance();
    }

    @Override
    protected ResultProbe<Connection> probe() {
      return PROBE;
    }
  }
}
