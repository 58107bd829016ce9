package dev.receptive.backend.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import dev.receptive.backend.AbstractBackend;
import jcuda.JCudaVersion;
import jcuda.jcublas.JCublas2;
import jcuda.jcudnn.JCudnn;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retargeted JCublas native under the real dynamic loader: a child JVM loads it from
 * java.library.path, as on the GPU host, against a stub libcublas.so.13 on LD_LIBRARY_PATH, and
 * calls cublasGetProperty through JCublas2.
 */
class RetargetedNativeLoadTest {
    @TempDir
    Path dir;
    private Path original;
    private List<String> needed;

    @BeforeEach
    void setUp() throws Exception {
        StubLibrary.assumeGcc();
        byte[] image = StubLibrary.jcudaNative(ElfNeededRetargetTest.NATIVE);
        needed = StubLibrary.functionsNeeded(image, "libcublas.so.12");
        original = dir.resolve("original.so");
        Files.write(original, image);
    }

    private record Ran(int exit, String output) {
    }

    /** Runs CublasVersion with the native in {@code natives} and {@code libs} on LD_LIBRARY_PATH. */
    private Ran load(Path natives, Path libs) throws Exception {
        return java(CublasVersion.class.getName(), natives, libs);
    }

    private Ran java(String main, Path natives, Path libs) throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.library.path=" + natives, "-Djava.io.tmpdir=" + tmp, "-cp", classPath(), main)
                .redirectErrorStream(true);
        pb.environment().put("LD_LIBRARY_PATH", libs.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM hangs");
        return new Ran(p.exitValue(), out);
    }

