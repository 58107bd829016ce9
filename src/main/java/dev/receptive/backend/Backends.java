package dev.receptive.backend;

import dev.receptive.backend.cpu.CpuBackend;
import dev.receptive.backend.cuda.CudaBackend;
import dev.receptive.backend.cuda.CudaOptions;
import dev.receptive.backend.cuda.CudaProbe;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The one place that chooses the engine. The choice is "auto", "cpu" or "cuda"; when the caller
 * passes none (null), the system property {@value #PROPERTY}, then the environment variable
 * {@value #ENV}, then "auto" decide. "auto" takes CUDA when the driver, a GPU, cuDNN and cuBLAS
 * all load and a smoke test passes ({@link CudaProbe}), and otherwise the CPU backend, saying why
 * in one line on stderr. "cuda" never falls back: it fails with the reason and its fix.
 */
public final class Backends {
    public static final String PROPERTY = "receptive.backend";
    public static final String ENV = "RECEPTIVE_BACKEND";

    private Backends() {
    }

    public static Backend create(String choice) {
        return create(choice, CudaOptions.defaults(), System.err);
    }

    public static Backend create(String choice, CudaOptions cudaOptions) {
        return create(choice, cudaOptions, System.err);
    }

    static Backend create(String choice, CudaOptions cudaOptions, PrintStream log) {
        String resolved = resolve(choice);
        switch (resolved) {
            case "cpu":
                return new CpuBackend();
            case "cuda": {
                CudaProbe probe = CudaProbe.probe();
                if (!probe.available()) {
                    throw new IllegalStateException("backend cuda: CUDA cannot be used: " + probe.reason()
                            + " (or choose --backend cpu)");
                }
                return new CudaBackend(cudaOptions);
            }
            default: {
                CudaProbe probe = CudaProbe.probe();
                String why = probe.summary();
                if (probe.available()) {
                    try {
                        return new CudaBackend(cudaOptions);
                    } catch (RuntimeException e) {
                        why = e.getMessage();
                    }
                }
                log.println("receptive: using the CPU backend; CUDA is not available: " + why
                        + "; 'receptive doctor' shows how to fix it");
                return new CpuBackend();
            }
        }
    }

    /** The effective choice: the argument, else the property, else the environment, else "auto". */
    static String resolve(String choice) {
        String c = choice;
        if (c == null || c.isBlank()) {
            c = System.getProperty(PROPERTY);
        }
        if (c == null || c.isBlank()) {
            c = System.getenv(ENV);
        }
        if (c == null || c.isBlank()) {
            return "auto";
        }
        String n = c.trim().toLowerCase(Locale.ROOT);
        if (!n.equals("auto") && !n.equals("cpu") && !n.equals("cuda")) {
            throw new IllegalArgumentException("backend: unknown choice '" + c + "'; use auto, cpu or cuda");
        }
        return n;
    }
}
