package dev.receptive.backend.cuda;

/**
 * How a {@link CudaBackend} runs. The defaults favour exact fp32 parity with the CPU backend.
 *
 * @param device CUDA device ordinal (as CUDA_VISIBLE_DEVICES numbers them)
 * @param deterministic restrict cuDNN to deterministic convolution algorithms and max-pooling
 *     backward, so two runs give bit-identical results (may be slower)
 * @param fastMath trade fp32 parity for speed: TF32 tensor-core math in convolutions and GEMMs
 *     on Ampere and newer (products keep 10 mantissa bits, errors about 1e-3 relative) and
 *     transform-based convolution algorithms (FFT, Winograd; errors about 1e-5 relative)
 * @param workspaceLimitBytes the most scratch memory a cuDNN convolution algorithm may use
 */
public record CudaOptions(int device, boolean deterministic, boolean fastMath, long workspaceLimitBytes) {
    public CudaOptions {
        if (device < 0 || workspaceLimitBytes < 0) {
            throw new IllegalArgumentException("cuda: device and workspace limit must be >= 0, got " + device
                    + " and " + workspaceLimitBytes);
        }
    }

    public static CudaOptions defaults() {
        return new CudaOptions(0, false, false, 256L << 20);
    }

    public CudaOptions withDevice(int ordinal) {
        return new CudaOptions(ordinal, deterministic, fastMath, workspaceLimitBytes);
    }

    public CudaOptions withDeterministic(boolean on) {
        return new CudaOptions(device, on, fastMath, workspaceLimitBytes);
    }

    public CudaOptions withFastMath(boolean on) {
        return new CudaOptions(device, deterministic, on, workspaceLimitBytes);
    }

    public CudaOptions withWorkspaceLimit(long bytes) {
        return new CudaOptions(device, deterministic, fastMath, bytes);
    }
}
