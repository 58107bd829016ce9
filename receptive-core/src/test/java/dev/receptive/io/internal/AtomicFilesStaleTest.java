package dev.receptive.io.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process killed while writing leaves its temporary file behind (the audit found 31 of them,
 * 278 MB): the next write of the same target removes them, and nothing else.
 */
class AtomicFilesStaleTest {
    @TempDir
    Path dir;

    private Path stale(String name) throws IOException {
        Path p = Files.write(dir.resolve(name), new byte[1000]);
        Files.setLastModifiedTime(p, FileTime.from(Instant.now().minusSeconds(3600)));
        return p;
    }

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void nextWriteRemovesStaleTempsOfItsTargetOnly() throws IOException {
        Path target = dir.resolve("model.safetensors");
        stale(".model.safetensors.1f2e3d4c5b6a7988.tmp");
        stale(".model.safetensors.7.tmp");
        // Not ours to remove: another target's temp, names outside the pattern, a folder, a link.
        stale(".checkpoint.safetensors.1f2e3d4c5b6a7988.tmp");
        stale(".model.safetensors.backup.tmp");
        stale("model.safetensors.1f2e3d4c5b6a7988.tmp");
        stale(".model.safetensors.1f2e3d4c5b6a79881.tmp");
        Path folder = Files.createDirectory(dir.resolve(".model.safetensors.abc.tmp"));
        Files.setLastModifiedTime(folder, FileTime.from(Instant.now().minusSeconds(3600)));
        Path elsewhere = stale("precious");
        Files.createSymbolicLink(dir.resolve(".model.safetensors.def.tmp"), elsewhere);

        AtomicFiles.write(target, out -> out.write("new".getBytes(StandardCharsets.UTF_8)));

        assertEquals("new", Files.readString(target));
        assertEquals(List.of(".checkpoint.safetensors.1f2e3d4c5b6a7988.tmp", ".model.safetensors.1f2e3d4c5b6a79881.tmp",
                ".model.safetensors.abc.tmp", ".model.safetensors.backup.tmp", ".model.safetensors.def.tmp",
                "model.safetensors", "model.safetensors.1f2e3d4c5b6a7988.tmp", "precious"), listing());
        assertTrue(Files.exists(elsewhere));
    }

    @Test
    void aTempBeingWrittenIsLeftAlone() throws IOException {
        Path target = dir.resolve("model.safetensors");
        Path recent = Files.write(dir.resolve(".model.safetensors.aaaa.tmp"), new byte[10]);
        Path locked = stale(".model.safetensors.bbbb.tmp");
        try (FileChannel channel = FileChannel.open(locked, StandardOpenOption.WRITE); FileLock lock = channel.lock()) {
            AtomicFiles.write(target, out -> out.write(1));
            assertTrue(lock.isValid());
        }
        assertTrue(Files.exists(recent), "modified just now: a writer may be at work");
        assertTrue(Files.exists(locked), "locked: a writer is at work");
        assertEquals(List.of(".model.safetensors.aaaa.tmp", ".model.safetensors.bbbb.tmp", "model.safetensors"),
                listing());
    }
}
