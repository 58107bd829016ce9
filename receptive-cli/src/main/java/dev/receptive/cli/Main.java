package dev.receptive.cli;

import dev.receptive.nn.ModelTooLargeException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The receptive command line. Exit codes: 0 ok, 1 failure (also running out of memory), 2 bad
 * usage (unknown option, missing file, a model that does not fit the data). Errors are one line
 * on stderr; --verbose or the environment variable RECEPTIVE_DEBUG adds the stack trace.
 */
@Command(name = "receptive", mixinStandardHelpOptions = true, version = "receptive 0.1.0",
        description = "Train and run convolutional networks on the JVM, on a CUDA GPU or any CPU.",
        subcommands = {TrainCommand.class, EvaluateCommand.class, PredictCommand.class, InfoCommand.class,
            ServeCommand.class, ExportCommand.class, BenchCommand.class, DoctorCommand.class})
public final class Main implements Callable<Integer> {
    static final int OK = 0;
    static final int FAILURE = 1;
    static final int USAGE = 2;
    /** Held here: java.util.logging keeps loggers weakly, and a collected one would forget its level. */
    private static final java.util.logging.Logger LIBRARY_LOG = java.util.logging.Logger.getLogger("dev.receptive");

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Print the stack trace of an error (also: environment variable RECEPTIVE_DEBUG)")
    boolean verbose;

    public static void main(String[] args) {
        // One line per library warning ("receptive: WARNING: model.safetensors: ..."), not java.util.logging's
        // two (a date and the logger's name, then the message); read when the console handler is made.
        System.setProperty("java.util.logging.SimpleFormatter.format", "receptive: %4$s: %5$s%6$s%n");
        // Charts are drawn into images, never on a screen; a server may have no display at all.
        System.setProperty("java.awt.headless", "true");
        // The library logs through System.Logger (java.util.logging here): the command line prints
        // what a user needs itself, so only the library's warnings reach the terminal.
        LIBRARY_LOG.setLevel(java.util.logging.Level.WARNING);
        System.exit(run(args));
    }

    static int run(String... args) {
        Main main = new Main();
        CommandLine cli = new CommandLine(main);
        cli.setParameterExceptionHandler((e, arguments) -> {
            CommandLine cmd = e.getCommandLine();
            String name = cmd.getCommandSpec().qualifiedName();
            cmd.getErr().println(name + ": " + e.getMessage() + suggestion(e) + " (see " + name + " --help)");
            if (main.debug()) {
                e.printStackTrace(cmd.getErr());
            }
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            err.println(cmd.getCommandSpec().qualifiedName() + ": "
                    + (outOfMemory(e) ? outOfMemoryMessage() : message(e)));
            if (main.debug()) {
                e.printStackTrace(err);
            }
            // A model too large for the heap is a lack of memory, not bad usage, even where the
            // option that named the model wrapped it.
            return e instanceof UsageException && !causedBy(e, ModelTooLargeException.class) ? USAGE : FAILURE;
        });
        Activity.set("starting");
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            // picocli passes only Exceptions to the handler above; an Error comes out here.
            CommandLine.ParseResult parsed = cli.getParseResult();
            while (parsed != null && parsed.subcommand() != null) {
                parsed = parsed.subcommand();
            }
            String name = parsed != null ? parsed.commandSpec().qualifiedName() : "receptive";
            cli.getErr().println(name + ": " + outOfMemoryMessage());
            if (main.debug()) {
                e.printStackTrace(cli.getErr());
            }
            cli.getErr().flush();
            return FAILURE;
        }
    }

    private static boolean outOfMemory(Throwable e) {
        // A model refused for its size already says what it needs and how to give it more.
        return causedBy(e, OutOfMemoryError.class) && !causedBy(e, ModelTooLargeException.class);
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** One line: what was being done, the heap's size and how to raise it. */
    private static String outOfMemoryMessage() {
        long mb = Runtime.getRuntime().maxMemory() >> 20;
        return "out of memory while " + Activity.current() + "; the Java heap holds at most " + mb
                + " MB: give it more with -Xmx, e.g. java -Xmx8g -jar receptive.jar ...";
    }

    /** No command given: say so on one line, as for any other bad usage. */
    @Override
    public Integer call() {
        System.err.println("receptive: missing command: train, evaluate, predict, info, serve, bench or doctor (see receptive --help)");
        return USAGE;
    }

    private boolean debug() {
        String env = System.getenv("RECEPTIVE_DEBUG");
        return verbose || (env != null && !env.isEmpty());
    }

    /** "; did you mean train?" for a mistyped command or option, picocli's closest candidates; else "". */
    private static String suggestion(CommandLine.ParameterException e) {
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            List<String> names = u.getSuggestions();
            return "; did you mean " + String.join(" or ", names.subList(0, Math.min(3, names.size()))) + "?";
        }
        return "";
    }

    /**
     * The message on one line; exceptions without one are named by their class. A message that
     * Receptive did not write (an exception made outside its code: the JDK's, a library's) comes
     * after Receptive's own words of what was being done, so it is never the whole story.
     */
    static String message(Throwable e) {
        String m = e.getMessage() != null ? e.getMessage() : e.toString();
        StackTraceElement[] at = e.getStackTrace();
        if (at.length > 0 && !at[0].getClassName().startsWith("dev.receptive.")) {
            m = "failed while " + Activity.current() + ": " + m + " (" + e.getClass().getName() + ")";
        }
        return m.replaceAll("\\s*\\R\\s*", " ");
    }
}
