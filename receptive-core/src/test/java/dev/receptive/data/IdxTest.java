package dev.receptive.data;

import static dev.receptive.data.IdxFiles.bytes;
import static dev.receptive.data.IdxFiles.gzip;
import static dev.receptive.data.IdxFiles.idx;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.data.internal.Idx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    // 2 images of 2×3: the second holds 255 to check that bytes stay unsigned via & 0xFF.
    private static final int[] DIMS = {2, 2, 3};
    private static final byte[] PIXELS = bytes(0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255);

    private Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    @Test
    void readsRawFile() throws IOException {
        byte[] raw = idx(DIMS, PIXELS);
        // The header spelled out: magic 0x00000803, then 2, 2, 3 as big-endian int32.
        assertArrayEquals(bytes(0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3), Arrays.copyOf(raw, 16));
        Idx idx = Idx.read(write("images", raw));
        assertArrayEquals(DIMS, idx.dims());
        assertArrayEquals(PIXELS, idx.data());
        assertTrue((idx.data()[11] & 0xFF) == 255);
    }

    @Test
    void readsGzipWhateverTheName() throws IOException {
        // Detected by the 1f 8b magic: no .gz suffix here, and a raw file named .gz below.
        Idx gz = Idx.read(write("images", gzip(idx(DIMS, PIXELS))));
        assertArrayEquals(DIMS, gz.dims());
        assertArrayEquals(PIXELS, gz.data());
        Idx raw = Idx.read(write("labels.gz", idx(new int[] {3}, bytes(7, 0, 9))));
        assertArrayEquals(new int[] {3}, raw.dims());
        assertArrayEquals(bytes(7, 0, 9), raw.data());
    }

    @Test
    void wrongMagicNamesFile() throws IOException {
        byte[] raw = idx(DIMS, PIXELS);
        raw[1] = 0x01;
        Path f = write("bad-magic", raw);
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertMessage(e, f, "not an IDX file", "00 01 08 03");
    }

    @Test
    void unsupportedTypeNamesFile() throws IOException {
        byte[] raw = idx(DIMS, PIXELS);
        raw[2] = 0x0D; // float32 elements
        Path f = write("floats", raw);
        assertMessage(assertThrows(IOException.class, () -> Idx.read(f)), f, "unsupported", "0x0d");
    }

    @Test
    void zeroDimensionNamesFile() throws IOException {
        Path f = write("zero-dim", idx(new int[] {2, 0, 3}, new byte[0]));
        assertMessage(assertThrows(IOException.class, () -> Idx.read(f)), f, "dimension 1", "is 0");
        Path g = write("negative-dim", idx(new int[] {-5}, new byte[0]));
        assertMessage(assertThrows(IOException.class, () -> Idx.read(g)), g, "dimension 0", "is -5");
    }

    @Test
    void rankZeroNamesFile() throws IOException {
        Path f = write("rank0", bytes(0, 0, 8, 0));
        assertMessage(assertThrows(IOException.class, () -> Idx.read(f)), f, "rank 0");
    }

    @Test
    void truncatedRawFileSaysExpectedAndFound() throws IOException {
        byte[] raw = idx(DIMS, PIXELS); // 16 + 12 = 28 bytes
        Path f = write("short", Arrays.copyOf(raw, 25));
        assertMessage(assertThrows(IOException.class, () -> Idx.read(f)), f, "truncated", "need 28 bytes", "found 25");
        Path header = write("short-header", Arrays.copyOf(raw, 10));
        assertMessage(assertThrows(IOException.class, () -> Idx.read(header)), header, "truncated", "16", "found 10");
        Path empty = write("empty", new byte[0]);
        assertMessage(assertThrows(IOException.class, () -> Idx.read(empty)), empty, "truncated", "found 0");
    }

    @Test
    void everyTruncationFails() throws IOException {
        byte[] raw = idx(DIMS, PIXELS);
        byte[] gz = gzip(raw);
        for (byte[] whole : new byte[][] {raw, gz}) {
            for (int n = 0; n < whole.length; n++) {
                Path f = write("cut", Arrays.copyOf(whole, n));
                IOException e = assertThrows(IOException.class, () -> Idx.read(f), "cut to " + n + " bytes");
                assertMessage(e, f);
            }
        }
    }

    @Test
    void truncatedGzipContentSaysDecompressedCounts() throws IOException {
        // A complete gzip stream whose content is short: counted after decompression.
        Path f = write("short.gz", gzip(Arrays.copyOf(idx(DIMS, PIXELS), 20)));
        assertMessage(assertThrows(IOException.class, () -> Idx.read(f)), f, "truncated", "need 28 bytes after decompression",
                "found 20");
    }

    @Test
    void trailingBytesAreAnError() throws IOException {
        byte[] raw = idx(DIMS, PIXELS);
        Path f = write("long", Arrays.copyOf(raw, raw.length + 1));
        assertMessage(assertThrows(IOException.class, () -> Idx.read(f)), f, "longer than", "28 bytes");
    }

    static void assertMessage(Exception e, Path file, String... parts) {
        String m = e.getMessage();
        assertTrue(m.contains(file.toString()), "message should name " + file + ": " + m);
        for (String p : parts) {
            assertTrue(m.contains(p), "message should contain '" + p + "': " + m);
        }
    }
}
