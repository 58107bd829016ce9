package dev.receptive.cli;

import dev.receptive.backend.BackendDiagnosis;
import dev.receptive.backend.BackendProvider;
import dev.receptive.backend.Backends;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Says whether each backend on the classpath (CPU and CUDA) can run here, what it found and, for
 * each problem, the exact fix. Exit code 0 when every backend works, 1 when one does not or when
 * the CPU is the only one (no GPU backend on the classpath).
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Check the Java, CPU, NVIDIA driver, GPU, cuDNN and cuBLAS setup of each backend and say how to fix it.")
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
        Map<BackendProvider, BackendDiagnosis> diagnoses = new LinkedHashMap<>();
        for (BackendProvider p : providers) {
            diagnoses.put(p, p.diagnose());
        }
        // What --backend auto takes: the first that works, in the providers' order.
        String auto = diagnoses.entrySet().stream().filter(e -> e.getValue().available()).map(e -> e.getKey().name())
                .findFirst().orElse("none");
        boolean all = true;
        for (Map.Entry<BackendProvider, BackendDiagnosis> e : diagnoses.entrySet()) {
            String name = e.getKey().name();
            BackendDiagnosis d = e.getValue();
            out.println();
            for (Map.Entry<String, String> fact : d.facts().entrySet()) {
                line(out, fact.getKey(), fact.getValue());
            }
            if (d.available()) {
                out.println(upper(name) + " works: --backend " + (name.equals(auto) ? "auto and --backend " : "") + name
                        + " will use it.");
            } else {
                all = false;
                out.println(upper(name) + " cannot be used; --backend auto falls back to the " + upper(auto)
                        + ". To fix:");
                for (String problem : d.problems()) {
                    out.println("  - " + problem);
                }
            }
        }
        if (providers.stream().noneMatch(p -> p.priority() > 0)) {
            out.println();
            out.println("No GPU backend is on the classpath: add receptive-cuda to use CUDA.");
            all = false;
        }
        out.flush();
        return all ? 0 : 1;
    }

    private static String upper(String name) {
        return name.toUpperCase(Locale.ROOT);
    }

    private static void line(PrintWriter out, String key, String value) {
        out.printf("%-16s %s%n", key + ":", value);
    }
}
