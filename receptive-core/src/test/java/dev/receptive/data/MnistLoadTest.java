package dev.receptive.data;

import static dev.receptive.data.IdxFiles.bytes;
import static dev.receptive.data.IdxFiles.gzip;
import static dev.receptive.data.IdxFiles.idx;
import static dev.receptive.data.IdxTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.receptive.tensor.Shape;
import dev.receptive.testing.Close;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mnist / FashionMnist on hand-made folders: file names, normalization, mismatches. */
class MnistLoadTest {
    @TempDir
    Path dir;

    // Two 2×2 images and their labels.
    private static final byte[] PIXELS = bytes(0, 255, 51, 102, 128, 1, 254, 0);
    private static final byte[] LABELS = bytes(3, 9);

    private void writeSplit(String prefix, boolean gz, byte[] pixels, int n, byte[] labels) throws IOException {
        byte[] images = idx(new int[] {n, 2, 2}, pixels);
        byte[] labelFile = idx(new int[] {labels.length}, labels);
        String suffix = gz ? ".gz" : "";
        Files.write(dir.resolve(prefix + "-images-idx3-ubyte" + suffix), gz ? gzip(images) : images);
        Files.write(dir.resolve(prefix + "-labels-idx1-ubyte" + suffix), gz ? gzip(labelFile) : labelFile);
    }

    /** x = (p / 255 − mean) / std in double precision. */
    private static double[] normalized(byte[] pixels, double mean, double std) {
        double[] x = new double[pixels.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = ((pixels[i] & 0xFF) / 255.0 - mean) / std;
        }
        return x;
    }

    private static float[] allImages(Dataset d) {
        int per = d.itemShape().size();
        float[] x = new float[d.size() * per];
        for (int i = 0; i < d.size(); i++) {
            d.copyImage(i, x, i * per);
        }
        return x;
    }

    @Test
    void loadsRawTrainSplitWithMnistNormalization() throws IOException {
        writeSplit("train", false, PIXELS, 2, LABELS);
        Dataset d = Mnist.load(dir, Split.TRAIN);
        assertEquals(2, d.size());
        assertEquals(Shape.of(1, 2, 2), d.itemShape());
        assertEquals(3, d.label(0));
        assertEquals(9, d.label(1));
        assertEquals(Mnist.CLASS_NAMES, d.classNames());
        // float32 result of a double formula: a few ulps of values up to |2.8|.
        Close.assertClose("mnist-normalized", normalized(PIXELS, 0.1307, 0.3081), allImages(d), 1e-6, 1e-6);
        // Spot values by hand: byte 0 → −0.1307/0.3081, byte 255 → 0.8693/0.3081.
        Close.assertClose("zero pixel", -0.424212917883804, allImages(d)[0], 1e-6, 1e-6);
        Close.assertClose("full pixel", 2.82148653034729, allImages(d)[1], 1e-6, 1e-6);
    }

    @Test
    void loadsGzipTestSplitWithFashionNormalizationAndCustomOption() throws IOException {
        writeSplit("t10k", true, PIXELS, 2, LABELS);
        Dataset d = FashionMnist.load(dir, Split.TEST);
        assertEquals(FashionMnist.CLASS_NAMES, d.classNames());
        assertEquals("Ankle boot", d.classNames().get(d.label(1)));
        Close.assertClose("fashion-normalized", normalized(PIXELS, 0.2860, 0.3530), allImages(d), 1e-6, 1e-6);

        Dataset unit = FashionMnist.load(dir, Split.TEST, Normalization.UNIT_RANGE);
        Close.assertClose("unit-range", normalized(PIXELS, 0, 1), allImages(unit), 1e-7, 1e-6);
        Dataset custom = Mnist.load(dir, Split.TEST, new Normalization(0.5, 0.25));
        Close.assertClose("custom", normalized(PIXELS, 0.5, 0.25), allImages(custom), 1e-6, 1e-6);
    }

    @Test
    void rawFileWinsOverGzipSibling() throws IOException {
        writeSplit("train", true, PIXELS, 2, LABELS);
        writeSplit("train", false, PIXELS, 2, bytes(4, 5));
        assertEquals(4, Mnist.load(dir, Split.TRAIN).label(0));
    }

    @Test
    void countMismatchNamesBothFilesAndCounts() throws IOException {
        writeSplit("train", false, PIXELS, 2, bytes(1, 2, 3));
        IOException e = assertThrows(IOException.class, () -> Mnist.load(dir, Split.TRAIN));
        assertMessage(e, dir.resolve("train-images-idx3-ubyte"), dir.resolve("train-labels-idx1-ubyte").toString(),
                "2 images", "3 labels");
    }

    @Test
    void labelOutOfRangeNamesFile() throws IOException {
        writeSplit("train", false, PIXELS, 2, bytes(3, 10));
        IOException e = assertThrows(IOException.class, () -> Mnist.load(dir, Split.TRAIN));
        assertMessage(e, dir.resolve("train-labels-idx1-ubyte"), "label 1 is 10");
    }

    @Test
    void wrongRankNamesFile() throws IOException {
        Files.write(dir.resolve("train-images-idx3-ubyte"), idx(new int[] {2, 4}, PIXELS));
        Files.write(dir.resolve("train-labels-idx1-ubyte"), idx(new int[] {2}, LABELS));
        IOException e = assertThrows(IOException.class, () -> Mnist.load(dir, Split.TRAIN));
        assertMessage(e, dir.resolve("train-images-idx3-ubyte"), "3 dimensions", "[2, 4]");
    }

    @Test
    void missingFilesNameBothCandidates() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Mnist.load(dir, Split.TEST));
        assertMessage(e, dir.resolve("t10k-images-idx3-ubyte"), "t10k-images-idx3-ubyte.gz");
        // A library message: how to fetch the data is the command line's to say.
        assertFalse(e.getMessage().contains("scripts/"), e.getMessage());
    }

    @Test
    void badNormalizationIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Normalization(0.1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Normalization(Double.NaN, 1));
    }
}
