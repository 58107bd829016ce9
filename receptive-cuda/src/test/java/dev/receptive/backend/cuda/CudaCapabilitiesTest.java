package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.BackendCapabilities;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** What the CUDA backend says about itself: device memory that tensors take and give back, its options. */
class CudaCapabilitiesTest {
    private static final long MIB = 1L << 20;

    @Test
    void itDescribesADeviceEngine() {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip()) {
            BackendCapabilities c = gpu.capabilities();
            assertEquals("cuda", c.engine());
            assertEquals(BackendCapabilities.Memory.DEVICE, c.memory());
            assertEquals(0, c.threads());
            assertEquals(false, c.deterministic());
            assertTrue(c.kernels().startsWith("cuDNN 9.") && c.kernels().contains("cuBLAS"), c.kernels());
            assertTrue(gpu.description().contains(c.device()), gpu.description());
        }
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(CudaOptions.defaults().withDeterministic(true))) {
            assertTrue(gpu.capabilities().deterministic());
        }
    }

    @Test
    void freeMemoryFallsByATensorAndCountsItsCachedBlockAsFree() {
        CudaBackend gpu = CudaTestSupport.backendOrSkip();
        Shape big = Shape.of(256, 1 << 18); // 256 MiB of floats
        long before = gpu.freeMemory();
        long during;
        try (Tensor t = gpu.allocate(big)) {
            during = gpu.freeMemory();
        }
        long after = gpu.freeMemory();
        gpu.close();
        // Slack for what the driver and other processes take meanwhile: 32 MiB.
        assertTrue(before - during >= 256 * MIB - 32 * MIB, before + " then " + during);
        assertTrue(after - during >= 256 * MIB - 32 * MIB, "the freed block is cached, so free: " + during + " then "
                + after);
        assertThrows(IllegalStateException.class, gpu::freeMemory);
    }
}
