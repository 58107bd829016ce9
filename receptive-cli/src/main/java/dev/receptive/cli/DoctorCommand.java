package dev.receptive.cli;

import dev.receptive.backend.BackendDiagnosis;
import dev.receptive.backend.BackendProvider;
import dev.receptive.backend.Backends;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Says whether each backend on the classpath (CPU and CUDA) can run here, what it found and, for
 * each problem, the exact fix. Exit code 0 when every backend works, 1 when one does not or when
 * the CPU is the only one (no GPU backend on the classpath). With {@code --require BACKEND} the
 * exit code follows that backend alone: a container's health check asks whether the backend its
 * image exists for works. Inside Receptive's container images (the variable RECEPTIVE_IMAGE) it
 * also says how to fix a missing CUDA library in container terms.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Check the Java, CPU, NVIDIA driver, GPU, cuDNN and cuBLAS setup of each backend and say how to fix it.")
final class DoctorCommand implements Callable<Integer> {
    /** Set by the images: "cpu" (Dockerfile) or "cuda" (Dockerfile.cuda). */
    static final String IMAGE_ENV = "RECEPTIVE_IMAGE";
    /** Set by the CUDA image: the base image it was built FROM. */
    static final String IMAGE_BASE_ENV = "RECEPTIVE_IMAGE_BASE";

    @Spec
    CommandSpec spec;

    @Option(names = "--require", paramLabel = "BACKEND",
            description = "Exit 0 when this backend (cpu, cuda) works, whatever the others do, as a container's health"
                    + " check needs. Without it, 0 only when every backend works and a GPU backend is present.")
    String require;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<BackendProvider> providers = Backends.providers();
        BackendProvider required = require == null ? null : providers.stream()
                .filter(p -> p.name().equals(require.trim().toLowerCase(Locale.ROOT))).findFirst()
                .orElseThrow(() -> new UsageException("--require " + require + ": no such backend here; choose "
                        + providers.stream().map(BackendProvider::name).collect(Collectors.joining(" or "))));
        line(out, "Java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + " ("
                + System.getProperty("java.home") + ")");
        line(out, "OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + ", "
                + System.getProperty("os.arch"));
        String ld = System.getenv("LD_LIBRARY_PATH");
        line(out, "LD_LIBRARY_PATH", ld == null || ld.isEmpty() ? "(not set)" : ld);
        String image = System.getenv(IMAGE_ENV);
        String base = System.getenv(IMAGE_BASE_ENV);
        if (image != null && !image.isEmpty()) {
            line(out, "Image", "Receptive's " + image + " image" + (base == null || base.isEmpty() ? "" : ", built FROM " + base));
        }
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
                if (name.equals("cuda") && image != null && !image.isEmpty()) {
                    out.println("In this container:");
                    for (String advice : imageAdvice(image, base, d)) {
                        out.println("  - " + advice);
                    }
                }
            }
        }
        if (providers.stream().noneMatch(p -> p.priority() > 0)) {
            out.println();
            out.println("No GPU backend is on the classpath: add receptive-cuda to use CUDA.");
            all = false;
        }
        if (required != null) {
            boolean works = diagnoses.get(required).available();
            out.println();
            out.println("Required: " + required.name() + (works ? " works." : " does not work."));
            out.flush();
            return works ? 0 : 1;
        }
        out.flush();
        return all ? 0 : 1;
    }

    /**
     * How to fix CUDA's problems inside one of Receptive's images: the driver comes from the host
     * through the container engine, cuBLAS and cuDNN from the image's base. The problems name the
     * library the loader missed first (docs/cuda.md, Requirements), so each maps to one remedy.
     *
     * @param image the image kind, "cpu" or "cuda"
     * @param base the base the CUDA image was built FROM, or null
     * @param cuda the CUDA backend's diagnosis, with problems
     * @return one line per remedy
     */
    static List<String> imageAdvice(String image, String base, BackendDiagnosis cuda) {
        List<String> advice = new ArrayList<>();
        if (!image.equals("cuda")) {
            advice.add("this is the CPU image, which is healthy without CUDA; on a GPU host build and run"
                    + " Dockerfile.cuda's image instead (docs/cuda.md)");
            return advice;
        }
        String from = base == null || base.isEmpty() ? "this image's base" : "this image's base " + base;
        for (String problem : cuda.problems()) {
            if (problem.startsWith("libcuda.so")) {
                advice.add("the NVIDIA driver (libcuda.so.1) comes from the host: run the container with --gpus all"
                        + " (Docker with the NVIDIA Container Toolkit) or --device nvidia.com/gpu=all (Podman with the"
                        + " toolkit's CDI specification)");
            } else if (problem.startsWith("libcublas")) {
                advice.add(from + " lacks cuBLAS for CUDA 12 (libcublas.so.12): build Dockerfile.cuda FROM an image that"
                        + " has it, such as its default CUDA_IMAGE (NVIDIA's CUDA 12 cuDNN runtime image)");
            } else if (problem.startsWith("libcudnn")) {
                advice.add(from + " lacks cuDNN 9 (libcudnn.so.9): build Dockerfile.cuda FROM an image that has it, such"
                        + " as its default CUDA_IMAGE (NVIDIA's CUDA 12 cuDNN runtime image)");
            }
        }
        if (advice.isEmpty()) {
            advice.add("nothing specific to the image: see the fixes above, and docs/cuda.md");
        }
        return advice;
    }

    private static String upper(String name) {
        return name.toUpperCase(Locale.ROOT);
    }

    private static void line(PrintWriter out, String key, String value) {
        out.printf("%-16s %s%n", key + ":", value);
    }
}
