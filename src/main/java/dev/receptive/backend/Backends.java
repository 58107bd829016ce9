package dev.receptive.backend;

import dev.receptive.backend.cpu.CpuBackend;

/** The one place that chooses the engine. */
public final class Backends {
    private Backends() {
    }

    /** choice: "auto", "cpu" or "cuda"; null reads receptive.backend / RECEPTIVE_BACKEND, then "auto". */
    public static Backend create(String choice) {
        String c = choice != null ? choice : System.getProperty("receptive.backend", System.getenv("RECEPTIVE_BACKEND"));
        c = c == null || c.isBlank() ? "auto" : c.trim().toLowerCase(java.util.Locale.ROOT);
        switch (c) {
            case "cpu", "auto":
                return new CpuBackend();
            case "cuda":
                throw new IllegalStateException("the CUDA backend is not built yet");
            default:
                throw new IllegalArgumentException("unknown backend '" + c + "': use auto, cpu or cuda");
        }
    }
}
