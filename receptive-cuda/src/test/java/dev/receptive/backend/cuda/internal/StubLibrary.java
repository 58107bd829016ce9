package dev.receptive.backend.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Stand-ins for the CUDA libraries, built with gcc: a shared library with a given soname, an
 * optional symbol version (a version script, as NVIDIA's libraries have) and functions that return
 * 0, except those given C bodies. The real JCuda natives link against them as against cuBLAS and
 * cuDNN, so the loader's view (sonames, versions, symbols) is exercised without a GPU.
 */
public final class StubLibrary {
    /** The C bodies that make the stubs answer the version queries Receptive makes. */
    public static final Map<String, String> CUBLAS_BODIES = Map.of("cublasGetProperty",
            "int cublasGetProperty(int type, int* value) { *value = type == 0 ? 13 : type == 1 ? 0 : 2; return 0; }");
    /** cuDNN 9.13.0 built for CUDA 13.0. */
    public static final Map<String, String> CUDNN_BODIES = Map.of(
            "cudnnGetVersion", "unsigned long cudnnGetVersion(void) { return 91300; }",
            "cudnnGetCudartVersion", "unsigned long cudnnGetCudartVersion(void) { return 13000; }");

    private StubLibrary() {
    }

    /** Skips the calling test where gcc is missing. */
    public static void assumeGcc() {
        boolean ok;
        try {
            Process p = new ProcessBuilder("gcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            ok = false;
        }
        assumeTrue(ok, "gcc is not installed: the stub libraries cannot be built");
    }

    /** The JCuda native {@code file} (e.g. "libJCublas2-12.6.0-linux-x86_64.so") from the jars on the test classpath. */
    public static byte[] jcudaNative(String file) throws IOException {
        try (InputStream in = StubLibrary.class.getResourceAsStream("/lib/" + file)) {
            assertNotNull(in, file + " is on the test classpath (the org.jcuda natives jars)");
            return in.readAllBytes();
        }
    }

    /** The functions {@code nativeImage} needs from {@code library} (bound to the version named like it). */
    public static List<String> functionsNeeded(byte[] nativeImage, String library) {
        return new ArrayList<>(Elf.of(nativeImage, library).undefinedSymbols(library));
    }

    /**
     * Builds {@code dir/soname}.
     *
     * @param version the version every function is defined in, or null for an unversioned library
     * @param functions functions returning 0
     * @param bodies C definitions that replace the functions of the same names
     */
    public static Path build(Path dir, String soname, String version, Collection<String> functions,
            Map<String, String> bodies) throws Exception {
        Files.createDirectories(dir);
        StringBuilder c = new StringBuilder();
        for (String f : new TreeSet<>(functions)) {
            if (!bodies.containsKey(f)) {
                c.append("int ").append(f).append("(void) { return 0; }\n");
            }
        }
        bodies.values().forEach(b -> c.append(b).append('\n'));
        Path src = Files.createTempFile(dir, "stub", ".c");
        Files.writeString(src, c);
        List<String> cmd = new ArrayList<>(List.of("gcc", "-shared", "-fPIC", "-o", dir.resolve(soname).toString(),
                "-Wl,-soname," + soname));
        Path map = null;
        if (version != null) {
            map = Files.createTempFile(dir, "stub", ".map");
            Files.writeString(map, version + " {\n  global: *;\n};\n");
            cmd.add("-Wl,--version-script=" + map);
        }
        cmd.add(src.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "gcc hangs");
        assertEquals(0, p.exitValue(), "gcc failed:\n" + out);
        Files.delete(src);
        if (map != null) {
            Files.delete(map);
        }
        return dir.resolve(soname);
    }
}
