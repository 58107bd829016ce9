package dev.receptive.backend.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import jcuda.JCudaVersion;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU bundle's run.sh (scripts/gpu-bundle-run.sh) on a host made of stubs: a torch venv whose
 * site-packages hold stub cuDNN 9 and cuBLAS 13 libraries (the sonames, symbol versions and
 * functions of the pip wheels), a python3 first on PATH that is another Python, no GPU. It runs
 * the steps that need no GPU (host facts, retarget, library check) with the real JCuda natives and
 * checks discovery, the retarget decision, the check's verdict, and that everything lands in two
 * files under OUT and nowhere else.
 */
class GpuBundleScriptTest {
    private static final Path SCRIPT = Path.of("scripts/gpu-bundle-run.sh");
    private static final String NATIVE = ElfNeededRetargetTest.NATIVE;

    @TempDir
    Path dir;
    private Path bundle;
    private Path sitePackages;
    private List<String> cublasFunctions;
    private List<String> cudnnFunctions;

    @BeforeEach
    void host() throws Exception {
        assumeTrue(Files.isRegularFile(SCRIPT), "no source tree here");
        StubLibrary.assumeGcc();
        bundle = makeBundle();
        cublasFunctions = StubLibrary.functionsNeeded(StubLibrary.jcudaNative(NATIVE), "libcublas.so.12");
        cudnnFunctions = StubLibrary.functionsNeeded(StubLibrary.jcudaNative("libJCudnn-12.6.0-linux-x86_64.so"),
                "libcudnn.so.9");
        // The torch venv as the pip wheels lay it out.
        sitePackages = dir.resolve("venv/lib/python3.12/site-packages");
        StubLibrary.build(sitePackages.resolve("nvidia/cudnn/lib"), "libcudnn.so.9", "libcudnn.so.9", cudnnFunctions,
                StubLibrary.CUDNN_BODIES);
        StubLibrary.build(sitePackages.resolve("nvidia/cu13/lib"), "libcublasLt.so.13", "libcublasLt.so.13",
                List.of("cublasLtCreate"), Map.of());
        for (String pkg : List.of("nvidia_cudnn_cu13-9.13.0.50", "nvidia_cublas-13.0.2.9", "torch-2.11.0+cu130")) {
            Files.createDirectories(sitePackages.resolve(pkg + ".dist-info"));
        }
        // python3 first on PATH is another Python, whose site-packages hold no CUDA library.
        Path other = Files.createDirectories(dir.resolve("other/site-packages"));
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.writeString(bin.resolve("python3"), "#!/bin/sh\necho " + other + "\n");
        bin.resolve("python3").toFile().setExecutable(true);
        Files.createDirectories(dir.resolve("home"));
        Files.createDirectories(dir.resolve("tmp"));
    }

