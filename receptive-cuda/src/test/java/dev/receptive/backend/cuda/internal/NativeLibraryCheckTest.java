package dev.receptive.backend.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pre-load check on the real JCublas native retargeted to cuBLAS 13, against stub
 * libcublas.so.13 files that define the right version, another one, or lack a function.
 */
class NativeLibraryCheckTest {
    @TempDir
    Path dir;
    private byte[] retargeted;
    private List<String> needed;

    @BeforeEach
    void retarget() throws Exception {
        StubLibrary.assumeGcc();
        byte[] image = StubLibrary.jcudaNative(ElfNeededRetargetTest.NATIVE);
        needed = StubLibrary.functionsNeeded(image, "libcublas.so.12");
        ElfNeededRetarget.retarget(image, "libcublas.so.12", "libcublas.so.13");
        retargeted = image;
    }

    private record Result(Map<String, String> facts, List<String> problems) {
    }

    private Result check(byte[] image, Path libDir) {
        Map<String, String> facts = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        NativeLibraryCheck.check(new NativeLibraryCheck.NativeImage("JCublas2", image, "/bundle/natives"), "libcublas",
                NativeLibraryCheck.CUBLAS_CALLS, List.of(dir.resolve("empty"), libDir), facts, problems);
        return new Result(facts, problems);
    }

    @Test
    void aLibraryThatDefinesTheVersionAndEveryFunctionPasses() throws Exception {
        Path lib = StubLibrary.build(dir.resolve("ok"), "libcublas.so.13", "libcublas.so.13", needed, StubLibrary.CUBLAS_BODIES);
        Result r = check(retargeted, lib.getParent());
        assertEquals(List.of(), r.problems());
        String fact = r.facts().get("libcublas.so.13");
        assertTrue(fact.startsWith(lib + " (versions [libcublas.so.13] defined; every function Receptive calls is there"), fact);
    }

    @Test
    void anotherVersionNameIsReportedExactlyWithTheFix() throws Exception {
        Path lib = StubLibrary.build(dir.resolve("other"), "libcublas.so.13", "LIBCUBLAS_13.0", needed, Map.of());
        Result r = check(retargeted, lib.getParent());
        assertEquals(1, r.problems().size(), r.problems().toString());
        // The library's base version is named libcublas.so.13 too: the loader accepts the native, and
        // the first call would abort the JVM. That is the case the check exists for.
        assertEquals("JCublas2 (from /bundle/natives) needs symbol version 'libcublas.so.13' of libcublas.so.13, but " + lib
                + " defines its symbols only in [LIBCUBLAS_13.0]: the loader would load the native (the library's base"
                + " version has that name) and then abort the process at the first call (\"undefined symbol: ...,"
                + " version libcublas.so.13\"): retarget the native with ElfNeededRetarget, which drops a version the"
                + " library lacks (docs/cuda.md), or put a libcublas.so.13 that defines it first on LD_LIBRARY_PATH",
                r.problems().get(0));

        // Once unversioned, the same library fits: every function is found by name.
        byte[] unversioned = retargeted.clone();
        ElfNeededRetarget.unversion(unversioned, "libcublas.so.13");
        Result after = check(unversioned, lib.getParent());
        assertEquals(List.of(), after.problems());
        assertTrue(after.facts().get("libcublas.so.13").contains("libcublas.so.13 (weak)"), after.facts().toString());
    }

    @Test
    void aMissingFunctionIsAProblemOnlyWhenReceptiveCallsIt() throws Exception {
        List<String> fewer = new ArrayList<>(needed);
        fewer.remove("cublasSgemm_v2");
        fewer.remove("cublasZgemm_v2");
        Path lib = StubLibrary.build(dir.resolve("fewer"), "libcublas.so.13", "libcublas.so.13", fewer, Map.of());
        Result r = check(retargeted, lib.getParent());
        assertEquals(1, r.problems().size(), r.problems().toString());
        assertTrue(r.problems().get(0).startsWith("libcublas.so.13 at " + lib + " lacks cublasSgemm_v2, which Receptive"
                + " calls through JCublas2"), r.problems().get(0));
        assertTrue(r.problems().get(0).contains("LD_LIBRARY_PATH"));
        String fact = r.facts().get("libcublas.so.13");
        assertTrue(fact.contains("1 functions the native wraps but Receptive never calls are missing, e.g. cublasZgemm_v2"),
                fact);
    }

    @Test
    void aLibraryNotFoundIsLeftToTheLoader() {
        Result r = check(retargeted, dir.resolve("nowhere"));
        assertEquals(List.of(), r.problems());
        assertEquals("not found on LD_LIBRARY_PATH or in the system library folders", r.facts().get("libcublas.so.13"));
    }

    @Test
    void theSearchPathStartsWithLdLibraryPath() throws Exception {
        Files.createDirectories(dir.resolve("a"));
        List<Path> path = NativeLibraryCheck.loaderSearchPath();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null && !ld.isEmpty()) {
            assertEquals(Path.of(ld.split(":")[0]), path.get(0));
        }
        assertTrue(path.contains(Path.of("/usr/lib/x86_64-linux-gnu")) && path.contains(Path.of("/usr/lib64")));
        assertTrue(NativeLibraryCheck.locate("nothing.so.1", path).isEmpty());
    }
}
