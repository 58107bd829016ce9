package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.backend.BackendDiagnosis;
import dev.receptive.backend.BackendOptions;
import dev.receptive.backend.BackendProvider;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Registers the CPU backend with {@code Backends}, as receptive-cuda registers CUDA: "cpu", priority
 * 0, so "auto" takes it when nothing else works. It works on every JVM; its diagnosis says which
 * kernels run (and how to get the faster ones), the default thread count and the heap.
 */
public final class CpuBackendProvider implements BackendProvider {
    /** Made by ServiceLoader. */
    public CpuBackendProvider() {
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    /**
     * {@inheritDoc} The CPU always works: a thread count setting that is not a number shows among the
     * facts and fails {@link #create} with the default thread count, as a wrong option would.
     */
    @Override
    public BackendDiagnosis diagnose() {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("CPU", System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " cores");
        String threads;
        try {
            threads = CpuParallel.defaultThreads() + " per op (receptive.threads or RECEPTIVE_THREADS sets it; every"
                    + " core when unset)";
        } catch (IllegalArgumentException e) {
            threads = "NOT USABLE: " + e.getMessage();
        }
        facts.put("CPU threads", threads);
        facts.put("CPU kernels", VectorKernels.why());
        facts.put("Java heap", String.format("%,d MiB at most (-Xmx sets it)", Runtime.getRuntime().maxMemory() >> 20));
        return new BackendDiagnosis(facts, List.of());
    }

    /**
     * {@inheritDoc}
     *
     * @param options only the thread count is read (0: the default of {@link CpuBackend#CpuBackend()})
     * @throws IllegalArgumentException when the default thread count is needed and its setting is not
     *     a whole number
     */
    @Override
    public Backend create(BackendOptions options) {
        return options.threads() == 0 ? new CpuBackend() : new CpuBackend(options.threads());
    }
}
