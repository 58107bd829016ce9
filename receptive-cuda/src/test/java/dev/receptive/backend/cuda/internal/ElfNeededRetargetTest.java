package dev.receptive.backend.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retargets the real JCublas native (from the jcublas-natives jar on the test classpath) to cuBLAS 13. */
class ElfNeededRetargetTest {
    static final String NATIVE = "libJCublas2-12.6.0-linux-x86_64.so";

    @Test
    void elfHashMatchesKnownValues() {
        // Published values of the System V ABI hash.
        assertEquals(0x077905a6, ElfNeededRetarget.elfHash("printf"));
        assertEquals(0x09691a75, ElfNeededRetarget.elfHash("GLIBC_2.2.5"));
        assertEquals(0, ElfNeededRetarget.elfHash(""));
    }

    @Test
    void rewritesTheNeededLibraryAndItsVersionRequirement() throws Exception {
        byte[] original = StubLibrary.jcudaNative(NATIVE);
        byte[] elf = original.clone();
        // One .dynstr string serves DT_NEEDED, vn_file and vna_name; plus the one vna_hash.
        assertEquals(2, ElfNeededRetarget.retarget(elf, "libcublas.so.12", "libcublas.so.13"));
        assertEquals(original.length, elf.length);
        // Only the name's last digit and the hash's last byte changed (.symtab's "name@@libcublas.so.12"
        // strings are debugging symbols the loader never reads).
        int changed = 0;
        for (int i = 0; i < elf.length; i++) {
            changed += elf[i] != original[i] ? 1 : 0;
        }
        assertEquals(2, changed);
        Elf after = Elf.of(elf, NATIVE);
        assertTrue(after.needed().contains("libcublas.so.13") && !after.needed().contains("libcublas.so.12"));
        Elf.NeededVersion v = after.versionNeeds().get("libcublas.so.13").get(0);
        assertEquals("libcublas.so.13", v.name());
        assertEquals(ElfNeededRetarget.elfHash("libcublas.so.13"), v.hash());
        // Retargeting back restores the file: the hash check passed and the hash is that of the name.
        ElfNeededRetarget.retarget(elf, "libcublas.so.13", "libcublas.so.12");
        assertArrayEquals(original, elf);
    }

    @Test
    void unversioningMakesTheRequirementWeakAndItsSymbolsUnversioned() throws Exception {
        byte[] elf = StubLibrary.jcudaNative(NATIVE);
        int bound = Elf.of(elf, NATIVE).undefinedSymbols("libcublas.so.12").size();
        ElfNeededRetarget.retarget(elf, "libcublas.so.12", "libcublas.so.13");
        assertEquals(bound, ElfNeededRetarget.unversion(elf, "libcublas.so.13"));
        Elf after = Elf.of(elf, NATIVE);
        assertTrue(after.versionNeeds().get("libcublas.so.13").get(0).weak());
        assertEquals(0, after.undefinedSymbols("libcublas.so.13").size());
        // glibc's versions are untouched.
        assertFalse(after.undefinedSymbols("GLIBC_2.2.5").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> ElfNeededRetarget.unversion(elf, "libcudnn.so.9"));
    }

    @Test
    void runRenamesOrUnversionsByWhatTheTargetDefines(@TempDir Path dir) throws Exception {
        StubLibrary.assumeGcc();
        Path in = dir.resolve("in.so");
        Files.write(in, StubLibrary.jcudaNative(NATIVE));
        List<String> fns = List.of("cublasSgemm_v2");
        Path named = StubLibrary.build(dir.resolve("named"), "libcublas.so.13", "libcublas.so.13", fns, Map.of());
        Path other = StubLibrary.build(dir.resolve("other"), "libcublas.so.13", "LIBCUBLAS_13.0", fns, Map.of());
        Path none = StubLibrary.build(dir.resolve("none"), "libcublas.so.13", null, fns, Map.of());

        String said = run(in, dir.resolve("a.so"), named);
        assertTrue(said.contains("defines version libcublas.so.13"), said);
        assertFalse(Elf.read(dir.resolve("a.so")).versionNeeds().get("libcublas.so.13").get(0).weak());

        said = run(in, dir.resolve("b.so"), other);
        assertTrue(said.contains("not libcublas.so.13: the requirement is now weak"), said);
        assertTrue(Elf.read(dir.resolve("b.so")).versionNeeds().get("libcublas.so.13").get(0).weak());

        said = run(in, dir.resolve("c.so"), none);
        assertTrue(said.contains("defines no symbol versions"), said);
        String readelf = readelf(dir.resolve("a.so"));
        if (readelf != null) { // binutils' own view, where installed
            assertTrue(readelf.contains("Shared library: [libcublas.so.13]"), readelf);
            assertTrue(readelf.contains("File: libcublas.so.13"), readelf);
            assertTrue(readelf.contains("Name: libcublas.so.13"), readelf);
            assertFalse(readelf.contains("libcublas.so.12"), readelf);
        }
    }

    @Test
    void refusesWhatItCannotRewriteInPlace() throws IOException {
        byte[] elf = StubLibrary.jcudaNative(NATIVE);
        assertThrows(IllegalArgumentException.class, () -> ElfNeededRetarget.retarget(elf, "libcublas.so.12", "libcublas.so.1"));
        assertThrows(IllegalArgumentException.class, () -> ElfNeededRetarget.retarget(elf, "libcudnn.so.9", "libcudnn.so.8"));
        assertThrows(IllegalArgumentException.class, () -> ElfNeededRetarget.retarget(new byte[100], "a", "b"));
    }

    private static String run(Path in, Path out, Path target) throws IOException {
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        ElfNeededRetarget.run(in, out, "libcublas.so.12", target, new PrintStream(said, true, StandardCharsets.UTF_8));
        return said.toString(StandardCharsets.UTF_8);
    }

    private static String readelf(Path file) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("readelf", "-d", "-V", file.toString()).redirectErrorStream(true).start();
        } catch (IOException notInstalled) {
            return null;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
