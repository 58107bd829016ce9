package dev.receptive.data;

import static dev.receptive.data.IdxFiles.gzip;
import static dev.receptive.data.IdxFiles.idx;
import static dev.receptive.data.IdxTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.data.internal.Idx;
import dev.receptive.testing.Allocation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sizes in IDX headers are checked against each other and the files before anything large is allocated. */
class IdxLimitsTest {
    @TempDir
    Path dir;

    private void write(String name, byte[] bytes) throws IOException {
        Files.write(dir.resolve(name), bytes);
    }

    /**
     * The finding: a small gzip file that decompresses to many images was read whole
     * (gigabytes, a minute) before its label count was compared. Both headers come first now.
     */
    @Test
    void labelCountIsCheckedBeforeTheImagesAreRead() throws IOException {
        int n = 60_000;
        write("train-images-idx3-ubyte.gz", gzip(idx(new int[] {n, 28, 28}, new byte[n * 784])));
        write("train-labels-idx1-ubyte.gz", gzip(idx(new int[] {10}, new byte[10])));
        long before = Allocation.bytes();
        IOException e = assertThrows(IOException.class, () -> Mnist.load(dir, Split.TRAIN));
        long allocated = Allocation.bytes() - before;
        assertMessage(e, dir.resolve("train-images-idx3-ubyte.gz"), "60000 images", "10 labels");
        // The images are 47 MB of bytes and 188 MB of floats.
        assertTrue(allocated < 4 << 20, "allocated " + allocated + " bytes");
    }

    @Test
    void rawFileLengthIsCheckedAgainstTheHeaderBeforeReading() throws IOException {
        write("t10k-images-idx3-ubyte", idx(new int[] {100_000, 28, 28}, new byte[784]));
        write("t10k-labels-idx1-ubyte", idx(new int[] {100_000}, new byte[100_000]));
        long before = Allocation.bytes();
        IOException e = assertThrows(IOException.class, () -> Mnist.load(dir, Split.TEST));
        long allocated = Allocation.bytes() - before;
        assertMessage(e, dir.resolve("t10k-images-idx3-ubyte"), "need 78400016 bytes but found 800");
        assertTrue(allocated < 4 << 20, "allocated " + allocated + " bytes");
    }

    /** Deflate expands at most 1032:1, so a header that needs more than that from a small gzip file is a lie. */
    @Test
    void gzipTooSmallForItsHeaderIsRefusedBeforeReading() throws IOException {
        Path f = dir.resolve("bomb.gz");
        Files.write(f, gzip(idx(new int[] {1 << 30}, new byte[1000])));
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertMessage(e, f, "1073741832 bytes", "cannot hold");
        // The gzip trailer's size (mod 2^32) must agree with the header too.
        Path g = dir.resolve("trailer.gz");
        byte[] gz = gzip(idx(new int[] {2000}, new byte[2000]));
        gz[gz.length - 4] ^= 1;
        assertMessage(assertThrows(IOException.class, () -> Idx.read(g.resolveSibling(write(g, gz)))), g,
                "2008 bytes", "trailer says 2009");
    }

    private static Path write(Path file, byte[] bytes) throws IOException {
        return Files.write(file, bytes);
    }

    @Test
    void damagedGzipGivesARealMessage() throws IOException {
        byte[] gz = gzip(idx(new int[] {3}, new byte[] {1, 2, 3}));
        for (int cut = 1; cut < gz.length; cut++) {
            Path f = write(dir.resolve("cut-" + cut + ".gz"), Arrays.copyOf(gz, cut));
            IOException e = assertThrows(IOException.class, () -> Idx.read(f));
            assertMessage(e, f);
            assertFalse(e.getMessage().contains("null"), e.getMessage());
        }
        byte[] flipped = gz.clone();
        flipped[12] ^= 0x55;
        Path f = write(dir.resolve("flipped.gz"), flipped);
        IOException e = assertThrows(IOException.class, () -> Idx.read(f));
        assertMessage(e, f);
        assertFalse(e.getMessage().contains("null"), e.getMessage());
    }

    @Test
    void headerAloneIsReadWithoutTheData() throws IOException {
        Path f = write(dir.resolve("h.gz"), gzip(idx(new int[] {4, 2, 3}, new byte[24])));
        Idx.Header h = Idx.header(f);
        assertArrayEquals(new int[] {4, 2, 3}, h.dims());
        assertEquals(24, h.dataBytes());
        assertTrue(h.gzip());
    }
}
