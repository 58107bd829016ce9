package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.receptive.backend.BackendDiagnosis;
import dev.receptive.backend.Backends;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** doctor reports each backend's setup and exits 0 exactly when CUDA works too; on a GPU-less machine it names every fix. */
class DoctorCommandTest {
    private static final BackendDiagnosis CUDA = Backends.provider("cuda").orElseThrow().diagnose();

    @Test
    void reportsTheSetupAndEachFix() {
        StringWriter text = new StringWriter();
        int exit = new CommandLine(new DoctorCommand()).setOut(new PrintWriter(text)).execute();
        String out = text.toString();
        assertEquals(CUDA.available() ? 0 : 1, exit, out);
        assertTrue(out.contains("Java:") && out.contains("OS:") && out.contains("JCuda:"), out);
        assertTrue(out.contains("CPU kernels:") && out.contains("CPU threads:"), out);
        assertTrue(!out.contains("Required:") && !out.contains("In this container:"), out);
        if (CUDA.available()) {
            assertTrue(out.contains("CUDA works: --backend auto and --backend cuda") && out.contains("GPU 0:")
                    && out.contains("cuDNN:") && out.contains("CPU works: --backend cpu will use it."), out);
        } else {
            assertTrue(out.contains("CUDA cannot be used; --backend auto falls back to the CPU. To fix:")
                    && out.contains("CPU works: --backend auto and --backend cpu will use it."), out);
            for (String problem : CUDA.problems()) {
                assertTrue(out.contains("  - " + problem), "missing fix line: " + problem + "\n" + out);
            }
        }
    }

    /** The CPU image's health check: the CPU always works, so 0 whatever CUDA does. */
    @Test
    void requireCpuExitsZeroWhereTheCpuWorks() {
        StringWriter text = new StringWriter();
        int exit = new CommandLine(new DoctorCommand()).setOut(new PrintWriter(text)).execute("--require", "CPU");
        assertEquals(0, exit, text.toString());
        assertTrue(text.toString().strip().endsWith("Required: cpu works."), text.toString());
    }

    @Test
    void requireCudaFollowsTheCudaProbe() {
        StringWriter text = new StringWriter();
        int exit = new CommandLine(new DoctorCommand()).setOut(new PrintWriter(text)).execute("--require", "cuda");
        assertEquals(CUDA.available() ? 0 : 1, exit, text.toString());
        assertTrue(text.toString().strip().endsWith("Required: cuda " + (CUDA.available() ? "works." : "does not work.")),
                text.toString());
    }

    @Test
    void requireOfAnUnknownBackendIsBadUsage() {
        assertEquals(Main.USAGE, Main.run("doctor", "--require", "tpu"));
    }

    /** Here (no GPU) the probe's real problems: each missing library gets its one container remedy. */
    @Test
    void inTheCudaImageEachMissingLibraryGetsItsRemedy() {
        assumeFalse(CUDA.available(), "CUDA works here: nothing is missing");
        List<String> advice = DoctorCommand.imageAdvice("cuda", "debian:bookworm", CUDA);
        String[][] remedies = {{"libcuda.so", "--gpus all"}, {"libcublas", "lacks cuBLAS for CUDA 12 (libcublas.so.12)"},
            {"libcudnn", "lacks cuDNN 9 (libcudnn.so.9)"}};
        for (String[] r : remedies) {
            boolean missing = CUDA.problems().stream().anyMatch(p -> p.startsWith(r[0]));
            assertEquals(missing ? 1 : 0, advice.stream().filter(a -> a.contains(r[1])).count(), r[0] + ": " + advice);
        }
    }

    @Test
    void theRemedyNamesTheBaseThatLacksTheLibrary() {
        BackendDiagnosis noCudnn = new BackendDiagnosis(Map.of(), List.of("libcudnn.so.9 not found: install cuDNN 9"));
        assertEquals(List.of("this image's base example/cuda:12 lacks cuDNN 9 (libcudnn.so.9): build Dockerfile.cuda FROM"
                + " an image that has it, such as its default CUDA_IMAGE (NVIDIA's CUDA 12 cuDNN runtime image)"),
                DoctorCommand.imageAdvice("cuda", "example/cuda:12", noCudnn));
        BackendDiagnosis otherProblem = new BackendDiagnosis(Map.of(), List.of("smoke test failed: wrong numbers"));
        assertEquals(List.of("nothing specific to the image: see the fixes above, and docs/cuda.md"),
                DoctorCommand.imageAdvice("cuda", null, otherProblem));
        assertTrue(DoctorCommand.imageAdvice("cpu", null, noCudnn).get(0).startsWith("this is the CPU image"));
    }
}
