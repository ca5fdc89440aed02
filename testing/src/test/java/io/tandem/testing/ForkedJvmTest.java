package io.tandem.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The forked-JVM harness against a small child ({@link Child}) that speaks its line protocol. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ForkedJvmTest {

  @TempDir Path logs;

  /** The child: counts commands, reports them as stats, exits 0 on stop. */
  public static final class Child {
    private Child() {}

    /**
     * Runs until stopped.
     *
     * @param args one argument, echoed in the {@code started} event
     * @throws InterruptedException never in practice
     */
    public static void main(String[] args) throws InterruptedException {
      long[] count = {0};
      ForkChannel[] channel = new ForkChannel[1];
      channel[0] =
          ForkChannel.open(
              command -> {
                synchronized (count) {
                  count[0]++;
                  channel[0].event("got " + command);
                  channel[0].event("stats commands=" + count[0]);
                }
              });
      System.out.println("noise on System.out is not an event");
      channel[0].event("started " + args[0]);
      while (!channel[0].awaitStop(50, TimeUnit.MILLISECONDS)) {
        // idle until stop
      }
      channel[0].event("stopped");
      System.exit(0);
    }
  }

  private ForkedJvm start(String name) {
    return ForkedJvm.builder(name, Child.class.getName())
        .args(List.of("hello"))
        .logDir(logs)
        .start();
  }

  @Test
  void eventsCommandsAndACleanStop() throws Exception {
    try (ForkedJvm fork = start("clean")) {
      assertThat(fork.await("started", Duration.ofSeconds(60))).contains("started hello");
      fork.send("one");
      fork.send("two");
      assertThat(fork.awaitStats(s -> s.getOrDefault("commands", 0L) == 2, Duration.ofSeconds(30)))
          .isTrue();
      assertThat(fork.event("got")).contains("got one");
      assertThat(fork.event("noise")).isEmpty();
      assertThat(fork.stop(Duration.ofSeconds(30))).as("exited 0 by itself").isTrue();
      assertThat(fork.exitValue()).contains(0);
    }
    assertThat(Files.readString(logs.resolve("clean.log")))
        .contains("noise on System.out is not an event")
        .contains(ForkChannel.PREFIX + "stopped");
  }

  @Test
  void sigkillEndsTheJvmAtOnce() throws Exception {
    try (ForkedJvm fork = start("killed")) {
      assertThat(fork.await("started", Duration.ofSeconds(60))).isPresent();
      fork.kill();
      assertThat(fork.alive()).isFalse();
      // 128 + SIGKILL(9): killed, not exited.
      assertThat(fork.exitValue()).contains(137);
      assertThat(fork.await("stopped", Duration.ofMillis(100))).isEmpty();
    }
  }

  @Test
  void aPausedJvmAnswersOnlyAfterResume() throws Exception {
    try (ForkedJvm fork = start("paused")) {
      assertThat(fork.await("started", Duration.ofSeconds(60))).isPresent();
      fork.pause();
      fork.send("while-paused");
      assertThat(fork.await("got while-paused", Duration.ofSeconds(2)))
          .as("no thread runs in a stopped JVM")
          .isEmpty();
      fork.resume();
      assertThat(fork.await("got while-paused", Duration.ofSeconds(30))).isPresent();
    }
  }

  @Test
  void aNameThatIsNoFileNameIsRefused() {
    assertThatThrownBy(() -> ForkedJvm.builder("a/b", Child.class.getName()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("name='a/b'");
  }
}
