package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The build runs the CPU suites twice, once per kernel path, and says which one each run
 * expects: this test makes sure the other tests really ran on that path, and that the switch
 * {@value VectorKernels#PROPERTY}=false picks the scalar reference on any JVM.
 */
class CpuKernelsTest {

    @Test
    void theKernelPathThisRunExpectsIsTheOneInUse() {
        String expected = System.getProperty("receptive.test.kernels");
        assumeTrue(expected != null, "run outside the build: no kernel path expected");
        try (CpuBackend cpu = new CpuBackend(1)) {
            String kernels = cpu.capabilities().kernels();
            if (expected.equals("vector")) {
                assertTrue(kernels.startsWith("Vector API"), kernels);
                // The runs that emulate narrower machines (-XX:MaxVectorSize) name their width.
                String bits = System.getProperty("receptive.test.vector.bits");
                if (bits != null) {
                    assertEquals("Vector API, " + bits + "-bit", kernels);
                }
            } else {
                assertEquals("scalar", kernels);
            }
            assertTrue(cpu.description().contains(kernels), cpu.description());
        }
    }

    @Test
    void thePropertyFalsePicksTheScalarReference() {
        for (String off : new String[] {"false", " FALSE "}) {
            VectorKernels.Choice c = VectorKernels.Holder.choose(off);
            assertEquals(Optional.empty(), c.kernels(), off);
            assertEquals("scalar (" + VectorKernels.PROPERTY + "=false)", c.why());
            try (CpuParallel par = new CpuParallel(1)) {
                CpuKernels k = CpuKernels.choose(par, c.kernels());
                assertInstanceOf(ScalarKernels.class, k);
                assertEquals("scalar", k.description());
            }
        }
    }

    @Test
    void unsetTheVectorKernelsRunWhereverTheModuleIs() {
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        VectorKernels.Choice c = VectorKernels.Holder.choose(null);
        if (!module) {
            assertEquals(Optional.empty(), c.kernels());
            assertTrue(c.why().contains("--add-modules jdk.incubator.vector"), c.why());
            return;
        }
        // A JVM whose preferred vector is narrower than 128 bits keeps the scalar kernels.
        assumeTrue(c.kernels().isPresent(), c.why());
        try (CpuParallel par = new CpuParallel(1)) {
            CpuKernels k = CpuKernels.choose(par, c.kernels());
            assertInstanceOf(VectorApiKernels.class, k);
            assertEquals(c.why(), k.description());
        }
    }

    @Test
    void theRegisterFileFollowsTheMachineOrTheProperty() {
        assertEquals(32, VectorKernels.registers(null, 16, "amd64"), "AVX-512");
        assertEquals(16, VectorKernels.registers(null, 8, "amd64"), "AVX2");
        assertEquals(16, VectorKernels.registers(null, 4, "amd64"), "SSE");
        assertEquals(32, VectorKernels.registers(null, 4, "aarch64"), "NEON");
        assertEquals(16, VectorKernels.registers(" 16 ", 16, "amd64"));
        assertEquals(32, VectorKernels.registers("32", 8, "amd64"));
        assertThrows(IllegalArgumentException.class, () -> VectorKernels.registers("24", 8, "amd64"));
    }
}
