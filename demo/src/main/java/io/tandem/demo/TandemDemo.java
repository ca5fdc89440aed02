package io.tandem.demo;

import io.tandem.cli.Tandem;
import picocli.CommandLine;

/**
 * The demo application: the {@code tandem} command of {@code tandem-cli} with {@code demo} added
 * (an embedded broker and store, consumer JVMs killed while they work, and a verification).
 */
public final class TandemDemo {

  private TandemDemo() {}

  /**
   * Runs the command line and exits with its status.
   *
   * @param args the arguments, e.g. {@code demo --records 100000}
   */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /**
   * The {@code tandem} command line with {@code demo}.
   *
   * @return a new command line
   */
  static CommandLine commandLine() {
    CommandLine cli = Tandem.commandLine();
    cli.addSubcommand(new DemoCommand());
    return cli;
  }
}
