package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.BackendCapabilities;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** What the CPU backend says about itself: heap memory, the threads it was given, repeatable results. */
class CpuCapabilitiesTest {

    @Test
    void itDescribesAHeapEngineWithItsThreadsAndKernels() {
        for (int threads : new int[] {1, 3}) {
            try (CpuBackend cpu = new CpuBackend(threads)) {
                BackendCapabilities c = cpu.capabilities();
                assertEquals("cpu", c.engine());
                assertEquals(BackendCapabilities.Memory.JAVA_HEAP, c.memory());
                assertEquals(threads, c.threads());
                assertTrue(c.deterministic());
                assertEquals(VectorKernels.load().map(VectorKernels::description).orElse("scalar"), c.kernels());
                assertTrue(c.device().endsWith(Runtime.getRuntime().availableProcessors() + " cores"), c.device());
            }
        }
        try (CpuBackend cpu = new CpuBackend()) {
            assertEquals(CpuParallel.defaultThreads(), cpu.capabilities().threads());
        }
    }

    @Test
    void freeMemoryIsTheHeapLeftUnderItsLimit() {
        Runtime rt = Runtime.getRuntime();
        CpuBackend cpu = new CpuBackend(1);
        Shape big = Shape.of(16, 1 << 20); // 64 MiB of floats
        try (Tensor held = cpu.allocate(big)) {
            long free = cpu.freeMemory();
            // The tensor is reachable, so at most the limit less its bytes is free, however the GC runs.
            assertTrue(free > 0 && free <= rt.maxMemory() - big.size() * 4L, free + " of " + rt.maxMemory());
        }
        cpu.close();
        assertThrows(IllegalStateException.class, cpu::freeMemory);
    }
}
