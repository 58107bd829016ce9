package dev.receptive.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The findings: class and file names that the JVM's charset cannot represent (bytes of
 * Latin-1 in a UTF-8 system, any non-ASCII name under LANG=C, the default of many containers)
 * were reported as missing files; a symbolic link loop was reported as two paths.
 */
class ImageFolderNamesTest {
    @TempDir
    Path dir;

    /** Runs a shell line in {@code dir}: names of any bytes are made by printf, not by Java's charset. */
    private void sh(String line) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/bin/sh", "-c", line).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, line + ": " + out);
    }

    private String child(String locale, Path folder) throws IOException, InterruptedException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), NamesChild.class.getName(), folder.toString());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("LC_"));
        pb.environment().put("LANG", locale);
        pb.environment().put("LC_ALL", locale);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), locale);
        return out.lines().reduce((a, b) -> b).orElse("");
    }

    @Test
    void namesOfAnyBytesLoadUnderCAndUtf8Locales() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "needs a POSIX shell to make names of any bytes");
        BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 16; i++) {
            image.getRaster().setSample(i % 4, i / 4, 0, 10 * i);
        }
        ImageIO.write(image, "png", dir.resolve("one.png").toFile());
        // Classes: UTF-8 "café", Latin-1 "dogé" (not valid UTF-8), "plain"; in each, an ASCII name,
        // a UTF-8 "bü.png" and a Latin-1 "cü.png".
        sh("for c in \"$(printf 'caf\\303\\251')\" \"$(printf 'dog\\351')\" plain; do mkdir -p \"data/$c\";"
                + " cp one.png \"data/$c/a.png\"; cp one.png \"data/$c/$(printf 'b\\303\\274').png\";"
                + " cp one.png \"data/$c/$(printf 'c\\374').png\"; done");
        int sum = 9 * 10 * (15 * 16 / 2); // nine copies of the image's values 0, 10, ..., 150
        for (String locale : List.of("C", "C.UTF-8")) {
            assertEquals("3 9 " + sum, child(locale, dir.resolve("data")), locale);
        }
        // Two names that differ only in bytes the charset cannot show read alike under LANG=C: named, not merged.
        sh("mkdir -p alike && cp -r \"data/$(printf 'dog\\351')\" alike/ && mkdir -p \"alike/$(printf 'dog\\350')\""
                + " && cp one.png \"alike/$(printf 'dog\\350')/a.png\"");
        String alike = child("C", dir.resolve("alike"));
        assertTrue(alike.startsWith("error: ") && alike.contains("both read as 'dog?'") && alike.contains("UTF-8 locale"),
                alike);
    }

    @Test
    void aSymbolicLinkLoopIsNamedAsALoop() throws IOException {
        Path cls = Files.createDirectories(dir.resolve("loop").resolve("cat").resolve("sub"));
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY), "png", cls.resolve("a.png").toFile());
        Path link = cls.resolve("back");
        try {
            Files.createSymbolicLink(link, cls.getParent());
        } catch (UnsupportedOperationException | IOException e) {
            assumeTrue(false, "no symbolic links here: " + e);
        }
        IOException e = assertThrows(IOException.class, () -> ImageFolder.scan(dir.resolve("loop")));
        assertEquals(cls.getParent() + ": the symbolic link " + link + " leads back to a folder that contains it (a"
                + " loop); remove it or point it elsewhere", e.getMessage());
        e = assertThrows(IOException.class, () -> ImageFolder.imageFiles(dir.resolve("loop")));
        assertTrue(e.getMessage().contains("(a loop)"), e.getMessage());
    }
}
