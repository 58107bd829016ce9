package dev.receptive.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The command line in a JVM of its own (this test JVM's class path), for what a run in-process cannot show. */
final class ChildJvm {
    private ChildJvm() {
    }

    /** A started child whose stdout and stderr are appended to {@code log}. */
    static Process startLogged(Path dir, List<String> jvmOptions, Path log, String... args) throws IOException {
        ProcessBuilder pb = builder(dir, jvmOptions, Map.of(), args).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process p = pb.start();
        p.getOutputStream().close();
        return p;
    }

    /** A started child: java [jvmOptions] dev.receptive.cli.Main args, in {@code dir}. */
    static Process start(Path dir, List<String> jvmOptions, Map<String, String> env, String... args) throws IOException {
        return builder(dir, jvmOptions, env, args).start();
    }

    private static ProcessBuilder builder(Path dir, List<String> jvmOptions, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().remove("RECEPTIVE_DEBUG");
        pb.environment().putAll(env);
        return pb;
    }

    /** Runs the child to its end (at most {@code seconds}) and collects its exit code and output. */
    static CliRun run(Path dir, List<String> jvmOptions, Map<String, String> env, long seconds, String... args)
            throws IOException, InterruptedException {
        Process p = start(dir, jvmOptions, env, args);
        p.getOutputStream().close();
        // Output is small: read stderr on a thread of its own so neither pipe can fill up.
        StringBuilder err = new StringBuilder();
        Thread errReader = new Thread(() -> {
            try {
                err.append(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                err.append(e);
            }
        });
        errReader.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("the child ran past " + seconds + " s: " + String.join(" ", args));
        }
        errReader.join();
        return new CliRun(p.exitValue(), out, err.toString());
    }
}
