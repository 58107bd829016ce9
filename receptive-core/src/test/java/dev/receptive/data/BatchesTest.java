package dev.receptive.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Shape;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchesTest {
    private static final int N = 103; // not a multiple of the batch size: a partial last batch
    private static final int BATCH = 10;
    private static final int PER_ITEM = 4; // items of shape (1, 2, 2)

    /** Item i: its 4 values are i, i + 0.25, i + 0.5, i + 0.75 and its label i % 10. */
    private static Dataset numbered(int n) {
        float[] images = new float[n * PER_ITEM];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < PER_ITEM; k++) {
                images[i * PER_ITEM + k] = i + k / 4f;
            }
            labels[i] = i % 10;
        }
        return new Dataset(images, labels, Shape.of(1, 2, 2), Mnist.CLASS_NAMES);
    }

    /** The dataset indices of one epoch, as read back from the filled buffers. */
    private static int[] drawn(Batches batches, int epoch) {
        float[] x = new float[BATCH * PER_ITEM];
        float[] y = new float[BATCH];
        Batches.Epoch e = batches.epoch(epoch);
        int[] seen = new int[e.count() * BATCH];
        int total = 0;
        for (int b = 0; b < e.count(); b++) {
            int n = e.fill(b, x, y);
            for (int r = 0; r < n; r++) {
                int i = (int) x[r * PER_ITEM];
                for (int k = 0; k < PER_ITEM; k++) {
                    assertEquals(i + k / 4f, x[r * PER_ITEM + k], "row " + r + " of batch " + b + " is item " + i);
                }
                assertEquals(i % 10, y[r], "label of item " + i);
                assertEquals(i, e.index(total));
                seen[total++] = i;
            }
        }
        return Arrays.copyOf(seen, total);
    }

    @Test
    void sameSeedAndEpochGiveTheSameOrder() {
        Dataset d = numbered(N);
        int[] a = drawn(Batches.shuffled(d, BATCH, false, 42), 3);
        int[] b = drawn(Batches.shuffled(d, BATCH, false, 42), 3);
        assertArrayEquals(a, b);
        // Resuming at epoch 3 without having run 0..2 gives the same order too.
        Batches resumed = Batches.shuffled(d, BATCH, false, 42);
        assertArrayEquals(a, drawn(resumed, 3));
    }

    @Test
    void otherEpochOrSeedGivesAnotherOrder() {
        Dataset d = numbered(N);
        Batches batches = Batches.shuffled(d, BATCH, false, 42);
        int[] e0 = drawn(batches, 0);
        assertFalse(Arrays.equals(e0, drawn(batches, 1)));
        assertFalse(Arrays.equals(e0, drawn(Batches.shuffled(d, BATCH, false, 43), 0)));
        assertFalse(Arrays.equals(identity(N), e0), "a shuffled epoch should not be in stored order");
        // Adjacent seeds must not replay each other's epochs (plain seed ^ epoch would).
        assertFalse(Arrays.equals(drawn(batches, 1), drawn(Batches.shuffled(d, BATCH, false, 43), 0)));
    }

    @Test
    void everyIndexExactlyOncePerEpoch() {
        Batches batches = Batches.shuffled(numbered(N), BATCH, false, 7);
        assertEquals(11, batches.count());
        for (int epoch = 0; epoch < 5; epoch++) {
            int[] seen = drawn(batches, epoch);
            Arrays.sort(seen);
            assertArrayEquals(identity(N), seen, "epoch " + epoch);
        }
    }

    @Test
    void lastBatchIsPartialUnlessDropped() {
        Dataset d = numbered(N);
        float[] x = new float[BATCH * PER_ITEM];
        float[] y = new float[BATCH];
        Batches.Epoch keep = Batches.shuffled(d, BATCH, false, 1).epoch(0);
        assertEquals(11, keep.count());
        assertEquals(3, keep.fill(10, x, y));

        Batches dropping = Batches.shuffled(d, BATCH, true, 1);
        assertEquals(10, dropping.count());
        int[] seen = drawn(dropping, 0);
        assertEquals(100, seen.length);
        assertEquals(100, Arrays.stream(seen).distinct().count());
        // Dropping the tail does not change the order of what is kept.
        assertArrayEquals(Arrays.copyOf(drawn(Batches.shuffled(d, BATCH, false, 1), 0), 100), seen);
    }

    @Test
    void inOrderIsTheStoredOrder() {
        Batches batches = Batches.inOrder(numbered(N), BATCH);
        assertArrayEquals(identity(N), drawn(batches, 0));
        assertArrayEquals(identity(N), drawn(batches, 5));
    }

    @Test
    void shuffleIsUniform() {
        // All 6 orders of 3 items, 60,000 epochs: each count is Binomial(60000, 1/6), mean 10000
        // and standard deviation 91; ±500 is 5.5 sigma. The classic biased shuffle (j drawn from
        // all n instead of 0..i) misses by thousands (checked: 6,600 to 13,500) and fails.
        Map<String, Integer> counts = new HashMap<>();
        for (int epoch = 0; epoch < 60_000; epoch++) {
            counts.merge(Arrays.toString(Batches.permutation(3, 99, epoch)), 1, Integer::sum);
        }
        assertEquals(6, counts.size(), counts.toString());
        for (int c : counts.values()) {
            assertTrue(Math.abs(c - 10_000) <= 500, counts.toString());
        }
    }

    @Test
    void badArgumentsAreRefused() {
        Dataset d = numbered(N);
        assertThrows(IllegalArgumentException.class, () -> Batches.shuffled(d, 0, false, 1));
        assertThrows(IllegalArgumentException.class, () -> Batches.shuffled(d, N + 1, true, 1));
        Batches.Epoch e = Batches.shuffled(d, BATCH, false, 1).epoch(0);
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> e.fill(0, new float[BATCH * PER_ITEM - 1], new float[BATCH]));
        assertTrue(small.getMessage().contains("Batches.fill") && small.getMessage().contains("39"), small.getMessage());
        assertThrows(IllegalArgumentException.class, () -> e.fill(0, new float[BATCH * PER_ITEM], new float[BATCH - 1]));
        assertThrows(IllegalArgumentException.class, () -> e.fill(11, new float[BATCH * PER_ITEM], new float[BATCH]));
    }

    @Test
    void shuffledOrderIsTheOrderAnEpochVisits() {
        Batches batches = Batches.shuffled(numbered(N), BATCH, true, 42);
        for (int epoch = 0; epoch < 3; epoch++) {
            int[] order = Batches.shuffledOrder(N, 42, epoch);
            // What the filled buffers held, item by item, is the head of the published order.
            assertArrayEquals(Arrays.copyOf(order, N / BATCH * BATCH), drawn(batches, epoch), "epoch " + epoch);
            assertArrayEquals(identity(N), Arrays.stream(order).sorted().toArray(), "a permutation, epoch " + epoch);
        }
        assertThrows(IllegalArgumentException.class, () -> Batches.shuffledOrder(-1, 42, 0));
    }

    @Test
    void datasetChecksItsParts() {
        List<String> names = Mnist.CLASS_NAMES;
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[7], new int[2], Shape.of(1, 2, 2), names));
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[4], new int[] {10}, Shape.of(1, 2, 2), names));
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[4], new int[1], Shape.of(2, 2), names));
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }
}
