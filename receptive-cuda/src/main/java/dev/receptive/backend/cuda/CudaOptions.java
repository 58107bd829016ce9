package dev.receptive.backend.cuda;

/**
 * How a {@link CudaBackend} runs. The defaults favour exact fp32 parity with the CPU backend.
 *
 * @param device CUDA device ordinal (as CUDA_VISIBLE_DEVICES numbers them)
 * @param deterministic restrict cuDNN to deterministic convolution algorithms, so two runs of one
 *     backend give bit-identical results (may be slower); every other op is deterministic anyway
 * @param fastMath trade fp32 parity for speed: TF32 tensor-core math in convolutions and GEMMs
 *     on Ampere and newer (products keep 10 mantissa bits, errors about 1e-3 relative) and
 *     transform-based convolution algorithms (FFT, Winograd; errors about 1e-5 relative)
 * @param workspaceLimitBytes the most scratch memory a cuDNN convolution algorithm may use (per stream)
 * @param streams the most streams (lanes: a stream with its own cuDNN and cuBLAS handles, workspace
 *     and pinned buffers) the backend makes, one per thread, the shared one included; threads beyond
 *     that share one stream. 1 puts every thread on one stream.
 * @param precision the math of convolutions and GEMMs (storage, batch norm, losses and optimizers
 *     stay fp32 in every mode)
 */
