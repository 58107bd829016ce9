package dev.receptive.backend;

/**
 * A backend that {@link Backends} can find at run time through {@link java.util.ServiceLoader},
 * the way DJL finds its engines: a module such as receptive-cuda lists its provider in
 * {@code META-INF/services/dev.receptive.backend.BackendProvider}, so the core never links it.
 * The CPU backend is built in and needs no provider.
 *
 * <p>Implementations must be cheap to construct (ServiceLoader makes one per lookup) and safe to
 * call from several threads.
 */
public interface BackendProvider {
    /**
     * The name users choose the backend by.
     *
     * @return e.g. "cuda"; lower case, never "auto" or "cpu"
     */
    String name();

    /**
     * Among providers that work, "auto" takes the one with the highest priority.
     *
     * @return the priority; the CPU backend's is 0
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
     * @param options device, determinism and fast math
     * @return the backend; the caller owns it and closes it
     * @throws RuntimeException when the device cannot be opened, with the reason
     */
    Backend create(BackendOptions options);
}
