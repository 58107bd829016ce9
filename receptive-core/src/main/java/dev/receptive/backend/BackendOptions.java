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
    /** Checks the device ordinal. */
    public BackendOptions {
        if (device < 0) {
            throw new IllegalArgumentException("backend options: device must be >= 0, got " + device);
        }
    }

    /** Device 0, nondeterministic algorithms allowed, exact fp32 math. */
    public static BackendOptions defaults() {
        return new BackendOptions(0, false, false);
    }

    /** These options on device {@code ordinal}. */
    public BackendOptions withDevice(int ordinal) {
        return new BackendOptions(ordinal, deterministic, fastMath);
    }

    /** These options with deterministic algorithms on or off. */
    public BackendOptions withDeterministic(boolean on) {
        return new BackendOptions(device, on, fastMath);
    }

    /** These options with fast math on or off. */
    public BackendOptions withFastMath(boolean on) {
        return new BackendOptions(device, deterministic, on);
    }
}
