package dev.receptive.backend.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import dev.receptive.backend.Conv2dParams;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.backend.cuda.internal.NativeLibraryCheck;
import java.io.File;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.CudaException;
import jcuda.JCudaVersion;
import jcuda.LibUtils;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcudnn.JCudnn;
import jcuda.libraryPropertyType;

/**
 * Can this process use the CUDA backend, and if not, why and how to fix it? Checks the NVIDIA
 * driver, the GPU, cuBLAS and cuDNN, then runs a smoke test (upload, a PTX kernel, a cuBLAS GEMM,
 * a cuDNN convolution and softmax, download). Never throws: missing native libraries
 * (UnsatisfiedLinkError) and CUDA errors become {@link #problems()}, each with its fix. The
 * result is computed once per JVM.
 *
 * @param facts what was found, in order: versions, the GPU, where the JCuda natives come from
 * @param problems what stops the CUDA backend, each naming the exact fix; empty when it works
 */
record CudaProbe(Map<String, String> facts, List<String> problems) {
    private static final Pattern MISSING = Pattern.compile("(lib[\\w.+-]+?\\.so[.\\d]*): cannot open shared object file");
    private static final Pattern BAD_VERSION = Pattern.compile("version `([^']+)' not found");
    private static CudaProbe cached;

    CudaProbe {
        facts = Collections.unmodifiableMap(new LinkedHashMap<>(facts));
        problems = List.copyOf(problems);
    }

    boolean available() {
        return problems.isEmpty();
    }

    /** One line: "CUDA works" or every problem with its fix. */
    String reason() {
        return available() ? "CUDA works" : String.join("; ", problems);
    }

    /** Short form for a fallback line: the first problem without its fix, and how many more. */
    String summary() {
        if (available()) {
            return "CUDA works";
        }
        String first = problems.get(0);
        int colon = first.indexOf(": ");
        String head = colon > 0 ? first.substring(0, colon) : first;
        int more = problems.size() - 1;
        return more == 0 ? head : head + " (and " + more + " more problem" + (more == 1 ? "" : "s") + ")";
    }

    /** The probe of this JVM, run on first use. */
    static synchronized CudaProbe probe() {
        if (cached == null) {
            cached = run();
        }
        return cached;
    }

    private static CudaProbe run() {
        Map<String, String> facts = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        facts.put("JCuda", JCudaVersion.get() + "; natives " + nativesSource());
        boolean driver = guard(facts, problems, "CUDA driver", "JCudaDriver", () -> checkDriver(facts, problems));
        List<Path> searchPath = NativeLibraryCheck.loaderSearchPath();
        boolean cublas = nativeFits("cuBLAS", "JCublas2", "libcublas", NativeLibraryCheck.CUBLAS_CALLS, searchPath, facts,
                problems) && guard(facts, problems, "cuBLAS", "JCublas2", () -> {
            int[] major = new int[1];
            int[] minor = new int[1];
            int[] patch = new int[1];
            JCublas2.setExceptionsEnabled(true);
            JCublas2.cublasGetProperty(libraryPropertyType.MAJOR_VERSION, major);
            JCublas2.cublasGetProperty(libraryPropertyType.MINOR_VERSION, minor);
            JCublas2.cublasGetProperty(libraryPropertyType.PATCH_LEVEL, patch);
            facts.put("cuBLAS", major[0] + "." + minor[0] + "." + patch[0]);
            return true;
        });
        boolean cudnn = nativeFits("cuDNN", "JCudnn", "libcudnn", NativeLibraryCheck.CUDNN_CALLS, searchPath, facts,
                problems) && guard(facts, problems, "cuDNN", "JCudnn", () -> {
            long v = JCudnn.cudnnGetVersion();
            facts.put("cuDNN", libraryVersion(v) + " (built for CUDA " + cudaVersion((int) JCudnn.cudnnGetCudartVersion()) + ")");
            if (v < 90000) {
                problems.add("cuDNN " + libraryVersion(v) + " is loaded but Receptive needs cuDNN 9: install cuDNN 9 for"
                        + " CUDA 12 and put it first on LD_LIBRARY_PATH");
                return false;
            }
            return true;
        });
        if (driver && cublas && cudnn) {
            guard(facts, problems, "smoke test", "the smoke test", () -> {
                smokeTest();
                facts.put("smoke test", "passed (PTX kernel, cuBLAS GEMM, cuDNN convolution and softmax)");
                return true;
            });
        }
        return new CudaProbe(facts, problems);
    }

    /**
     * Checks a JCuda native against the library the loader would give it before loading it (see
     * {@link NativeLibraryCheck}); its facts join the probe's, its problems stop the native from loading.
     */
    private static boolean nativeFits(String key, String library, String prefix, Set<String> calls, List<Path> searchPath,
            Map<String, String> facts, List<String> problems) {
        NativeLibraryCheck.Report r = NativeLibraryCheck.check(library, prefix, calls, searchPath);
        facts.putAll(r.facts());
        if (r.problems().isEmpty()) {
            return true;
        }
        problems.addAll(r.problems());
        facts.put(key, "NOT USABLE: the library does not fit the " + library + " native (see below)");
        return false;
    }

