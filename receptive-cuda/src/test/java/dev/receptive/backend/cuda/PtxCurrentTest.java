package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed PTX is what native-kernels/build-ptx.sh makes from the committed .cu files, and it
 * assembles (the script runs ptxas for sm_75 and sm_90 on the retargeted ISA 8.0 / sm_60 PTX).
 * Skips outside a source tree, where nvcc is missing, or where it is another release than the one the committed PTX names (another
 * compiler writes different, equally valid PTX).
 */
class PtxCurrentTest {
    private static final Path KERNELS = Path.of("native-kernels");
    private static final Path COMMITTED = Path.of("receptive-cuda/src/main/resources/dev/receptive/backend/cuda");

    @Test
    void committedPtxIsCurrentAndAssembles(@TempDir Path out) throws Exception {
        assumeTrue(Files.isDirectory(KERNELS), "no source tree here (e.g. a GPU bundle)");
        Ran nvcc = run(List.of("nvcc", "--version"));
        assumeTrue(nvcc != null && nvcc.exit() == 0, "nvcc is not installed");
        String header = Files.readAllLines(COMMITTED.resolve("add.ptx")).get(0);
        String release = nvcc.output().replaceAll("(?s).*release ([0-9.]+), (V[0-9.]+).*", "$1 ($2)");
        assumeTrue(header.contains("nvcc " + release), "committed PTX is from another nvcc than " + release + ": " + header);

        Ran build = run(List.of("bash", KERNELS.resolve("build-ptx.sh").toString(), out.toString()));
        assertEquals(0, build.exit(), "build-ptx.sh failed (nvcc or ptxas rejected a kernel):\n" + build.output());

        List<String> sources = names(KERNELS, ".cu");
        assertEquals(sources, names(COMMITTED, ".ptx"), "one committed .ptx per .cu kernel");
        for (String name : sources) {
            assertEquals(Files.readString(out.resolve(name + ".ptx")), Files.readString(COMMITTED.resolve(name + ".ptx")),
                    name + ".ptx is stale: run native-kernels/build-ptx.sh and commit the result");
        }
    }

    private static List<String> names(Path dir, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(suffix))
                    .map(f -> f.substring(0, f.length() - suffix.length())).sorted().toList();
        }
    }

    private record Ran(int exit, String output) {
    }

    /** Exit code and output (stdout and stderr) of a command; null when it cannot be started. */
    private static Ran run(List<String> command) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException notInstalled) {
            return null;
        }
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", command) + " hangs");
        return new Ran(p.exitValue(), text);
    }
}
