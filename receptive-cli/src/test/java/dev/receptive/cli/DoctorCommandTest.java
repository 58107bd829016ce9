package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.BackendDiagnosis;
import dev.receptive.backend.Backends;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** doctor reports each backend's setup and exits 0 exactly when CUDA works too; on a GPU-less machine it names every fix. */
class DoctorCommandTest {
    @Test
    void reportsTheSetupAndEachFix() {
        StringWriter text = new StringWriter();
        int exit = new CommandLine(new DoctorCommand()).setOut(new PrintWriter(text)).execute();
        String out = text.toString();
        BackendDiagnosis probe = Backends.provider("cuda").orElseThrow().diagnose();
        assertEquals(probe.available() ? 0 : 1, exit, out);
        assertTrue(out.contains("Java:") && out.contains("OS:") && out.contains("JCuda:"), out);
        assertTrue(out.contains("CPU kernels:") && out.contains("CPU threads:"), out);
        if (probe.available()) {
            assertTrue(out.contains("CUDA works: --backend auto and --backend cuda") && out.contains("GPU 0:")
                    && out.contains("cuDNN:") && out.contains("CPU works: --backend cpu will use it."), out);
        } else {
            assertTrue(out.contains("CUDA cannot be used; --backend auto falls back to the CPU. To fix:")
                    && out.contains("CPU works: --backend auto and --backend cpu will use it."), out);
            for (String problem : probe.problems()) {
                assertTrue(out.contains("  - " + problem), "missing fix line: " + problem + "\n" + out);
            }
        }
    }
}
