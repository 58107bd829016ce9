package dev.receptive.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.receptive.data.Dataset;
import dev.receptive.data.Mnist;
import dev.receptive.data.Split;
import dev.receptive.data.internal.Idx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Timeout;

/**
 * IDX files, raw and gzip: Idx.read on any bytes (gzip recognised by its magic, so damaged gzip
 * is fuzzed too), Idx.read on any content behind a valid gzip stream, and a dataset folder of
 * an images file and a labels file, whose sizes must agree.
 */
class IdxFuzzTest {
    /** Decompressed data is at most 1032 times the file (deflate's limit), and is held once as bytes. */
    private static final Contract IDX = new Contract(4 << 20, 2 * 1032 + 16, IOException.class).refusingNullSuffix();
    private static final Contract GZIPPED = new Contract(4 << 20, 2 * 1032 + 16, IOException.class)
            .refusingNullSuffix();
    private static final Contract DATASET = new Contract(4 << 20, 6 * 1032 + 16, IOException.class)
            .refusingNullSuffix();

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void file(byte[] input) throws Exception {
        Path file = Contract.file("in-idx", input);
        valid(IDX.naming(file).check(input.length, () -> Idx.read(file)));
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void gzipped(byte[] input) throws Exception {
        byte[] gz = gzip(input);
        Path file = Contract.file("in-idx.gz", gz);
        valid(GZIPPED.naming(file).check(gz.length, () -> Idx.read(file)));
    }

    /**
     * The first byte chooses gzip for either file and where the input splits into images and
     * labels; the dataset holds 4 bytes of floats per pixel (the bound's factor).
     */
    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void dataset(byte[] input) throws Exception {
        if (input.length < 3) {
            return;
        }
        int cut = 3 + Math.min(input.length - 3, ((input[1] & 0xFF) << 8 | (input[2] & 0xFF)));
        byte[] images = Arrays.copyOfRange(input, 3, cut);
        byte[] labels = Arrays.copyOfRange(input, cut, input.length);
        images = (input[0] & 1) != 0 ? gzip(images) : images;
        labels = (input[0] & 2) != 0 ? gzip(labels) : labels;
        Path dir = Contract.file("folder-marker", new byte[0]).resolveSibling(Thread.currentThread().getId() + "-mnist");
        Files.createDirectories(dir);
        dir.toFile().deleteOnExit();
        Path imageFile = dir.resolve("train-images-idx3-ubyte");
        Path labelFile = dir.resolve("train-labels-idx1-ubyte");
        Files.write(imageFile, images);
        Files.write(labelFile, labels);
        imageFile.toFile().deleteOnExit();
        labelFile.toFile().deleteOnExit();
        Dataset d = DATASET.check(images.length + labels.length, () -> Mnist.load(dir, Split.TRAIN));
        if (d != null && (d.itemShape().rank() != 3 || d.size() < 1 || d.classCount() != 10)) {
            throw new AssertionError("invalid dataset " + d.size() + " x " + d.itemShape());
        }
    }

    private static void valid(Idx idx) {
        if (idx == null) {
            return;
        }
        long size = 1;
        for (int d : idx.dims()) {
            if (d < 1) {
                throw new AssertionError("dimension " + d + " in " + Arrays.toString(idx.dims()));
            }
            size *= d;
        }
        if (size != idx.data().length) {
            throw new AssertionError(Arrays.toString(idx.dims()) + " with " + idx.data().length + " bytes");
        }
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }
}
