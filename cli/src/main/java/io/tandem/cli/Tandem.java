package io.tandem.cli;

import io.tandem.spi.OffsetStoreException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code tandem} admin command: {@code tandem offsets} (administration of stored positions in
 * any store). It carries every store module and the Kafka client, no broker and no test server;
 * {@code tandem demo} is the {@code tandem-demo} application, which adds its command to this one
 * ({@link #commandLine()}).
 *
 * <p>Exit status: 0 success, 1 a verification found a duplicate or a loss or a store operation
 * failed, 2 bad usage or configuration.
 */
@Command(
    name = "tandem",
    mixinStandardHelpOptions = true,
    versionProvider = Tandem.Version.class,
    description = "Exactly-once Kafka consumers: results and offsets committed together.",
    footer = {"", "The demo (an embedded broker, crashing consumers): tandem demo --help"},
    subcommands = {OffsetsCommand.class, CommandLine.HelpCommand.class})
public final class Tandem implements Runnable {

  /** Exit status when a verification or a store operation fails. */
  public static final int FAILED = 1;

  /** Exit status for bad usage or configuration. */
  public static final int USAGE = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * Runs the command line and exits with its status.
   *
   * @param args the arguments
   */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /**
   * Runs the command line and returns its exit status, for tests.
   *
   * @param args the arguments
   * @return the exit status
   */
  static int run(String... args) {
    return commandLine().execute(args);
  }

  /**
   * The command line with its subcommands and error handling; an application adds its own
   * subcommands to it (as {@code tandem-demo} adds {@code demo}).
   *
   * @return a new command line
   */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Tandem());
    cli.setExecutionExceptionHandler(Tandem::handle);
    return cli;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** A store or configuration error is the user's to fix: one clear line, no stack trace. */
  private static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parseResult) {
    PrintWriter err = cli.getErr();
    boolean verbose = Boolean.getBoolean("tandem.verbose");
    if (e instanceof io.tandem.spi.StoreConfigurationException || e instanceof UsageException) {
      err.println(cli.getColorScheme().errorText("tandem: " + e.getMessage()));
      if (verbose) {
        e.printStackTrace(err);
      }
      return USAGE;
    }
    if (e instanceof OffsetStoreException) {
      err.println(cli.getColorScheme().errorText("tandem: " + e.getMessage()));
      if (verbose) {
        e.printStackTrace(err);
      } else {
        err.println("(run with -Dtandem.verbose=true for the stack trace)");
      }
      return FAILED;
    }
    err.println(cli.getColorScheme().errorText("tandem: " + e));
    e.printStackTrace(err);
    return FAILED;
  }

  /** Bad arguments found after parsing (a combination picocli cannot express): exit status 2. */
  public static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * A usage error.
     *
     * @param message what was wrong, for the user
     */
    public UsageException(String message) {
      super(message);
    }
  }

  /** The version from the jar's manifest, or "dev" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Tandem.class.getPackage().getImplementationVersion();
      return new String[] {"tandem " + (v == null ? "dev" : v)};
    }
  }
}
