package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Running out of memory ends the command line with one line that says what it was doing and how to give it more. */
class OutOfMemoryTest {
    @TempDir
    Path dir;

    @Test
    void outOfMemoryWhileTrainingIsOneLineWithTheHeapHint() throws Exception {
        Path data = FixtureData.folder(dir);
        // The seed network's weights and gradients (26 MB) fit this heap, so the model is built;
        // Adam's state and a step's activations do not (training ran out of memory at 64 to 96 MB).
        String[] args = trainArgs(data);
        CliRun r = ChildJvm.run(dir, List.of("-Xmx72m", "-XX:+UseSerialGC"), Map.of(), 120, args);
        assertEquals(1, r.code(), r.toString());
        String line = oneLine(r);
        assertTrue(line.startsWith("receptive train: out of memory while training"), line);
        assertTrue(line.contains("-Xmx"), line);
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r);

        CliRun v = ChildJvm.run(dir, List.of("-Xmx72m", "-XX:+UseSerialGC"), Map.of(), 120, verbose(args));
        assertEquals(1, v.code(), v.toString());
        assertTrue(v.err().contains("java.lang.OutOfMemoryError"), v.toString());
        assertTrue(v.err().contains("\tat "), "the stack trace with --verbose: " + v);
    }

    @Test
    void aModelLargerThanTheHeapIsRefusedInOneLineWithTheHeapHint() throws Exception {
        Path data = FixtureData.folder(dir);
        // The seed network's weights, gradients and the array its initial weights are drawn into
        // need 37 MB: more than this heap has free. Refused before allocating, as running out of
        // memory (exit 1), not as bad usage.
        String[] args = trainArgs(data);
        CliRun r = ChildJvm.run(dir, List.of("-Xmx40m", "-XX:+UseSerialGC"), Map.of(), 120, args);
        assertEquals(1, r.code(), r.toString());
        String line = oneLine(r);
        assertTrue(line.startsWith("receptive train: --model seednet: ") && line.contains("3274634 parameters need")
                && line.contains("MB free") && line.contains("-Xmx"), line);
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r);

        CliRun v = ChildJvm.run(dir, List.of("-Xmx40m", "-XX:+UseSerialGC"), Map.of(), 120, verbose(args));
        assertEquals(1, v.code(), v.toString());
        assertTrue(v.err().contains("ModelTooLargeException") && v.err().contains("\tat "), v.toString());
    }

    private String[] trainArgs(Path data) {
        return new String[] {"train", "--dataset", "fashion-mnist", "--data", data.toString(), "--limit", "100",
            "--epochs", "1", "--backend", "cpu", "--out", dir.resolve("run").toString()};
    }

    private static String[] verbose(String[] args) {
        String[] verbose = new String[args.length + 1];
        System.arraycopy(args, 0, verbose, 0, args.length);
        verbose[args.length] = "--verbose";
        return verbose;
    }

    /**
     * The command's own output, besides the run's header, is one line, the last; the library's
     * log (the scalar-kernel warning when the Vector API module is absent) may precede it.
     */
    private static String oneLine(CliRun r) {
        assertEquals(1, r.errLines().stream().filter(l -> l.startsWith("receptive train: ")
                && !l.startsWith("receptive train: fashion-mnist (")).count(), r.toString());
        return r.errLines().get(r.errLines().size() - 1);
    }
}
