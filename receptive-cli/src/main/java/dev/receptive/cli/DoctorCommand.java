package dev.receptive.cli;

import dev.receptive.backend.BackendDiagnosis;
import dev.receptive.backend.BackendProvider;
import dev.receptive.backend.Backends;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Says whether each GPU backend on the classpath (CUDA) can run here and, for each problem, the
 * exact fix. Exit code 0 when one works, 1 otherwise (the CPU backend always works).
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Check the Java, NVIDIA driver, GPU, cuDNN and cuBLAS setup for the CUDA backend and say how to fix it.")
final class DoctorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        line(out, "Java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + " ("
                + System.getProperty("java.home") + ")");
        line(out, "OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + ", "
                + System.getProperty("os.arch"));
        String ld = System.getenv("LD_LIBRARY_PATH");
        line(out, "LD_LIBRARY_PATH", ld == null || ld.isEmpty() ? "(not set)" : ld);
        List<BackendProvider> providers = Backends.providers();
        if (providers.isEmpty()) {
            out.println();
            out.println("No GPU backend is on the classpath: add receptive-cuda to use CUDA.");
            out.flush();
            return 1;
        }
        boolean any = false;
        for (BackendProvider p : providers) {
            BackendDiagnosis d = p.diagnose();
            for (Map.Entry<String, String> fact : d.facts().entrySet()) {
                line(out, fact.getKey(), fact.getValue());
            }
            out.println();
            if (d.available()) {
                any = true;
                out.println(p.name().toUpperCase(java.util.Locale.ROOT) + " works: --backend auto and --backend "
                        + p.name() + " will use it.");
            } else {
                out.println(p.name().toUpperCase(java.util.Locale.ROOT) + " cannot be used; --backend auto falls back"
                        + " to the CPU. To fix:");
                for (String problem : d.problems()) {
                    out.println("  - " + problem);
                }
            }
        }
        out.flush();
        return any ? 0 : 1;
    }

    private static void line(PrintWriter out, String key, String value) {
        out.printf("%-16s %s%n", key + ":", value);
    }
}
