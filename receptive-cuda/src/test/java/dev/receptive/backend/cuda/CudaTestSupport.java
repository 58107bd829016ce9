package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/** Makes the CUDA backend for a test, or skips the test (a JUnit assumption) where CUDA cannot run. */
public final class CudaTestSupport {
    private static boolean contextHeld;

    private CudaTestSupport() {
    }

    /**
     * A backend with the default options, or a skipped test.
     *
     * @return a new backend; the test closes it
     */
    public static CudaBackend backendOrSkip() {
        return backendOrSkip(CudaOptions.defaults());
    }

    /**
     * A backend with {@code options}, or a skipped test.
     *
     * @param options the backend's options
     * @return a new backend; the test closes it
     */
    public static CudaBackend backendOrSkip(CudaOptions options) {
        CudaProbe probe = CudaProbe.probe();
        assumeTrue(probe.available(), () -> "no usable CUDA GPU: " + probe.reason());
        holdContext(options.device());
        return new CudaBackend(options);
    }

    /**
     * Keeps the device's primary context alive for the rest of the JVM. The suite opens and closes
     * a backend per test, and the driver destroys a primary context when its last user releases
     * it: creating it again each time would cost a large share of a GPU run.
     */
    private static synchronized void holdContext(int device) {
        if (!contextHeld) {
            CUdevice d = new CUdevice();
            JCudaDriver.cuDeviceGet(d, device);
            JCudaDriver.cuDevicePrimaryCtxRetain(new CUcontext(), d);
            contextHeld = true;
        }
    }
}
