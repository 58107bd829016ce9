package dev.receptive.cli;

import dev.receptive.backend.cuda.CudaProbe;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Says whether the CUDA backend can run here and, for each problem, the exact fix. Exit code 0
 * when CUDA works, 1 otherwise (the CPU backend always works).
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Check the Java, NVIDIA driver, GPU, cuDNN and cuBLAS setup for the CUDA backend and say how to fix it.")
public final class DoctorCommand implements Callable<Integer> {
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
        CudaProbe probe = CudaProbe.probe();
        for (Map.Entry<String, String> fact : probe.facts().entrySet()) {
            line(out, fact.getKey(), fact.getValue());
        }
        out.println();
        if (probe.available()) {
            out.println("CUDA works: --backend auto and --backend cuda will use the GPU.");
            out.flush();
            return 0;
        }
        out.println("CUDA cannot be used; --backend auto falls back to the CPU. To fix:");
        for (String problem : probe.problems()) {
            out.println("  - " + problem);
        }
        out.flush();
        return 1;
    }

    private static void line(PrintWriter out, String key, String value) {
        out.printf("%-16s %s%n", key + ":", value);
    }
}