    private interface Check {
        boolean run();
    }

    /**
     * Runs one check; a missing native library or a CUDA error becomes a problem with its fix, and
     * the fact {@code key} says the check failed.
     */
    private static boolean guard(Map<String, String> facts, List<String> problems, String key, String what, Check check) {
        int before = problems.size();
        try {
            if (check.run()) {
                return true;
            }
        } catch (LinkageError e) {
            problems.add(linkProblem(what, e));
        } catch (CudaException | GpuException e) {
            problems.add(what + " failed: " + cudaProblem(e.getMessage()));
        } catch (RuntimeException e) {
            problems.add(what + " failed: " + e);
        }
        facts.putIfAbsent(key, "NOT USABLE: " + (problems.size() > before ? firstClause(problems.get(before)) : "see below"));
        return false;
    }

    private static String firstClause(String problem) {
        int colon = problem.indexOf(':');
        return colon > 0 ? problem.substring(0, colon) : problem;
    }

    private static boolean checkDriver(Map<String, String> facts, List<String> problems) {
        JCudaDriver.setExceptionsEnabled(true);
        int[] v = new int[1];
        cuDriverGetVersion(v);
        facts.put("CUDA driver", "supports CUDA " + cudaVersion(v[0]));
        if (v[0] < 12000) {
            problems.add("the NVIDIA driver supports only CUDA " + cudaVersion(v[0])
                    + ": Receptive's CUDA 12 libraries need driver >= 525 (CUDA 12.0); update the NVIDIA driver");
            return false;
        }
        cuInit(0);
        int[] count = new int[1];
        cuDeviceGetCount(count);
        facts.put("GPUs", Integer.toString(count[0]));
        if (count[0] == 0) {
            problems.add("no CUDA GPU is visible: check that nvidia-smi lists one and that CUDA_VISIBLE_DEVICES does"
                    + " not hide it; in a container, run it with --gpus all");
            return false;
        }
        CUdevice d = new CUdevice();
        cuDeviceGet(d, 0);
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, d);
        int[] major = new int[1];
        int[] minor = new int[1];
        cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
        cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
        long[] mem = new long[1];
        cuDeviceTotalMem(mem, d);
        facts.put("GPU 0", new String(name, StandardCharsets.US_ASCII).trim().replace("\0", "") + ", compute capability "
                + major[0] + "." + minor[0] + ", " + String.format("%.1f GiB", mem[0] / (double) (1L << 30)));
        if (major[0] < 6) {
            problems.add("GPU 0 has compute capability " + major[0] + "." + minor[0]
                    + "; Receptive's kernels and cuDNN 9 need 6.0 (Pascal) or newer");
            return false;
        }
        return true;
    }

    /** Every layer once, on tiny tensors, checked against hand-computed values. */
    private static void smokeTest() {
        try (CudaBackend b = new CudaBackend(CudaOptions.defaults().withWorkspaceLimit(16L << 20));
                Tensor x = b.upload(new float[] {1, 2, 3, 4}, Shape.of(1, 1, 2, 2));
                Tensor w = b.upload(new float[] {1, 0, 0, 1}, Shape.of(2, 2));
                Tensor y = b.allocate(Shape.of(1, 2));
                Tensor k = b.upload(new float[] {0.5f}, Shape.of(1, 1, 1, 1));
                Tensor c = b.allocate(Shape.of(1, 1, 2, 2));
                Tensor s = b.allocate(Shape.of(1, 2));
                Tensor row = b.upload(new float[] {1, 2}, Shape.of(1, 2))) {
            b.denseForward(y, row, w, null); // identity weights: y = (1, 2)
            b.scale(y, y, 2f); // PTX kernel: (2, 4)
            b.conv2dForward(c, x, k, null, Conv2dParams.of(1, 0, 1)); // 1x1 conv by 0.5: (0.5, 1, 1.5, 2)
            b.softmaxForward(s, y);
            float[] got = new float[8];
            System.arraycopy(b.download(y), 0, got, 0, 2);
            System.arraycopy(b.download(c), 0, got, 2, 4);
            System.arraycopy(b.download(s), 0, got, 6, 2);
            double e = Math.exp(-2);
            double[] want = {2, 4, 0.5, 1, 1.5, 2, e / (1 + e), 1 / (1 + e)};
            for (int i = 0; i < want.length; i++) {
                if (!(Math.abs(got[i] - want[i]) <= 1e-5)) {
                    throw new GpuException("the GPU computed " + got[i] + " where " + want[i] + " was expected (value " + i
                            + "); the driver, cuDNN or cuBLAS installation is broken");
                }
            }
        }
    }

    // ---- turning failures into fixes ----------------------------------------------------

    /** The fix for a native library that did not load, from the dynamic loader's message. */
    static String linkProblem(String what, Throwable e) {
        String msg = String.valueOf(e.getMessage());
        // Version first: JCuda's message holds two attempts, the native on java.library.path (the
        // retargeted JCublas of a GPU bundle) and then the one in the jar. When the first found its
        // library but not the version, that is the cause; the jar's native then always misses
        // libcublas.so.12 on such a host, which would hide it.
        Matcher v = BAD_VERSION.matcher(msg);
        if (v.find()) {
            return what + " needs version " + v.group(1) + " of its library, which the library found on"
                    + " LD_LIBRARY_PATH lacks: install the CUDA 12 / cuDNN 9 build and put its folder first on LD_LIBRARY_PATH";
        }
        Matcher m = MISSING.matcher(msg);
        if (m.find()) {
            return missingLibrary(m.group(1));
        }
        if (e instanceof NoClassDefFoundError) {
            return what + " could not be loaded earlier in this JVM (" + msg + ")";
        }
        // JCuda's first line only says which library; the loader's own words follow, one per attempt.
        List<String> causes = msg.lines().filter(l -> l.contains("UnsatisfiedLinkError: "))
                .map(l -> l.substring(l.indexOf("UnsatisfiedLinkError: ") + "UnsatisfiedLinkError: ".length()))
                .distinct().toList();
        return what + " could not be loaded: " + (causes.isEmpty() ? msg.lines().findFirst().orElse(msg)
                : String.join("; ", causes)) + "; check that the JCuda jars are complete and LD_LIBRARY_PATH";
    }

    static String missingLibrary(String lib) {
        if (lib.startsWith("libcuda.so")) {
            return lib + " not found: install the NVIDIA driver >= 525 (nvidia-smi must list the GPU); in a container,"
                    + " run it with --gpus all (NVIDIA Container Toolkit)";
        }
        if (lib.startsWith("libcublas")) {
            return lib + " not found: install cuBLAS for CUDA 12 (package libcublas-12-6 from NVIDIA's CUDA"
                    + " repository, or pip install nvidia-cublas-cu12) and add its lib folder to LD_LIBRARY_PATH;"
                    + " where only CUDA 13's libcublas.so.13 exists, run through scripts/gpu-bundle.sh, which retargets"
                    + " the JCublas native to it";
        }
        if (lib.startsWith("libcudnn")) {
            return lib + " not found: install cuDNN 9 for CUDA 12 (package libcudnn9-cuda-12 from NVIDIA's CUDA"
                    + " repository, or pip install nvidia-cudnn-cu12) and add its lib folder to LD_LIBRARY_PATH";
        }
        return lib + " not found: install it and add its folder to LD_LIBRARY_PATH";
    }

    static String cudaProblem(String message) {
        String m = String.valueOf(message);
        if (m.contains("CUDA_ERROR_NO_DEVICE")) {
            return m + ": no CUDA GPU is visible; check nvidia-smi and CUDA_VISIBLE_DEVICES, and run containers with --gpus all";
        }
        if (m.contains("CUDA_ERROR_INSUFFICIENT_DRIVER") || m.contains("CUDA_ERROR_UNSUPPORTED_PTX_VERSION")) {
            return m + ": the NVIDIA driver is too old; install driver >= 525 (CUDA 12.0)";
        }
        if (m.contains("CUDA_ERROR_SYSTEM_DRIVER_MISMATCH")) {
            return m + ": the loaded kernel module and libcuda.so.1 are different driver versions; reboot or reinstall"
                    + " the NVIDIA driver";
        }
        if (m.contains("CUDA_ERROR_OUT_OF_MEMORY")) {
            return m + ": the GPU has no free memory; stop other processes using it (see nvidia-smi)";
        }
        return m;
    }

    // ---- formatting ---------------------------------------------------------------------

    /** cuDNN 9 and cuBLAS versions: major·10000 + minor·100 + patch → "9.5.0". */
    static String libraryVersion(long v) {
        return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
    }

    /** CUDA versions: major·1000 + minor·10 → "12.6". */
    static String cudaVersion(int v) {
        return (v / 1000) + "." + (v % 1000 / 10);
    }

    /** Where the JCuda natives load from: a java.library.path folder wins over the jars. */
    static String nativesSource() {
        StringBuilder sb = new StringBuilder();
        for (String lib : new String[] {"JCudaDriver", "JCublas2", "JCudnn"}) {
            String file = System.mapLibraryName(LibUtils.createPlatformLibraryName(lib + "-" + JCudaVersion.get()));
            String from = "the jar (extracted to " + System.getProperty("java.io.tmpdir") + ")";
            for (String dir : System.getProperty("java.library.path", "").split(File.pathSeparator)) {
                if (!dir.isEmpty() && new File(dir, file).isFile()) {
                    from = dir;
                    break;
                }
            }
            sb.append(sb.length() == 0 ? "" : ", ").append(file).append(" from ").append(from);
        }
        return sb.toString();
    }
}