    /** A bundle whose runtime is this JVM and whose jar is a manifest naming the test classpath. */
    private Path makeBundle() throws Exception {
        Path stage = Files.createDirectories(dir.resolve("stage"));
        Files.createDirectories(stage.resolve("jre/bin"));
        Files.createSymbolicLink(stage.resolve("jre/bin/java"), Path.of(System.getProperty("java.home"), "bin", "java"));
        Files.writeString(stage.resolve("jre/release"), "JAVA_VERSION=\"" + Runtime.version().feature() + "\"\n");
        Files.createDirectories(stage.resolve("lib"));
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        StringBuilder cp = new StringBuilder();
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, FakeBench.class.getName()); // "bench" for compare
        for (Class<?> c : new Class<?>[] {NativeLibraryCheck.class, JCudaVersion.class, FakeBench.class}) {
            cp.append(c.getProtectionDomain().getCodeSource().getLocation().toURI()).append(' ');
        }
        for (String lib : List.of(NATIVE, "libJCudnn-12.6.0-linux-x86_64.so")) { // the natives jars
            String url = GpuBundleScriptTest.class.getResource("/lib/" + lib).toString();
            cp.append(url, "jar:".length(), url.indexOf("!/")).append(' ');
        }
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, cp.toString().trim());
        try (OutputStream out = Files.newOutputStream(stage.resolve("lib/receptive.jar"));
                JarOutputStream jar = new JarOutputStream(out, m)) {
            jar.flush();
        }
        Files.createDirectories(stage.resolve("natives"));
        Files.write(stage.resolve("natives").resolve(NATIVE), StubLibrary.jcudaNative(NATIVE));
        Files.writeString(stage.resolve("BUILD-INFO"), "built by GpuBundleScriptTest\n");
        Path b = Files.createDirectories(dir.resolve("bundle"));
        run(List.of("tar", "-czf", b.resolve("payload.tar.gz").toString(), "-C", stage.toString(), "."), Map.of(), 60);
        Files.copy(SCRIPT, b.resolve("run.sh"));
        b.resolve("run.sh").toFile().setExecutable(true);
        return b;
    }

    private record Ran(int exit, String output) {
    }

    private static Ran run(List<String> command, Map<String, String> env, int seconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("LD_LIBRARY_PATH");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), command + " hangs");
        return new Ran(p.exitValue(), out);
    }

    /** Runs run.sh OUT for the steps that need no GPU; returns the summary; checks what it wrote. */
    private String runScript(Path out, Map<String, String> extra, int expectedExit) throws Exception {
        List<String> bundleBefore = listing(bundle);
        Map<String, String> env = new java.util.HashMap<>(Map.of("PATH", dir.resolve("bin") + ":/usr/bin:/bin",
                "TORCH_VENV", dir.resolve("venv").toString(), "HOME", dir.resolve("home").toString(),
                "TMPDIR", dir.resolve("tmp").toString(), "RUN_STEPS", "host,libs"));
        env.putAll(extra);
        Ran r = run(List.of("bash", bundle.resolve("run.sh").toString(), out.toString()), env, 300);
        String summary = Files.readString(out.resolve("summary.txt"));
        assertEquals(expectedExit, r.exit(), r.output() + "\n" + summary);
        // Two files under OUT, nothing in the bundle, HOME or TMPDIR.
        assertEquals(List.of("results.tar.gz", "summary.txt"), listing(out));
        assertEquals(bundleBefore, listing(bundle));
        assertEquals(List.of(), listing(dir.resolve("home")));
        assertEquals(List.of(), listing(dir.resolve("tmp")));
        Ran tar = run(List.of("tar", "-tzf", out.resolve("results.tar.gz").toString()), Map.of(), 60);
        for (String log : List.of("logs/host.txt", "logs/libs.log", "logs/java.log")) {
            assertTrue(tar.output().contains(log), log + " in the archive: " + tar.output());
        }
        return summary;
    }

    @Test
    void findsTheVenvsLibrariesRetargetsCublasAndChecksTheNatives() throws Exception {
        Path cu13 = sitePackages.resolve("nvidia/cu13/lib");
        StubLibrary.build(cu13, "libcublas.so.13", "libcublas.so.13", cublasFunctions, StubLibrary.CUBLAS_BODIES);
        String s = runScript(dir.resolve("out"), Map.of(), 0);
        assertTrue(s.contains("  libcudnn.so.9 in " + sitePackages.resolve("nvidia/cudnn/lib") + "\n"), s);
        assertTrue(s.contains("  libcublas.so.13 in " + cu13 + "\n"), s);
        assertTrue(s.contains("libcudnn.so.9: nvidia_cudnn_cu13-9.13.0.50"), s);
        assertTrue(s.contains("retargeted " + NATIVE + " from libcublas.so.12 to " + cu13.resolve("libcublas.so.13")
                + " (2 fields rewritten; libcublas.so.13 defines version libcublas.so.13)"), s);
        assertTrue(s.contains("no mismatch between the natives and the libraries found"), s);
        assertTrue(s.contains("JCublas2: libcublas.so.13: " + cu13.resolve("libcublas.so.13")
                + " (versions [libcublas.so.13] defined; every function Receptive calls is there)"), s);
        assertTrue(s.contains("JCudnn: libcudnn.so.9: " + sitePackages.resolve("nvidia/cudnn/lib/libcudnn.so.9")
                + " (versions [libcudnn.so.9] defined; every function Receptive calls is there)"), s);
        assertTrue(s.contains("overall: PASS"), s);
    }

    @Test
    void overridesWinAndAnotherVersionNameIsDroppedNotCrashedOn() throws Exception {
        // cuBLAS versioned otherwise than by its soname, and a cuDNN elsewhere named by CUDNN_LIB.
        Path cu13 = sitePackages.resolve("nvidia/cu13/lib");
        StubLibrary.build(cu13, "libcublas.so.13", "LIBCUBLAS_13.0", cublasFunctions, StubLibrary.CUBLAS_BODIES);
        Path mine = StubLibrary.build(dir.resolve("my-cudnn/lib"), "libcudnn.so.9", "libcudnn.so.9", cudnnFunctions,
                StubLibrary.CUDNN_BODIES);
        String s = runScript(dir.resolve("out"), Map.of("CUDNN_LIB", mine.toString()), 0);
        assertTrue(s.contains("  libcudnn.so.9 in " + mine.getParent() + "\n"), s);
        assertTrue(s.contains("libcublas.so.13 defines versions [LIBCUBLAS_13.0] but not libcublas.so.13: the"
                + " requirement is now weak and " + cublasFunctions.size() + " symbols are unversioned"), s);
        assertTrue(s.contains("versions [libcublas.so.13 (weak)] defined; every function Receptive calls is there"), s);
    }

    @Test
    void aCublasThatLacksACalledFunctionFailsTheCheckBeforeAnythingLoads() throws Exception {
        List<String> fewer = new ArrayList<>(cublasFunctions);
        fewer.remove("cublasSgemm_v2");
        StubLibrary.build(sitePackages.resolve("nvidia/cu13/lib"), "libcublas.so.13", "libcublas.so.13", fewer,
                StubLibrary.CUBLAS_BODIES);
        String s = runScript(dir.resolve("out"), Map.of(), 1);
        assertTrue(s.contains("PROBLEMS below"), s);
        assertTrue(s.contains("JCublas2: PROBLEM: libcublas.so.13 at " + sitePackages.resolve("nvidia/cu13/lib")
                .resolve("libcublas.so.13") + " lacks cublasSgemm_v2, which Receptive calls through JCublas2"), s);
        assertTrue(s.contains("overall: FAIL"), s);
    }

    /**
     * The compare step alternates Receptive's three precisions with PyTorch's modes in rounds and
     * reports the median of the rounds per engine, mode and batch, and the ratios; a PyTorch mode
     * that could not run is named. Receptive's bench is FakeBench here, PyTorch a shell script.
     */
    @Test
    void compareAlternatesTheEnginesInRoundsAndReportsMediansAndRatios() throws Exception {
        Path calls = dir.resolve("calls.txt");
        Path torch = dir.resolve("bin/fake-torch");
        // images/s = batch·m + 10·(earlier torch runs), m = 40 eager, 50 autocast, 60 graph; graph cannot run at 256.
        Files.writeString(torch, """
                #!/bin/sh
                k=$(grep -c '^torch$' "$FAKE_BENCH_LOG" 2> /dev/null)
                echo torch >> "$FAKE_BENCH_LOG"
                echo "device: fake"
                for b in 64 256; do
                    echo "torch eager batch  $b: $(( b * 40 + 10 * k )).0 images/s  (1.00 ms/step)"
                    echo "torch autocast batch  $b: $(( b * 50 + 10 * k )).0 images/s  (1.00 ms/step)"
                done
                echo "torch graph batch   64: $(( 64 * 60 + 10 * k )).0 images/s  (1.00 ms/step)"
                echo "torch graph batch  256: not run: RuntimeError: capture failed"
                """);
        torch.toFile().setExecutable(true);
        Path out = dir.resolve("out");
        Map<String, String> env = new java.util.HashMap<>(Map.of("PATH", dir.resolve("bin") + ":/usr/bin:/bin",
                "TORCH_VENV", dir.resolve("venv").toString(), "HOME", dir.resolve("home").toString(),
                "TMPDIR", dir.resolve("tmp").toString(), "RUN_STEPS", "compare", "TORCH_PYTHON", torch.toString(),
                "FAKE_BENCH_LOG", calls.toString(), "COMPARE_ARGS", "--batch 64 --train-batches 256",
                "COMPARE_BATCHES", "64,256"));
        Ran r = run(List.of("bash", bundle.resolve("run.sh").toString(), out.toString()), env, 300);
        String s = Files.readString(out.resolve("summary.txt"));
        assertEquals(0, r.exit(), r.output() + "\n" + s);
        List<String> order = Files.readAllLines(calls);
        List<String> round = List.of("receptive fp32", "receptive tf32", "receptive bf16", "torch");
        List<String> three = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            three.addAll(round);
        }
        assertEquals(three, order, "A and B alternate, round by round");
        assertTrue(s.contains("W1 training images/s, median of 3 alternated rounds (batch 64 / 256)"), s);
        // Medians: batch·m + 10 (the middle of +0, +10, +20).
        assertTrue(s.contains(String.format("%-16s %11.1f %11.1f", "receptive fp32", 650.0, 2570.0)), s);
        assertTrue(s.contains(String.format("%-16s %11.1f %11.1f", "receptive bf16", 1930.0, 7690.0)), s);
        assertTrue(s.contains(String.format("%-16s %11.1f %11.1f", "torch eager", 2570.0, 10250.0)), s);
        assertTrue(s.contains(String.format("%-16s %11.1f %11.1f", "torch graph", 3850.0, 0.0)), s);
        assertTrue(s.contains(String.format("%-34s %5.2fx %5.2fx", "receptive fp32/torch eager", 650.0 / 2570,
                2570.0 / 10250)), s);
        assertTrue(s.contains(String.format("%-34s %5.2fx %5.2fx", "receptive bf16/torch autocast", 1930.0 / 3210,
                7690.0 / 12810)), s);
        assertTrue(s.contains(String.format("%-34s %5.2fx     -", "receptive fp32/torch graph", 650.0 / 3850)), s);
        assertTrue(s.contains("| torch graph batch  256: not run: RuntimeError: capture failed"), s);
        assertEquals(List.of("results.tar.gz", "summary.txt"), listing(out));
        Ran tar = run(List.of("tar", "-tzf", out.resolve("results.tar.gz").toString()), Map.of(), 60);
        assertTrue(tar.output().contains("logs/compare-all.log") && tar.output().contains("logs/compare-runs.txt"),
                tar.output());
    }

    @Test
    void withoutOutTheScriptRefusesAndWritesNothing() throws Exception {
        List<String> before = listing(bundle);
        Ran r = run(List.of("bash", bundle.resolve("run.sh").toString()), Map.of(), 30);
        assertEquals(2, r.exit(), r.output());
        assertTrue(r.output().startsWith("usage: run.sh OUT"), r.output());
        assertEquals(before, listing(bundle));
    }

    private static List<String> listing(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }
}
