package dev.receptive.backend.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ELF reader against binutils' readelf on the real JCuda natives, and the lists of called functions against the code. */
class ElfTest {
    private static final Path SOURCES = Path.of("receptive-cuda/src/main/java/dev/receptive/backend/cuda");

    @Test
    void readsTheNativesAsReadelfDoes(@TempDir Path dir) throws Exception {
        for (String[] n : new String[][] {{"libJCublas2-12.6.0-linux-x86_64.so", "libcublas.so.12"},
            {"libJCudnn-12.6.0-linux-x86_64.so", "libcudnn.so.9"}}) {
            byte[] image = StubLibrary.jcudaNative(n[0]);
            Elf e = Elf.of(image, n[0]);
            assertTrue(e.needed().contains(n[1]), e.needed().toString());
            Elf.NeededVersion v = e.versionNeeds().get(n[1]).get(0);
            assertEquals(n[1], v.name());
            assertFalse(v.weak());
            Set<String> bound = e.undefinedSymbols(n[1]);
            Path file = dir.resolve(n[0]);
            Files.write(file, image);
            String readelf = readelf(file);
            if (readelf != null) {
                Set<String> expected = new TreeSet<>();
                Matcher m = Pattern.compile(" UND (\\w+)@" + Pattern.quote(n[1]) + " ").matcher(readelf);
                while (m.find()) {
                    expected.add(m.group(1));
                }
                assertEquals(expected, bound, n[0]);
            } else {
                assertTrue(bound.size() > 100, n[0] + " binds " + bound.size());
            }
        }
    }

    @Test
    void everyFunctionReceptiveCallsIsInItsNativeAndListed() throws IOException {
        Set<String> cublas = Elf.of(StubLibrary.jcudaNative("libJCublas2-12.6.0-linux-x86_64.so"), "JCublas2")
                .undefinedSymbols("libcublas.so.12");
        Set<String> cudnn = Elf.of(StubLibrary.jcudaNative("libJCudnn-12.6.0-linux-x86_64.so"), "JCudnn")
                .undefinedSymbols("libcudnn.so.9");
        assertTrue(cublas.containsAll(NativeLibraryCheck.CUBLAS_CALLS), "not in the native: "
                + minus(NativeLibraryCheck.CUBLAS_CALLS, cublas));
        assertTrue(cudnn.containsAll(NativeLibraryCheck.CUDNN_CALLS), "not in the native: "
                + minus(NativeLibraryCheck.CUDNN_CALLS, cudnn));
        assumeTrue(Files.isDirectory(SOURCES), "no source tree here");
        // What the code calls (JCudnn.x / JCublas2.x, statically imported or not) must be in the lists the
        // pre-load check verifies: a function missing from the library would abort the JVM at its first call.
        Set<String> javaCudnn = new TreeSet<>();
        Set<String> javaCublas = new TreeSet<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = Pattern.compile("(JCudnn|JCublas2)\\.((?:cudnn|cublas)\\w+)").matcher(Files.readString(f));
                while (m.find()) {
                    (m.group(1).equals("JCudnn") ? javaCudnn : javaCublas).add(m.group(2));
                }
            }
        }
        assertTrue(javaCudnn.size() > 20 && javaCublas.size() >= 5, javaCudnn + " " + javaCublas);
        for (String f : javaCudnn) {
            assertTrue(NativeLibraryCheck.CUDNN_CALLS.contains(f), f + " is called but not in CUDNN_CALLS");
        }
        for (String f : javaCublas) {
            assertTrue(NativeLibraryCheck.CUBLAS_CALLS.contains(f) || NativeLibraryCheck.CUBLAS_CALLS.contains(f + "_v2"),
                    f + " is called but not in CUBLAS_CALLS");
        }
    }

    @Test
    void rejectsWhatIsNotElf() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Elf.of(new byte[200], "x.so"));
        assertTrue(e.getMessage().startsWith("x.so: not a 64-bit"), e.getMessage());
        byte[] truncated = new byte[64];
        truncated[0] = 0x7f;
        truncated[1] = 'E';
        truncated[2] = 'L';
        truncated[3] = 'F';
        truncated[4] = 2;
        truncated[5] = 1;
        truncated[0x28] = 0x10; // section headers at 16, beyond the file
        truncated[0x3a] = 64;
        truncated[0x3c] = 3;
        e = assertThrows(IllegalArgumentException.class, () -> Elf.of(truncated, "y.so"));
        assertTrue(e.getMessage().contains("damaged"), e.getMessage());
    }

    private static Set<String> minus(Set<String> a, Set<String> b) {
        Set<String> out = new TreeSet<>(a);
        out.removeAll(b);
        return out;
    }

    private static String readelf(Path file) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(List.of("readelf", "--dyn-syms", "-W", file.toString())).redirectErrorStream(true).start();
        } catch (IOException notInstalled) {
            return null;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return p.exitValue() == 0 ? out : null;
    }
}
