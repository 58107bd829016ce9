package dev.receptive.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.receptive.data.internal.Idx;
import dev.receptive.tensor.Shape;
import dev.receptive.testing.Close;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The committed Fashion-MNIST fixtures load, and hold what the Debian source files hold (the
 * expected numbers were read from those files when the fixtures were made; test-data/README.md).
 */
class FixtureTest {
    static final Path TEST_1K = Path.of("test-data", "fashion-mnist-1k");
    static final Path TRAIN_2K = Path.of("test-data", "fashion-mnist-2k-train");

    @Test
    void testFixtureHoldsTheFirstThousandTestItems() throws IOException {
        Dataset d = FashionMnist.load(TEST_1K, Split.TEST);
        assertEquals(1000, d.size());
        assertEquals(Shape.of(1, 28, 28), d.itemShape());

        int[] first = new int[10];
        int[] histogram = new int[10];
        for (int i = 0; i < d.size(); i++) {
            histogram[d.label(i)]++; // label() is in 0..9, or this throws
            if (i < first.length) {
                first[i] = d.label(i);
            }
        }
        assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, first);
        assertArrayEquals(new int[] {107, 105, 111, 93, 115, 87, 97, 95, 95, 95}, histogram);
        assertEquals("Ankle boot", d.classNames().get(d.label(0)));
    }

    @Test
    void pixelsMatchTheSourceBytes() throws IOException {
        Dataset d = FashionMnist.load(TEST_1K, Split.TEST, Normalization.UNIT_RANGE);
        float[] image = new float[784];
        double firstSum = 0;
        double allSum = 0;
        for (int i = 0; i < d.size(); i++) {
            d.copyImage(i, image, 0);
            for (float v : image) {
                allSum += Math.round(v * 255.0);
                if (i == 0) {
                    firstSum += Math.round(v * 255.0);
                }
            }
        }
        assertEquals(33456, firstSum);
        assertEquals(58034149, allSum);
    }

    @Test
    void defaultNormalizationIsFashionMeanAndStd() throws IOException {
        Idx raw = Idx.read(TEST_1K.resolve("t10k-images-idx3-ubyte.gz"));
        double[] expected = new double[raw.data().length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = ((raw.data()[i] & 0xFF) / 255.0 - 0.2860) / 0.3530;
        }
        Dataset d = FashionMnist.load(TEST_1K, Split.TEST);
        float[] all = new float[expected.length];
        for (int i = 0; i < d.size(); i++) {
            d.copyImage(i, all, i * 784);
        }
        // float32 of a double formula, values up to 2.02: a few ulps.
        Close.assertClose("fixture normalized", expected, all, 1e-6, 1e-6);
    }

    @Test
    void trainFixtureHoldsTheFirstTwoThousandTrainItems() throws IOException {
        Dataset d = FashionMnist.load(TRAIN_2K, Split.TRAIN);
        assertEquals(2000, d.size());
        assertEquals(Shape.of(1, 28, 28), d.itemShape());
        int[] first = new int[10];
        for (int i = 0; i < first.length; i++) {
            first[i] = d.label(i);
        }
        assertArrayEquals(new int[] {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, first);
    }
}
