package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Makes the CUDA backend for a test, or skips the test (a JUnit assumption) where CUDA cannot run. */
public final class CudaTestSupport {
    private CudaTestSupport() {
    }

    public static CudaBackend backendOrSkip() {
        return backendOrSkip(CudaOptions.defaults());
    }

    public static CudaBackend backendOrSkip(CudaOptions options) {
        CudaProbe probe = CudaProbe.probe();
        assumeTrue(probe.available(), () -> "no usable CUDA GPU: " + probe.reason());
        return new CudaBackend(options);
    }
}
