package dev.receptive.testing;

import dev.receptive.backend.Backend;
import dev.receptive.backend.BackendOptions;
import dev.receptive.backend.Backends;

/** CPU backends for tests outside the CPU engine's package, made the way applications make them. */
public final class TestBackends {
    private TestBackends() {
    }

    /** A CPU backend with the default thread count (receptive.threads, RECEPTIVE_THREADS, else every core). */
    public static Backend cpu() {
        return Backends.create("cpu");
    }

    /** A CPU backend splitting each op over {@code threads} threads. */
    public static Backend cpu(int threads) {
        return Backends.create("cpu", BackendOptions.defaults().withThreads(threads));
    }
}
