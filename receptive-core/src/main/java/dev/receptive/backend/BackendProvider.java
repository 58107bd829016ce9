package dev.receptive.backend;

/**
 * An engine that {@link Backends} finds at run time through {@link java.util.ServiceLoader}, the
 * way DJL finds its engines: each module lists its provider in
 * {@code META-INF/services/dev.receptive.backend.BackendProvider} (receptive-core the CPU's,
 * receptive-cuda the CUDA one), so {@link Backends} links no engine, and code that must know what a
 * backend can do asks {@link Backend#capabilities()} instead of its class.
 *
 * <p>Implementations must be cheap to construct (ServiceLoader makes one per lookup) and safe to
 * call from several threads.
 */
public interface BackendProvider {
    /**
     * The name users choose the backend by.
     *
     * @return e.g. "cpu" or "cuda"; lower case, never "auto"
     */
    String name();

    /**
     * Among providers that work, "auto" takes the one with the highest priority.
     *
     * @return the priority; the CPU backend's is 0, the lowest, since it always works
     */
    int priority();

    /**
     * Whether this backend can run in this process, what was found and, for each problem, its fix.
     * Never throws; the result may be computed once per JVM and cached.
     *
     * @return the diagnosis
     */
    BackendDiagnosis diagnose();

    /**
     * A new backend; called only after {@link #diagnose()} reported it available.
     *
     * @param options threads, device, determinism and fast math; the backend reads those it has
     * @return the backend; the caller owns it and closes it
     * @throws IllegalArgumentException when the options do not fit this backend ("auto" then stops
     *     rather than trying another)
     * @throws RuntimeException when the device cannot be opened, with the reason
     */
    Backend create(BackendOptions options);
}
