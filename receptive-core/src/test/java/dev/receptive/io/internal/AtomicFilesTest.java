package dev.receptive.io.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void createsAndReplaces() throws IOException {
        Path f = dir.resolve("model.safetensors");
        AtomicFiles.write(f, out -> out.write("first".getBytes(StandardCharsets.UTF_8)));
        assertEquals("first", Files.readString(f));
        AtomicFiles.write(f, out -> {
            out.write("second".getBytes(StandardCharsets.UTF_8));
            out.close(); // a writer that closes its stream must not break the fsync
        });
        assertEquals("second", Files.readString(f));
        assertEquals(List.of("model.safetensors"), listing());
    }

    @Test
    void failedWriteLeavesOldFileAndNoTemp() throws IOException {
        Path f = dir.resolve("model.safetensors");
        byte[] old = "old content".getBytes(StandardCharsets.UTF_8);
        Files.write(f, old);
        IOException boom = new IOException("disk full (simulated)");
        IOException thrown = assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            out.write(new byte[100_000]); // past the buffer: some bytes reached the temp file
            throw boom;
        }));
        assertSame(boom, thrown);
        assertArrayEquals(old, Files.readAllBytes(f));
        assertEquals(List.of("model.safetensors"), listing());

        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(f, out -> {
            out.write(1);
            throw new IllegalStateException("bug in the writer (simulated)");
        }));
        assertArrayEquals(old, Files.readAllBytes(f));
        assertEquals(List.of("model.safetensors"), listing());
    }

    @Test
    void failedFirstWriteLeavesNothing() throws IOException {
        Path f = dir.resolve("new.bin");
        assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            throw new IOException("simulated");
        }));
        assertEquals(List.of(), listing());
    }

    @Test
    void missingFolderIsAnError() {
        assertThrows(IOException.class, () -> AtomicFiles.write(dir.resolve("no/such/folder/f"), out -> out.write(1)));
    }

    @Test
    void permissionsAreTheUsualOnes() throws IOException {
        // Not the owner-only mode of Files.createTempFile: the same mode as a plainly created file.
        Path plain = Files.createFile(dir.resolve("plain"));
        Path atomic = dir.resolve("atomic");
        AtomicFiles.write(atomic, out -> out.write(1));
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(atomic));
    }
}
