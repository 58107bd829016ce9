package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Engines are found through {@link BackendProvider} and described by {@link Backend#capabilities()},
 * so no main source outside an engine's own package names one: this scans the main sources of every
 * module for a reference to the packages dev.receptive.backend.cpu or dev.receptive.backend.cuda
 * (an import, a static import or a qualified name) from outside them.
 */
class EngineSeamTest {
    private static final Pattern ENGINE = Pattern.compile("\\bdev\\.receptive\\.backend\\.(cpu|cuda)\\b[.\\w]*");
    private static final Pattern ENGINE_DIR = Pattern.compile(".*/dev/receptive/backend/(cpu|cuda)(/.*)?");

    @Test
    void noMainSourceOutsideAnEngineNamesOne() throws IOException {
        Path root = Path.of("").toAbsolutePath(); // the build runs tests in the repository's root
        assertTrue(Files.isRegularFile(root.resolve("receptive-core/pom.xml")), "not the repository's root: " + root);
        List<String> found = new ArrayList<>();
        List<String> scanned = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            files.filter(f -> f.toString().endsWith(".java"))
                    .map(f -> root.relativize(f).toString().replace('\\', '/'))
                    .filter(f -> f.contains("/src/main/java/") && !f.contains("/target/"))
                    .filter(f -> !ENGINE_DIR.matcher(f.substring(0, f.lastIndexOf('/'))).matches())
                    .forEach(f -> {
                        scanned.add(f);
                        String text = read(root.resolve(f));
                        Matcher m = ENGINE.matcher(text);
                        if (m.find()) {
                            found.add(f + ": " + m.group());
                        }
                    });
        }
        assertTrue(scanned.stream().anyMatch(f -> f.endsWith("/backend/Backends.java")), "Backends.java not scanned");
        assertTrue(scanned.stream().anyMatch(f -> f.startsWith("receptive-bench/")), "receptive-bench not scanned");
        assertEquals(List.of(), found);
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