    /**
     * Where this test, JCublas2 and JCuda come from: java.class.path is not it under every
     * launcher (the JUnit console launcher of the GPU bundle loads tests from its own class loader).
     */
    private static String classPath() throws Exception {
        StringBuilder cp = new StringBuilder();
        for (Class<?> c : new Class<?>[] {CublasVersion.class, NativeLibraryCheck.class, AbstractBackend.class,
            JCublas2.class, JCudnn.class, JCudaVersion.class}) {
            cp.append(cp.length() == 0 ? "" : File.pathSeparator)
                    .append(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()));
        }
        for (String lib : List.of(ElfNeededRetargetTest.NATIVE, "libJCudnn-12.6.0-linux-x86_64.so",
                "libJCudaDriver-12.6.0-linux-x86_64.so")) { // the natives jars
            String url = RetargetedNativeLoadTest.class.getResource("/lib/" + lib).toString();
            cp.append(File.pathSeparator).append(Path.of(java.net.URI.create(url.substring("jar:".length(),
                    url.indexOf("!/")))));
        }
        return cp.toString();
    }

    private Path retarget(String name, Path target) throws Exception {
        Path natives = Files.createDirectories(dir.resolve(name));
        ElfNeededRetarget.run(original, natives.resolve(ElfNeededRetargetTest.NATIVE), "libcublas.so.12", target,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        return natives;
    }

    @Test
    void loadsAndCallsCublas13ThatDefinesTheVersion() throws Exception {
        Path lib = StubLibrary.build(dir.resolve("named"), "libcublas.so.13", "libcublas.so.13", needed,
                StubLibrary.CUBLAS_BODIES);
        Ran r = load(retarget("a", lib), lib.getParent());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("cuBLAS 13.0.2"), r.output());
    }

    @Test
    void theJcudnnNativeLoadsWithTheJavaApiItIsPairedWith() throws Exception {
        // JCudnn's 12.6.0 native under its 11.7.0 Java API (docs/design.md, "The GPU stack"): the
        // native's JNI_OnLoad looks up fields of the Java classes, and a missing one fails the load.
        byte[] jcudnn = StubLibrary.jcudaNative("libJCudnn-12.6.0-linux-x86_64.so");
        Path lib = StubLibrary.build(dir.resolve("cudnn"), "libcudnn.so.9", "libcudnn.so.9",
                StubLibrary.functionsNeeded(jcudnn, "libcudnn.so.9"), StubLibrary.CUDNN_BODIES);
        Ran probe = java("dev.receptive.backend.cuda.CudaProbePrinter", dir.resolve("none"), lib.getParent());
        assertEquals(0, probe.exit(), probe.output());
        assertTrue(probe.output().contains("fact: cuDNN: 9.13.0 (built for CUDA 13.0)"), probe.output());
    }

    @Test
    void theDriverNativeLoadsAgainstACuda13DriverAndSaysNoGpuIsVisible() throws Exception {
        // libcuda.so.1 exports its functions unversioned; the stub is a CUDA 13 driver with no GPU.
        byte[] driver = StubLibrary.jcudaNative("libJCudaDriver-12.6.0-linux-x86_64.so");
        List<String> functions = Elf.of(driver, "JCudaDriver").symbols().stream()
                .filter(sym -> !sym.defined() && sym.version() == null && sym.name().startsWith("cu"))
                .map(Elf.Symbol::name).toList();
        assertTrue(functions.contains("cuInit") && functions.contains("cuDeviceGetCount"), functions.toString());
        Path lib = StubLibrary.build(dir.resolve("driver"), "libcuda.so.1", null, functions, Map.of(
                "cuDriverGetVersion", "int cuDriverGetVersion(int* v) { *v = 13000; return 0; }",
                "cuDeviceGetCount", "int cuDeviceGetCount(int* n) { *n = 0; return 0; }"));
        Ran probe = java("dev.receptive.backend.cuda.CudaProbePrinter", dir.resolve("none"), lib.getParent());
        assertEquals(0, probe.exit(), probe.output());
        assertTrue(probe.output().contains("fact: CUDA driver: supports CUDA 13.0"), probe.output());
        assertTrue(probe.output().contains("problem: no CUDA GPU is visible"), probe.output());
    }

    @Test
    void aLibraryWithAnotherVersionNeedsTheUnversionedRetarget() throws Exception {
        Path lib = StubLibrary.build(dir.resolve("other"), "libcublas.so.13", "LIBCUBLAS_13.0", needed,
                StubLibrary.CUBLAS_BODIES);
        // Renamed only, as before this check existed: the native loads, the first call kills the JVM.
        Path renamedOnly = Files.createDirectories(dir.resolve("renamed"));
        byte[] image = Files.readAllBytes(original);
        ElfNeededRetarget.retarget(image, "libcublas.so.12", "libcublas.so.13");
        Files.write(renamedOnly.resolve(ElfNeededRetargetTest.NATIVE), image);
        Ran crashed = load(renamedOnly, lib.getParent());
        assertNotEquals(0, crashed.exit(), crashed.output());
        assertTrue(crashed.output().contains("undefined symbol: cublasGetProperty, version libcublas.so.13"),
                crashed.output());

        // The probe behind doctor and auto checks before it loads: it reports the mismatch and its
        // fix, and the JVM lives.
        Ran probe = java("dev.receptive.backend.cuda.CudaProbePrinter", renamedOnly, lib.getParent());
        assertEquals(0, probe.exit(), probe.output());
        assertTrue(probe.output().contains("problem: JCublas2 (from " + renamedOnly.resolve(ElfNeededRetargetTest.NATIVE)
                + ") needs symbol version 'libcublas.so.13' of libcublas.so.13, but " + lib
                + " defines its symbols only in [LIBCUBLAS_13.0]"), probe.output());
        assertTrue(probe.output().contains("fact: cuBLAS: NOT USABLE: the library does not fit the JCublas2 native"),
                probe.output());

        // run() sees the library's versions and drops the requirement: the same library now works.
        Ran r = load(retarget("b", lib), lib.getParent());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("cuBLAS 13.0.2"), r.output());
    }
}
