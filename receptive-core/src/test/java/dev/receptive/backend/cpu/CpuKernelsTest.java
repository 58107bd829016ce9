package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/**
 * The build runs the CPU suites twice, once per kernel path, and says which one each run
 * expects: this test makes sure the other tests really ran on that path.
 */
class CpuKernelsTest {

    @Test
    void theKernelPathThisRunExpectsIsTheOneInUse() {
        String expected = System.getProperty("receptive.test.kernels");
        assumeTrue(expected != null, "run outside the build: no kernel path expected");
        try (CpuBackend cpu = new CpuBackend(1)) {
            if (expected.equals("vector")) {
                assertTrue(cpu.kernels().startsWith("Vector API"), cpu.kernels());
            } else {
                assertEquals("scalar", cpu.kernels());
            }
            assertTrue(cpu.description().contains(cpu.kernels()), cpu.description());
        }
    }
}
