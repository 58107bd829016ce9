package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.BackendOptions;
import dev.receptive.backend.BackendProvider;
import dev.receptive.backend.Backends;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** With receptive-cuda on the classpath, Backends finds CUDA; GPU-less cases assume CUDA is missing, the others that it works. */
class CudaBackendsTest {
    private final List<String> lines = new ArrayList<>();

    private Backend create(String choice) {
        return Backends.create(choice, BackendOptions.defaults(), lines::add);
    }

    @Test
    void theServiceFileRegistersCuda() {
        BackendProvider p = Backends.provider("cuda").orElseThrow();
        assertInstanceOf(CudaBackendProvider.class, p);
        assertEquals(CudaProbe.probe().problems(), p.diagnose().problems());
    }

    @Test
    void autoFallsBackToTheCpuAndSaysWhyInOneLine() {
        CudaProbe probe = CudaProbe.probe();
        assumeFalse(probe.available(), "CUDA works here");
        try (Backend b = create("auto")) {
            assertEquals("cpu", b.capabilities().engine());
        }
        assertEquals(1, lines.size(), lines.toString());
        String first = probe.problems().get(0);
        String line = lines.get(0);
        assertTrue(line.contains("using the CPU backend") && line.contains(first.substring(0, first.indexOf(": "))), line);
    }

    @Test
    void cudaWithoutAGpuFailsWithTheFix() {
        CudaProbe probe = CudaProbe.probe();
        assumeFalse(probe.available(), "CUDA works here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> create("cuda"));
        assertTrue(e.getMessage().contains(probe.reason()), e.getMessage());
    }

    @Test
    void autoAndCudaTakeAWorkingGpu() {
        assumeTrue(CudaProbe.probe().available(), "no usable CUDA GPU here");
        try (Backend auto = create(null); Backend cuda = create("cuda")) {
            assertInstanceOf(CudaBackend.class, auto);
            assertInstanceOf(CudaBackend.class, cuda);
        }
        assertEquals(List.of(), lines);
    }
}
