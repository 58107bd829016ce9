package dev.receptive.backend;

/**
 * Settings for a device backend, as {@link Backends#create(String, BackendOptions)} passes them to
 * the chosen {@link BackendProvider}. The CPU backend ignores them. The defaults favour exact fp32
 * parity with the CPU backend.
 *
 * @param device the device ordinal (for CUDA, as CUDA_VISIBLE_DEVICES numbers the GPUs)
 * @param deterministic restrict the backend to algorithms whose results do not vary from run to
 *     run (may be slower)
 * @param fastMath trade fp32 parity for speed, such as TF32 tensor-core math on NVIDIA GPUs
 */
public record BackendOptions(int device, boolean deterministic, boolean fastMath) {
    /**
     * Checks the device ordinal.
     *
     * @param device the device ordinal, ≥ 0
     * @param deterministic restrict the backend to run-to-run deterministic algorithms
     * @param fastMath trade fp32 parity for speed
     * @throws IllegalArgumentException when the device is negative
     */
    public BackendOptions {
        if (device < 0) {
            throw new IllegalArgumentException("backend options: device must be >= 0, got " + device);
        }
    }

    /**
     * The defaults.
     *
     * @return device 0, nondeterministic algorithms allowed, exact fp32 math
     */
    public static BackendOptions defaults() {
        return new BackendOptions(0, false, false);
    }

    /**
     * These options on another device.
     *
     * @param ordinal the device ordinal, ≥ 0
     * @return the new options
     */
    public BackendOptions withDevice(int ordinal) {
        return new BackendOptions(ordinal, deterministic, fastMath);
    }

    /**
     * These options with deterministic algorithms on or off.
     *
     * @param on whether to restrict the backend to deterministic algorithms
     * @return the new options
     */
    public BackendOptions withDeterministic(boolean on) {
        return new BackendOptions(device, on, fastMath);
    }

    /**
     * These options with fast math on or off.
     *
     * @param on whether to allow faster, less exact math (such as TF32)
     * @return the new options
     */
    public BackendOptions withFastMath(boolean on) {
        return new BackendOptions(device, deterministic, on);
    }
}
