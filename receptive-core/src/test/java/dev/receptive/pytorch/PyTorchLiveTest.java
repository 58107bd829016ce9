package dev.receptive.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.receptive.backend.Backend;
import dev.receptive.testing.TestBackends;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs scripts/pytorch/crosscheck.py on model files Receptive has just written and checks
 * Receptive against what PyTorch computes now, and that the committed fixtures still say what
 * PyTorch says (so they are not stale). Where Python cannot import torch the test is skipped,
 * unless the property {@code receptive.pytorch.required} is true (Maven: {@code -P pytorch}):
 * then it fails. {@code receptive.pytorch.python} names the interpreter (default /usr/bin/python3,
 * where Debian's python3-torch installs); {@code receptive.pytorch.fixtures}, when set, names a
 * folder to copy PyTorch's fresh outputs into (test-data/pytorch to regenerate the fixtures).
 */
class PyTorchLiveTest {
    private static final Path SCRIPT = Path.of("scripts", "pytorch", "crosscheck.py");
    private static final long TIMEOUT_SECONDS = 300;

    @TempDir
    Path dir;

    @Test
    void receptiveAgreesWithPyTorchRunNow() throws IOException, InterruptedException {
        String python = System.getProperty("receptive.pytorch.python", "/usr/bin/python3");
        String missing = torchMissing(python);
        if (Boolean.getBoolean("receptive.pytorch.required")) {
            assertTrue(missing == null, "PyTorch is required (receptive.pytorch.required) but " + missing);
        } else {
            assumeTrue(missing == null, missing);
        }
        try (Backend cpu = TestBackends.cpu()) {
            CrossCheckModels.writeForPyTorch(dir, cpu);
            Result run = run(List.of(python, SCRIPT.toString(), dir.toString()));
            assertEquals(0, run.exit, "crosscheck.py failed:\n" + run.output);
            for (String name : CrossCheckModels.NAMES) {
                PyTorchChecks.checkModel(name, dir.resolve(name + ".pytorch.safetensors"), cpu);
            }
            PyTorchChecks.checkOptimizers(dir.resolve("optimizers.pytorch.safetensors"), cpu);
            List<String> files = new ArrayList<>();
            CrossCheckModels.NAMES.forEach(name -> files.add(name + ".pytorch.safetensors"));
            files.add("optimizers.pytorch.safetensors");
            String regenerate = System.getProperty("receptive.pytorch.fixtures", "");
            for (String file : files) {
                if (regenerate.isBlank()) {
                    // The committed outputs must still be what PyTorch computes, within PyTorchChecks' tolerances.
                    PyTorchChecks.checkSameOutputs(PyTorchFixtureTest.FIXTURES.resolve(file), dir.resolve(file));
                } else {
                    Files.copy(dir.resolve(file), Files.createDirectories(Path.of(regenerate)).resolve(file),
                            StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Why python cannot run the cross-check (a sentence), or null when it can import torch. */
    private String torchMissing(String python) throws InterruptedException {
        if (!Files.isExecutable(Path.of(python))) {
            return python + " does not exist";
        }
        try {
            Result r = run(List.of(python, "-c", "import torch"));
            return r.exit == 0 ? null : python + " cannot import torch: " + r.output.strip();
        } catch (IOException e) {
            return python + " does not run: " + e.getMessage();
        }
    }

    private record Result(int exit, String output) {
    }

    private Result run(List<String> command) throws IOException, InterruptedException {
        Path log = Files.createTempFile(dir, "python", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(command + " ran longer than " + TIMEOUT_SECONDS + " s:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
