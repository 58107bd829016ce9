package dev.receptive.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Random crops and flips: what they do to an image, and that every epoch's batches are reproducible. */
class AugmentationTest {
    private static final Shape ITEM = Shape.of(2, 3, 4);

    /** Pixel value 100·c + 10·y + x: every pixel says where it came from. */
    private static float[] image() {
        float[] a = new float[ITEM.size()];
        for (int c = 0; c < 2; c++) {
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 4; x++) {
                    a[(c * 3 + y) * 4 + x] = 100 * c + 10 * y + x;
                }
            }
        }
        return a;
    }

    @Test
    void aCropShiftsTheImageAndFillsWithBlack() {
        // Try seeds until the crop draws a shift of (dy, dx) = (1, -1): out[y][x] = in[y + 1][x - 1].
        for (long seed = 0; seed < 1000; seed++) {
            SplittableRandom probe = new SplittableRandom(seed);
            int dy = probe.nextInt(3) - 1;
            int dx = probe.nextInt(3) - 1;
            if (dy != 1 || dx != -1) {
                continue;
            }
            float[] a = image();
            Augmentation.randomCrop(1).apply(a, 0, ITEM, -7f, new SplittableRandom(seed));
            for (int c = 0; c < 2; c++) {
                for (int y = 0; y < 3; y++) {
                    for (int x = 0; x < 4; x++) {
                        float want = y + 1 < 3 && x - 1 >= 0 ? 100 * c + 10 * (y + 1) + (x - 1) : -7f;
                        assertEquals(want, a[(c * 3 + y) * 4 + x], "c " + c + " y " + y + " x " + x);
                    }
                }
            }
            return;
        }
        throw new AssertionError("no seed drew the shift");
    }

    @Test
    void aFlipMirrorsEveryRowOrNothing() {
        int flipped = 0;
        for (long seed = 0; seed < 100; seed++) {
            float[] a = image();
            Augmentation.horizontalFlip().apply(a, 0, ITEM, 0, new SplittableRandom(seed));
            if (Arrays.equals(a, image())) {
                continue;
            }
            flipped++;
            for (int r = 0; r < 6; r++) {
                for (int x = 0; x < 4; x++) {
                    assertEquals(image()[r * 4 + 3 - x], a[r * 4 + x]);
                }
            }
        }
        assertTrue(flipped > 30 && flipped < 70, "about half flipped: " + flipped);
    }

    @Test
    void augmentedEpochsAreTheSameWheneverTheyAreFilledAndDifferBetweenEpochs() {
        float[] images = new float[8 * ITEM.size()];
        for (int i = 0; i < images.length; i++) {
            images[i] = i;
        }
        Dataset data = new Dataset(images, new int[8], ITEM, List.of("a"), new Normalization(0.5, 0.25));
        Augmentation both = Augmentation.compose(Augmentation.randomCrop(1), Augmentation.horizontalFlip());
        assertEquals("crop(1)+flip", both.describe());
        Batches batches = Batches.shuffled(data, 4, true, 3).augmented(both);
        float[] first = fill(batches, 0, 1);
        assertArrayEquals(first, fill(batches, 0, 1), "the same epoch and batch: the same images");
        assertArrayEquals(first, fill(Batches.shuffled(data, 4, true, 3).augmented(both), 0, 1), "a new Batches too");
        assertFalse(Arrays.equals(first, fill(batches, 1, 1)), "another epoch: other crops and flips");
        float[] plain = fill(Batches.shuffled(data, 4, true, 3), 0, 1);
        assertFalse(Arrays.equals(first, plain), "augmentation changes the images");
        // Black in normalized units, (0 − 0.5) / 0.25 = −2, is what the crop shifts in.
        boolean black = false;
        for (int e = 0; e < 5 && !black; e++) {
            for (float v : fill(batches, e, 0)) {
                black |= v == -2f;
            }
        }
        assertTrue(black, "a crop shifts in black pixels");
        assertThrows(IllegalArgumentException.class, () -> Augmentation.randomCrop(0));
    }

    private static float[] fill(Batches batches, int epoch, int batch) {
        float[] x = new float[4 * ITEM.size()];
        batches.epoch(epoch).fill(batch, x, new float[4]);
        return x;
    }
}
