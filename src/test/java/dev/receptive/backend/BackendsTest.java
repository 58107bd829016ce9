package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.receptive.backend.cpu.CpuBackend;
import dev.receptive.backend.cuda.CudaBackend;
import dev.receptive.backend.cuda.CudaOptions;
import dev.receptive.backend.cuda.CudaProbe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Engine choice: runs on every machine; the GPU-less cases assume CUDA is missing, the others that it works. */
class BackendsTest {
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @AfterEach
    void clearProperty() {
        System.clearProperty(Backends.PROPERTY);
    }

    private Backend create(String choice) {
        return Backends.create(choice, CudaOptions.defaults(), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String log() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void cpuIsAlwaysThere() {
        try (Backend b = create("CPU ")) {
            assertInstanceOf(CpuBackend.class, b);
        }
        assertEquals("", log());
    }

    @Test
    void autoFallsBackToTheCpuAndSaysWhyInOneLine() {
        CudaProbe probe = CudaProbe.probe();
        assumeFalse(probe.available(), "CUDA works here");
        try (Backend b = create("auto")) {
            assertInstanceOf(CpuBackend.class, b);
        }
        String line = log();
        assertEquals(1, line.lines().count(), line);
        String first = probe.problems().get(0);
        assertTrue(line.contains("using the CPU backend") && line.contains(first.substring(0, first.indexOf(": ")))
                && line.contains("receptive doctor"), line);
    }

    @Test
    void cudaWithoutAGpuFailsWithTheFix() {
        CudaProbe probe = CudaProbe.probe();
        assumeFalse(probe.available(), "CUDA works here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> create("cuda"));
        assertTrue(e.getMessage().contains(probe.reason()) && e.getMessage().contains("--backend cpu"), e.getMessage());
    }

    @Test
    void autoAndCudaTakeAWorkingGpu() {
        assumeTrue(CudaProbe.probe().available(), "no usable CUDA GPU here");
        try (Backend auto = create(null); Backend cuda = create("cuda")) {
            assertInstanceOf(CudaBackend.class, auto);
            assertInstanceOf(CudaBackend.class, cuda);
        }
        assertEquals("", log());
    }

    @Test
    void thePropertyDecidesWhenNoChoiceIsGivenAndBadChoicesAreNamed() {
        System.setProperty(Backends.PROPERTY, "cpu");
        assertEquals("cpu", Backends.resolve(null));
        assertEquals("cuda", Backends.resolve("cuda"), "an explicit choice wins over the property");
        System.clearProperty(Backends.PROPERTY);
        if (System.getenv(Backends.ENV) == null) {
            assertEquals("auto", Backends.resolve(" "));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.resolve("gpu"));
        assertTrue(e.getMessage().contains("'gpu'") && e.getMessage().contains("auto, cpu or cuda"), e.getMessage());
    }
}
