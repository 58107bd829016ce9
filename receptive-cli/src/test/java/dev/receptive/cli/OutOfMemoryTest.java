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
    void outOfMemoryIsOneLineWithTheHeapHint() throws Exception {
        Path data = FixtureData.folder(dir);
        // The seed network's weights, gradients and Adam state need about 52 MB: more than this heap.
        String[] args = {"train", "--dataset", "fashion-mnist", "--data", data.toString(), "--limit", "100",
            "--epochs", "1", "--backend", "cpu", "--out", dir.resolve("run").toString()};
        CliRun r = ChildJvm.run(dir, List.of("-Xmx40m", "-XX:+UseSerialGC"), Map.of(), 120, args);
        assertEquals(1, r.code(), r.toString());
        // Besides the run's header, the command's own output is the one line; the library's log
        // (the scalar-kernel warning when the Vector API module is absent) may precede it.
        assertEquals(1, r.errLines().stream().filter(l -> l.startsWith("receptive train: ")
                && !l.startsWith("receptive train: fashion-mnist (")).count(), r.toString());
        String line = r.errLines().get(r.errLines().size() - 1);
        assertTrue(line.startsWith("receptive train: out of memory while "), line);
        assertTrue(line.contains("-Xmx"), line);
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r);

        String[] verbose = new String[args.length + 1];
        System.arraycopy(args, 0, verbose, 0, args.length);
        verbose[args.length] = "--verbose";
        CliRun v = ChildJvm.run(dir, List.of("-Xmx40m", "-XX:+UseSerialGC"), Map.of(), 120, verbose);
        assertEquals(1, v.code(), v.toString());
        assertTrue(v.err().contains("java.lang.OutOfMemoryError"), v.toString());
        assertTrue(v.err().contains("\tat "), "the stack trace with --verbose: " + v);
    }
}
