package io.tandem.cli;

import io.tandem.spi.OffsetStoreException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code tandem} admin command: {@code tandem offsets} (administration of stored positions in
 * any store), {@code tandem lag}, {@code tandem store}. It carries every store module and the Kafka
 * client, no broker and no test server; {@code tandem demo} is the {@code tandem-demo} application,
 * which adds its command to this one ({@link #commandLine()}).
 *
 * <p>Exit status: {@value #OK} success; {@value #FAILED} a verification found a duplicate or a
 * loss, or a store operation failed; {@value #USAGE} bad usage or configuration (malformed URI,
 * unknown scheme, bad option); {@value #UNREACHABLE} the store or Kafka cannot be reached; {@value
 * #NOT_FOUND} unknown group; {@value #REFUSED} a change refused (live members, not confirmed).
 */
@Command(
    name = "tandem",
    mixinStandardHelpOptions = true,
    versionProvider = Tandem.Version.class,
    description = "Exactly-once Kafka consumers: results and offsets committed together.",
    footer = {"", "The demo (an embedded broker, crashing consumers): tandem demo --help"},
    subcommands = {
      OffsetsCommand.class,
      LagCommand.class,
      StoreCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Tandem implements Runnable {

  /** Exit status on success. */
  public static final int OK = 0;

  /** Exit status when a verification or a store operation fails. */
  public static final int FAILED = 1;

  /** Exit status for bad usage or configuration. */
  public static final int USAGE = 2;

  /** Exit status when the store or Kafka cannot be reached. */
  public static final int UNREACHABLE = 3;

  /** Exit status for an unknown group. */
  public static final int NOT_FOUND = 4;

  /** Exit status for a change refused (live members, no confirmation). */
  public static final int REFUSED = 5;

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

  /** Every error the user can act on is one clear line, no stack trace, and its exit status. */
  private static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parseResult) {
    int status;
    if (e instanceof io.tandem.spi.StoreConfigurationException || e instanceof UsageException) {
      status = USAGE;
    } else if (e instanceof io.tandem.spi.StoreUnavailableException) {
      status = UNREACHABLE;
    } else if (e instanceof KafkaOffsets.KafkaException) {
      status = UNREACHABLE;
    } else if (e instanceof NotFoundException) {
      status = NOT_FOUND;
    } else if (e instanceof RefusedException) {
      status = REFUSED;
    } else if (e instanceof OffsetStoreException || e instanceof FailedException) {
      status = FAILED;
    } else {
      PrintWriter err = cli.getErr();
      err.println(cli.getColorScheme().errorText("tandem: " + e));
      e.printStackTrace(err);
      return FAILED;
    }
    PrintWriter err = cli.getErr();
    String message = e.getMessage();
    if (status == UNREACHABLE && e instanceof io.tandem.spi.StoreUnavailableException) {
      // The store's message is written for the runtime ("retry after re-reading positions").
      message = "store unreachable: " + message;
    }
    err.println(cli.getColorScheme().errorText("tandem: " + message));
    if (Boolean.getBoolean("tandem.verbose")) {
      e.printStackTrace(err);
    }
    return status;
  }

  /** An unknown group: exit status {@value #NOT_FOUND}. */
  static final class NotFoundException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotFoundException(String message) {
      super(message);
    }
  }

  /** A change refused: exit status {@value #REFUSED}. */
  static final class RefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RefusedException(String message) {
      super(message);
    }
  }

  /** A check failed: exit status {@value #FAILED}. */
  static final class FailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FailedException(String message) {
      super(message);
    }
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