public record CudaOptions(int device, boolean deterministic, boolean fastMath, long workspaceLimitBytes, int streams,
        Precision precision) {
    /** The math of convolutions and GEMMs; tensors, batch norm, losses and optimizer state are fp32 in all. */
    public enum Precision {
        /** Plain fp32 products and sums (cuDNN FMA math, cuBLAS default math): parity with the CPU, the default. */
        FP32,
        /**
         * TF32 tensor cores (Ampere and newer) in convolutions and GEMMs: inputs rounded to 10
         * mantissa bits, products summed in fp32 (relative error about 2⁻¹¹ per product).
         */
        TF32,
        /**
         * bf16 tensor cores (relative error about 2⁻⁸ per product, fp32 sums): GEMMs through
         * cuBLAS's CUBLAS_COMPUTE_32F_FAST_16BF on fp32 memory, convolutions on bf16 copies of their
         * inputs (rounded to nearest even) whose bf16 results are widened back into the fp32
         * tensors; a convolution cuDNN cannot run in bf16 runs in TF32. Master weights, optimizer
         * state, batch norm and losses are the fp32 tensors themselves.
         */
        BF16;

        /**
         * The mode named {@code name}: fp32, tf32 or bf16, any case.
         *
         * @param name the mode's name
         * @return the mode
         * @throws IllegalArgumentException naming the modes for any other name
         */
        public static Precision parse(String name) {
            String n = name == null ? "" : name.trim().toUpperCase(java.util.Locale.ROOT);
            for (Precision p : values()) {
                if (p.name().equals(n)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("cuda: precision must be fp32, tf32 or bf16, got '" + name + "'");
        }
    }

    /** Streams by default: enough for a server's request threads on one GPU, each costing its workspace. */
    public static final int DEFAULT_STREAMS = 8;

    /** At most 65,536 lanes fit the tensor's record of its writer; far beyond any real use. */
    static final int MAX_STREAMS = 1024;

    /**
     * Checks the values.
     *
     * @param device CUDA device ordinal
     * @param deterministic only deterministic cuDNN convolution algorithms
     * @param fastMath TF32 and transform-based convolutions allowed
     * @param workspaceLimitBytes the most scratch memory one convolution algorithm may use
     * @param streams the most streams, 1 to 1024
     * @param precision the math of convolutions and GEMMs
     * @throws IllegalArgumentException when the device ordinal or the workspace limit is negative,
     *     streams is out of range, or precision is null
     */
    public CudaOptions {
        if (device < 0 || workspaceLimitBytes < 0) {
            throw new IllegalArgumentException("cuda: device and workspace limit must be >= 0, got " + device
                    + " and " + workspaceLimitBytes);
        }
        if (streams < 1 || streams > MAX_STREAMS) {
            throw new IllegalArgumentException("cuda: streams must be 1 to " + MAX_STREAMS + ", got " + streams);
        }
        if (precision == null) {
            throw new IllegalArgumentException("cuda: precision must not be null");
        }
    }

    /**
     * Options with fp32 precision.
     *
     * @param device CUDA device ordinal
     * @param deterministic only deterministic cuDNN convolution algorithms
     * @param fastMath TF32 and transform-based convolutions allowed
     * @param workspaceLimitBytes the most scratch memory one convolution algorithm may use
     * @param streams the most streams, 1 to 1024
     */
    public CudaOptions(int device, boolean deterministic, boolean fastMath, long workspaceLimitBytes, int streams) {
        this(device, deterministic, fastMath, workspaceLimitBytes, streams, Precision.FP32);
    }

    /**
     * Options with the default number of streams.
     *
     * @param device CUDA device ordinal
     * @param deterministic only deterministic cuDNN convolution algorithms
     * @param fastMath TF32 and transform-based convolutions allowed
     * @param workspaceLimitBytes the most scratch memory one convolution algorithm may use
     */
    public CudaOptions(int device, boolean deterministic, boolean fastMath, long workspaceLimitBytes) {
        this(device, deterministic, fastMath, workspaceLimitBytes, DEFAULT_STREAMS);
    }

    /**
     * Device 0, not deterministic, no fast math, a 256 MiB workspace limit, {@value #DEFAULT_STREAMS} streams.
     *
     * @return the default options
     */
    public static CudaOptions defaults() {
        return new CudaOptions(0, false, false, 256L << 20);
    }

    /**
     * These options on another device.
     *
     * @param ordinal the CUDA device ordinal
     * @return a copy with the device changed
     */
    public CudaOptions withDevice(int ordinal) {
        return new CudaOptions(ordinal, deterministic, fastMath, workspaceLimitBytes, streams, precision);
    }

    /**
     * These options with deterministic convolutions on or off.
     *
     * @param on whether to allow only deterministic cuDNN convolution algorithms
     * @return a copy with the choice changed
     */
    public CudaOptions withDeterministic(boolean on) {
        return new CudaOptions(device, on, fastMath, workspaceLimitBytes, streams, precision);
    }

    /**
     * These options with fast math on or off.
     *
     * @param on whether to allow TF32 and transform-based convolutions
     * @return a copy with the choice changed
     */
    public CudaOptions withFastMath(boolean on) {
        return new CudaOptions(device, deterministic, on, workspaceLimitBytes, streams, precision);
    }

    /**
     * These options with another convolution workspace limit.
     *
     * @param bytes the most scratch memory one cuDNN convolution algorithm may use
     * @return a copy with the limit changed
     */
    public CudaOptions withWorkspaceLimit(long bytes) {
        return new CudaOptions(device, deterministic, fastMath, bytes, streams, precision);
    }

    /**
     * These options with another most number of streams.
     *
     * @param count the most streams (lanes), 1 to 1024; 1 puts every thread on one stream
     * @return a copy with the count changed
     */
    public CudaOptions withStreams(int count) {
        return new CudaOptions(device, deterministic, fastMath, workspaceLimitBytes, count, precision);
    }

    /**
     * These options with another precision for convolutions and GEMMs.
     *
     * @param mode fp32 (the default, parity with the CPU), tf32 or bf16
     * @return a copy with the precision changed
     */
    public CudaOptions withPrecision(Precision mode) {
        return new CudaOptions(device, deterministic, fastMath, workspaceLimitBytes, streams, mode);
    }

    /** Whether convolutions and GEMMs may use tensor cores (TF32 or bf16), by precision or fast math. */
    boolean tensorCores() {
        return fastMath || precision != Precision.FP32;
    }
}
