package io.tandem.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

class ReportTest {

  private static PipelineResult run(String store, String variant, int consumers, double perSecond) {
    return new PipelineResult(
        store,
        variant,
        consumers,
        1000,
        (long) (perSecond * 10),
        10.0,
        2.0,
        9.0,
        1000,
        64L << 20,
        300 * 1024,
        List.of(60L << 20, 61L << 20, 62L << 20),
        List.of(290L * 1024, 295L * 1024, 300L * 1024),
        0.93);
  }

  private static Report sample() {
    List<PipelineResult> p = new ArrayList<>();
    p.add(run("postgres", "tandem", 1, 9_600));
    p.add(run("postgres", "at-least-once", 1, 8_000));
    p.add(run("postgres", "hand-written", 1, 10_000));
    p.add(run("postgres", "no-kafka", 1, 12_000));
    p.add(run("postgres", "tandem", 2, 12_000));
    p.add(run("redis", "tandem", 1, 5_000));
    p.add(run("redis", "at-least-once", 1, 6_000));
    List<MicroResult> m =
        List.of(new MicroResult("postgres", 10, 100, 4.0, 3.5, 20.0, 500, 2.0, 1.8, 9.0, 900));
    return new Report(
        Map.of("machine", "2 CPUs"), Map.of("postgres", "PostgreSQL 14"), m, p, List.of("a note"));
  }

  @Test
  void ratiosDivideRecordsPerSecondOfTheSamePoint() {
    Report r = sample();
    assertThat(r.ratio("postgres", "tandem", 1, 1000, "hand-written", 1)).isEqualTo(0.96);
    assertThat(r.ratio("postgres", "tandem", 1, 1000, "no-kafka", 1)).isEqualTo(0.8);
    assertThat(r.ratio("postgres", "tandem", 2, 1000, "tandem", 1)).isEqualTo(1.25);
    assertThat(r.ratio("redis", "tandem", 1, 1000, "hand-written", 1)).isNaN();
  }

  @Test
  void subscribedTargetsAppearOnlyWhenMeasured() {
    assertThat(sample().targets()).noneSatisfy(row -> assertThat(row[0]).contains("subscribed"));
    List<PipelineResult> p = new ArrayList<>();
    p.add(run("postgres", "tandem", 1, 9_600));
    p.add(run("postgres", "no-kafka", 1, 12_000));
    p.add(run("postgres", "tandem-subscribed", 1, 11_000));
    p.add(run("postgres", "hand-written-subscribed", 1, 10_000));
    List<String[]> t =
        new Report(Map.of(), Map.of("postgres", "PostgreSQL 14"), List.of(), p, List.of())
            .targets();
    assertThat(t)
        .anySatisfy(
            row -> {
              assertThat(row[0]).startsWith("PostgreSQL subscribed: Tandem / hand-written");
              assertThat(row[2]).isEqualTo("1.100");
              assertThat(row[3]).isEqualTo("yes");
            })
        .anySatisfy(
            row -> {
              assertThat(row[0]).startsWith("PostgreSQL subscribed: Tandem / same upserts");
              assertThat(row[2]).isEqualTo("0.917");
              assertThat(row[3]).isEqualTo("**no**");
            });
  }

  @Test
  void targetsSayWhichAreMissed() {
    List<String[]> t = sample().targets();
    assertThat(t)
        .anySatisfy(
            row -> {
              assertThat(row[0]).contains("hand-written");
              assertThat(row[2]).isEqualTo("0.960");
              assertThat(row[3]).isEqualTo("yes");
            })
        .anySatisfy(
            row -> {
              assertThat(row[0]).contains("redis: exactly-once / at-least-once");
              assertThat(row[3]).isEqualTo("**no**");
            })
        .anySatisfy(
            row -> {
              // 93 % busy with one consumer: the target does not apply, and the row says why.
              assertThat(row[0]).contains("postgres: Tandem 2 consumers");
              assertThat(row[3]).isEqualTo("n/a: 7 % idle with 1 (< 40 %)");
            });
  }

  @Test
  void scaleOutTargetAppliesWhenOneConsumerLeavesFortyPercentIdle() {
    List<PipelineResult> p = new ArrayList<>();
    p.add(busy(run("redis", "tandem", 1, 5_000), 0.55));
    p.add(busy(run("redis", "tandem", 2, 6_000), 0.90));
    List<String[]> t = new Report(Map.of(), Map.of(), List.of(), p, List.of()).targets();
    assertThat(t)
        .anySatisfy(
            row -> {
              assertThat(row[0]).contains("redis: Tandem 2 consumers").contains("55 % busy");
              assertThat(row[2]).isEqualTo("1.200");
              assertThat(row[3]).isEqualTo("**no**");
            });
  }

