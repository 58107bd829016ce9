package dev.receptive.backend;

import java.util.Objects;

/**
 * What a {@link Backend} is, for code that must plan around it without naming its class: where its
 * tensors live (to check a model fits before allocating it), how many CPU threads compute its ops
 * (a CPU-time clock measures them all only on one), whether it repeats its results bit for bit, and
 * which kernels run. Immutable; a backend's answer does not change while it is open.
 *
 * @param engine the backend's name, as {@link Backends#create(String)} takes it: "cpu", "cuda"
 * @param device the hardware, for reports: e.g. "amd64, 2 cores" or "NVIDIA H200, sm_90, 139.8 GiB"
 * @param memory where tensors live, so which memory {@link Backend#freeMemory()} counts
 * @param threads the CPU threads each op is computed on, the caller's included; 0 when the ops run on
 *     a device and host threads only queue them
 * @param deterministic whether two runs of the same ops on the same inputs give bit-identical results
 * @param kernels the kernel set, for reports: e.g. "Vector API, 512-bit", "scalar", "cuDNN 9.5.1,
 *     cuBLAS 12.6.4"
 */
public record BackendCapabilities(String engine, String device, Memory memory, int threads, boolean deterministic,
        String kernels) {

    /** Where a backend's tensors live. */
    public enum Memory {
        /** Java arrays on the heap: {@link Backend#freeMemory()} is the free heap under -Xmx. */
        JAVA_HEAP,
        /** Memory of an accelerator: {@link Backend#freeMemory()} is what the device reports free. */
        DEVICE
    }

    /**
     * Checks the values.
     *
     * @param engine the backend's name
     * @param device the hardware
     * @param memory where tensors live
     * @param threads CPU threads per op, ≥ 0
     * @param deterministic whether results repeat bit for bit
     * @param kernels the kernel set
     * @throws NullPointerException when a text or the memory is null
     * @throws IllegalArgumentException when threads is negative
     */
    public BackendCapabilities {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(kernels, "kernels");
        if (threads < 0) {
            throw new IllegalArgumentException("backend capabilities: threads must be >= 0, got " + threads);
        }
    }
}
