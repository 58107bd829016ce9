package dev.receptive.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The receptive command line. Exit codes: 0 ok, 1 failure, 2 bad usage. */
@Command(name = "receptive", mixinStandardHelpOptions = true, version = "receptive 0.1.0",
        description = "Train and run convolutional networks on the JVM, on a CUDA GPU or any CPU.",
        subcommands = {BenchCommand.class, DoctorCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("receptive " + cmd.getCommandName() + ": " + message(e));
            return 1;
        });
        return cli.execute(args);
    }

    private static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
