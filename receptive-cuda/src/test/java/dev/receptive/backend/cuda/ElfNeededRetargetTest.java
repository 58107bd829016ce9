package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retargets the real JCublas native (from the jcublas-natives jar on the test classpath) to cuBLAS 13. */
class ElfNeededRetargetTest {
    private static final String NATIVE = "/lib/libJCublas2-12.6.0-linux-x86_64.so";

    private static byte[] jcublasNative() throws IOException {
        try (InputStream in = ElfNeededRetargetTest.class.getResourceAsStream(NATIVE)) {
            assertNotNull(in, NATIVE + " is on the test classpath (org.jcuda:jcublas-natives)");
            return in.readAllBytes();
        }
    }

    @Test
    void elfHashMatchesKnownValues() {
        // Published values of the System V ABI hash.
        assertEquals(0x077905a6, ElfNeededRetarget.elfHash("printf"));
        assertEquals(0x09691a75, ElfNeededRetarget.elfHash("GLIBC_2.2.5"));
        assertEquals(0, ElfNeededRetarget.elfHash(""));
    }

    @Test
    void rewritesTheNeededLibraryAndItsVersionRequirement(@TempDir Path dir) throws Exception {
        byte[] original = jcublasNative();
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
        // Retargeting back restores the file: the hash check passed and the hash is that of the name.
        ElfNeededRetarget.retarget(elf, "libcublas.so.13", "libcublas.so.12");
        assertArrayEquals(original, elf);

        Path out = dir.resolve("libJCublas2-12.6.0-linux-x86_64.so");
        Path in = dir.resolve("in.so");
        Files.write(in, original);
        ElfNeededRetarget.main(new String[] {in.toString(), out.toString(), "libcublas.so.12", "libcublas.so.13"});
        String readelf = readelf(out);
        if (readelf != null) { // binutils' own view, where installed
            assertTrue(readelf.contains("Shared library: [libcublas.so.13]"), readelf);
            assertTrue(readelf.contains("File: libcublas.so.13"), readelf);
            assertTrue(readelf.contains("Name: libcublas.so.13"), readelf);
            assertTrue(!readelf.contains("libcublas.so.12"), readelf);
        }
    }

    @Test
    void refusesWhatItCannotRewriteInPlace() throws IOException {
        byte[] elf = jcublasNative();
        assertThrows(IllegalArgumentException.class, () -> ElfNeededRetarget.retarget(elf, "libcublas.so.12", "libcublas.so.1"));
        assertThrows(IllegalArgumentException.class, () -> ElfNeededRetarget.retarget(elf, "libcudnn.so.9", "libcudnn.so.8"));
        assertThrows(IllegalArgumentException.class, () -> ElfNeededRetarget.retarget(new byte[100], "a", "b"));
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
