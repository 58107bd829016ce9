package dev.receptive.backend;

/**
 * Settings for a backend, as {@link Backends#create(String, BackendOptions)} passes them to the
 * chosen {@link BackendProvider}. A backend ignores the settings that mean nothing to it: the CPU
 * backend reads only the thread count, the CUDA backend everything but it. The defaults favour exact
 * fp32 parity with the CPU backend.
 *
 * @param device the device ordinal (for CUDA, as CUDA_VISIBLE_DEVICES numbers the GPUs)
 * @param deterministic restrict the backend to algorithms whose results do not vary from run to
 *     run (may be slower)
 * @param fastMath trade fp32 parity for speed, such as TF32 tensor-core math on NVIDIA GPUs
 * @param threads the CPU threads each op is split over, the caller's included; 0 for the backend's
 *     default (the CPU's: the system property receptive.threads, else the environment variable
 *     RECEPTIVE_THREADS, else every core)
 */
public record BackendOptions(int device, boolean deterministic, boolean fastMath, int threads) {
    /**
     * Checks the device ordinal and the thread count.
     *
     * @param device the device ordinal, ≥ 0
     * @param deterministic restrict the backend to run-to-run deterministic algorithms
     * @param fastMath trade fp32 parity for speed
     * @param threads CPU threads per op, ≥ 0 (0: the backend's default)
     * @throws IllegalArgumentException when the device or the thread count is negative
     */
    public BackendOptions {
        if (device < 0) {
            throw new IllegalArgumentException("backend options: device must be >= 0, got " + device);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("backend options: threads must be >= 0 (0 for the default), got "
                    + threads);
        }
    }

    /**
     * The defaults.
     *
     * @return device 0, nondeterministic algorithms allowed, exact fp32 math, the default thread count
     */
    public static BackendOptions defaults() {
        return new BackendOptions(0, false, false, 0);
    }

    /**
     * These options on another device.
     *
     * @param ordinal the device ordinal, ≥ 0
     * @return the new options
     */
    public BackendOptions withDevice(int ordinal) {
        return new BackendOptions(ordinal, deterministic, fastMath, threads);
    }

    /**
     * These options with deterministic algorithms on or off.
     *
     * @param on whether to restrict the backend to deterministic algorithms
     * @return the new options
     */
    public BackendOptions withDeterministic(boolean on) {
        return new BackendOptions(device, on, fastMath, threads);
    }

    /**
     * These options with fast math on or off.
     *
     * @param on whether to allow faster, less exact math (such as TF32)
     * @return the new options
     */
    public BackendOptions withFastMath(boolean on) {
        return new BackendOptions(device, deterministic, on, threads);
    }

    /**
     * These options with another CPU thread count.
     *
     * @param count CPU threads per op, ≥ 0; 0 for the backend's default
     * @return the new options
     * @throws IllegalArgumentException when count is negative
     */
    public BackendOptions withThreads(int count) {
        return new BackendOptions(device, deterministic, fastMath, count);
    }
}