  private static PipelineResult busy(PipelineResult r, double machineBusy) {
    return new PipelineResult(
        r.store(),
        r.variant(),
        r.consumers(),
        r.poll(),
        r.records(),
        r.seconds(),
        r.p50Ms(),
        r.p99Ms(),
        r.meanBatch(),
        r.peakHeapAfterGc(),
        r.peakRssKb(),
        r.heapAt(),
        r.rssAt(),
        machineBusy,
        r.conflictsPerCommit(),
        r.retriesPerCommit());
  }

  @Test
  void markdownHasEveryRunAndTheMicroRatio() {
    String md = sample().markdown();
    assertThat(md).contains("| machine CPU busy % |").contains("| 93 |");
    assertThat(md).contains("![records per second, reference point](report.svg)");
    assertThat(md)
        .contains("| postgres | 10 | 100 | 250 | 3.50 | 20.00 | 500 | 1.80 | 9.00 | 0.50 |");
    assertThat(md).contains("| redis | 1 | 1000 | at-least-once | 60,000 | 6,000 |");
    assertThat(md).contains("| postgres | 1 | 1000 | tandem | 60 | 62 | 2.0 | 290 | 300 |");
  }

  @Test
  void svgIsWellFormedWithABarPerRunAtTheReferencePoint() throws Exception {
    String svg = sample().svg();
    Document d =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    assertThat(d.getDocumentElement().getTagName()).isEqualTo("svg");
    // background + 6 bars at 1 consumer + 4 legend swatches
    assertThat(d.getElementsByTagName("rect").getLength()).isEqualTo(1 + 6 + 4);
    assertThat(svg).contains("postgres tandem: 9,600 records/s");
  }

  @Test
  void niceCeilingRoundsUpToOneTwoOrFive() {
    assertThat(Report.niceCeiling(7_300)).isEqualTo(10_000);
    assertThat(Report.niceCeiling(1_200)).isEqualTo(2_000);
    assertThat(Report.niceCeiling(5_000)).isEqualTo(5_000);
    assertThat(Report.niceCeiling(0.3)).isEqualTo(0.5, org.assertj.core.data.Offset.offset(1e-12));
  }

  @Test
  void percentilesAreNearestRank() {
    long[] v = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    assertThat(Latencies.percentile(v.clone(), 50)).isEqualTo(5);
    assertThat(Latencies.percentile(v.clone(), 99)).isEqualTo(10);
    assertThat(Latencies.percentile(new long[0], 50)).isNaN();
    assertThatThrownBy(() -> Latencies.percentile(v.clone(), 101))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("101");
  }

  @Test
  void procStatusFieldsParseInKib() {
    String status = "Name:\tjava\nVmHWM:\t  412340 kB\nVmRSS:\t  398000 kB\n";
    assertThat(Memory.parseStatus(status, "VmHWM")).isEqualTo(412_340);
    assertThat(Memory.parseStatus(status, "VmRSS")).isEqualTo(398_000);
    assertThat(Memory.parseStatus(status, "VmSwap")).isEqualTo(-1);
  }

  @Test
  void procStatGivesTheBusyShareOfAllCores() {
    // user nice system idle iowait irq softirq steal guest guest_nice
    CpuTicks a = CpuTicks.parse("cpu  100 0 50 800 50 0 0 0 20 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n");
    CpuTicks b = CpuTicks.parse("cpu  250 0 100 840 60 0 0 0 30 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n");
    // busy 150 + 50 = 200 of 200 + 40 + 10 = 250 ticks.
    assertThat(CpuTicks.busyBetween(a, b)).isEqualTo(0.8);
    assertThat(CpuTicks.busyBetween(a, null)).isNaN();
    assertThat(CpuTicks.busyBetween(b, a)).isNaN();
  }

  @Test
  void batchRowsKeepTheLastValuePerKey() {
    List<org.apache.kafka.clients.consumer.ConsumerRecord<String, String>> records =
        List.of(
            new org.apache.kafka.clients.consumer.ConsumerRecord<>("t", 0, 0, "k1", "a"),
            new org.apache.kafka.clients.consumer.ConsumerRecord<>("t", 1, 0, "k2", "b"),
            new org.apache.kafka.clients.consumer.ConsumerRecord<>("t", 0, 1, "k1", "c"));
    assertThat(Pipeline.rows(records)).containsExactly(new Row("k1", "c"), new Row("k2", "b"));
  }

  @Test
  void firstRecordsTakesEvenlyFromEachPartition() {
    Map<Integer, Long> ends = Map.of(0, 100L, 1, 100L, 2, 100L);
    assertThat(Bench.firstRecords(ends, 30)).isEqualTo(Map.of(0, 10L, 1, 10L, 2, 10L));
    assertThat(Bench.firstRecords(ends, 31).values().stream().mapToLong(Long::longValue).sum())
        .isEqualTo(31);
    assertThat(Bench.firstRecords(ends, 1000)).isEqualTo(ends);
  }
}
