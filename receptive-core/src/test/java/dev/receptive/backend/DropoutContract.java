package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.ContractBase;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Dropout forward and backward. Masks are compared bit for bit: every backend must draw exactly
 * the Philox mask of docs/design.md, and kept values are exactly x · (1f / (1f − p)).
 */
public abstract class DropoutContract extends ContractBase {
    private static final long SEED = 0x0123456789ABCDEFL;

    @Test
    void checkVectorMaskOnOnes() {
        float[] ones = new float[32];
        Arrays.fill(ones, 1f);
        Tensor x = t(ones, 2, 4, 2, 2);
        Tensor y = zeros(2, 4, 2, 2);
        backend.dropoutForward(y, x, 0.5f, SEED, 7, 3, 0);
        String mask = "00111001011110111010000010101100";
        float[] expected = new float[32];
        for (int i = 0; i < 32; i++) {
            expected[i] = mask.charAt(i) == '1' ? 2f : 0f;
        }
        assertBitsEqual("y", expected, get(y));
    }

    @Test
    void keptValuesAreExactlyScaledAndDroppedAreZero() {
        int n = 1001; // not a multiple of 4: the last Philox block is used in part
        float[] xs = new Rand(1).uniform(n, -3, 3);
        Tensor x = t(xs, 7, 11, 13);
        Tensor y = zeros(7, 11, 13);
        // For p = 0.04, 1f / (1f − p) and (float) (1.0 / (1.0 − p)) differ in the last bit.
        for (float p : new float[] {0.3f, 0.04f}) {
            backend.dropoutForward(y, x, p, SEED, 2, 40, 0);
            assertBitsEqual("y, p " + p, reference(xs, p, SEED, 2, 40), get(y));
        }
    }

    @Test
    void backwardUsesTheForwardMask() {
        float p = 0.3f;
        int n = 999;
        float[] dys = new Rand(2).uniform(n, -3, 3);
        Tensor dy = t(dys, 9, 111);
        Tensor dx = zeros(9, 111);
        backend.dropoutBackward(dx, dy, p, SEED, 5, 17, 0);
        float[] expected = reference(dys, p, SEED, 5, 17);
        assertBitsEqual("dx", expected, get(dx));

        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        Tensor y = zeros(9, 111);
        backend.dropoutForward(y, t(ones, 9, 111), p, SEED, 5, 17, 0);
        float[] fwd = get(y);
        float[] back = get(dx);
        for (int i = 0; i < n; i++) {
            assertTrue((fwd[i] == 0) == (back[i] == 0) || dys[i] == 0, "mask differs at " + i);
        }
    }

    @Test
    void worksInPlace() {
        float[] xs = new Rand(3).uniform(257, -1, 1);
        Tensor x = t(xs, 257);
        backend.dropoutForward(x, x, 0.25f, SEED, 1, 1, 0);
        assertBitsEqual("y", reference(xs, 0.25f, SEED, 1, 1), get(x));
    }

    @Test
    void zeroProbabilityIsTheIdentity() {
        float[] xs = new Rand(4).uniform(103, -5, 5);
        xs[0] = -0f;
        Tensor x = t(xs, 103);
        Tensor y = zeros(103);
        backend.dropoutForward(y, x, 0f, SEED, 1, 1, 0);
        assertBitsEqual("y", xs, get(y));
        backend.dropoutForward(x, x, 0f, SEED, 1, 1, 0);
        assertBitsEqual("in place", xs, get(x));
    }

    @Test
    void keptFractionIsOneMinusP() {
        int n = 1_000_000;
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        Tensor x = t(ones, n);
        Tensor y = zeros(n);
        for (float p : new float[] {0.5f, 0.1f}) {
            backend.dropoutForward(y, x, p, SEED, 3, 9, 0);
            long kept = 0;
            for (float v : get(y)) {
                kept += v != 0 ? 1 : 0;
            }
            double sigma = Math.sqrt(n * p * (1.0 - p));
            double off = Math.abs(kept - n * (1.0 - p));
            assertTrue(off <= 4 * sigma, "p " + p + ": kept " + kept + " of " + n + ", " + off / sigma + " sigma off");
        }
    }

    @Test
    void maskIsThatOfASingleThreadedCpu() {
        // Large enough to be split into several chunks; the single-threaded CPU is the reference.
        int n = 100_003;
        float[] xs = new Rand(5).uniform(n, -1, 1);
        Tensor x = t(xs, n);
        Tensor y = zeros(n);
        backend.dropoutForward(y, x, 0.5f, SEED, 11, 123456, 0);
        try (Backend one = TestBackends.cpu(1);
                Tensor x1 = one.upload(xs, Shape.of(n));
                Tensor y1 = one.allocate(Shape.of(n))) {
            one.dropoutForward(y1, x1, 0.5f, SEED, 11, 123456, 0);
            assertBitsEqual("y vs 1-thread cpu", one.download(y1), get(y));
        }
    }

    @Test
    void anotherStepOrStreamGivesAnotherMask() {
        float[] ones = new float[1000];
        Arrays.fill(ones, 1f);
        Tensor x = t(ones, 1000);
        float[] base = drop(x, 0.5f, SEED, 4, 8);
        assertArrayEquals(bits(base), bits(drop(x, 0.5f, SEED, 4, 8)), "same arguments, same mask");
        assertFalse(Arrays.equals(base, drop(x, 0.5f, SEED, 4, 9)), "another step");
        assertFalse(Arrays.equals(base, drop(x, 0.5f, SEED, 5, 8)), "another stream");
        assertFalse(Arrays.equals(base, drop(x, 0.5f, SEED + 1, 4, 8)), "another seed");
    }

    @Test
    void rejectsProbabilitiesOutsideZeroToOne() {
        Tensor x = t(new float[4], 4);
        Tensor y = zeros(4);
        for (float p : new float[] {1f, -0.1f, Float.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> backend.dropoutForward(y, x, p, SEED, 0, 0, 0));
            assertTrue(e.getMessage().contains("dropoutForward"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> backend.dropoutBackward(y, x, 1f, SEED, 0, 0, 0));
    }

    @Test
    void rejectsMismatchedShapes() {
        Tensor x = t(new float[6], 2, 3);
        Tensor y = zeros(3, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.dropoutForward(y, x, 0.5f, SEED, 0, 0, 0));
        assertTrue(e.getMessage().contains("dropoutForward"), e.getMessage());
    }

    private float[] drop(Tensor x, float p, long seed, int stream, int step) {
        Tensor y = zeros(x.size());
        backend.dropoutForward(y, x, p, seed, stream, step, 0);
        return get(y);
    }

    /** The formula of docs/design.md element by element, one Philox block per element. */
    private static float[] reference(float[] x, float p, long seed, int stream, int step) {
        float scale = 1f / (1f - p);
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Philox.keep(seed, stream, step, i, p) ? x[i] * scale : 0f;
        }
        return y;
    }

    /** Bit-for-bit equality: a mask or a scale that is off by one ulp must fail. */
    private static void assertBitsEqual(String what, float[] expected, float[] actual) {
        assertArrayEquals(bits(expected), bits(actual), what + " (raw float bits)");
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    @Test
    void shardsWithOffsetsDrawTheMaskOfTheUnsplitBatch() {
        // A batch of 6 items of 7 elements split at items 0..2 and 3..5 (offset 21: not a multiple
        // of 4, so a Philox block straddles the shards), and at every single item.
        int items = 6;
        int per = 7;
        float[] xs = new Rand(21).uniform(items * per, -1, 1);
        float[] dys = new Rand(22).uniform(items * per, -1, 1);
        Tensor y = zeros(items, per);
        backend.dropoutForward(y, t(xs, items, per), 0.5f, SEED, 3, 77, 0);
        float[] whole = get(y);
        Tensor dx = zeros(items, per);
        backend.dropoutBackward(dx, t(dys, items, per), 0.5f, SEED, 3, 77, 0);
        float[] wholeGrad = get(dx);
        for (int[] split : new int[][] {{0, 3, 6}, {0, 1, 2, 3, 4, 5, 6}, {0, 5, 6}}) {
            float[] joined = new float[items * per];
            float[] joinedGrad = new float[items * per];
            for (int s = 0; s + 1 < split.length; s++) {
                int from = split[s] * per;
                int len = (split[s + 1] - split[s]) * per;
                Tensor part = zeros(split[s + 1] - split[s], per);
                backend.dropoutForward(part, t(Arrays.copyOfRange(xs, from, from + len), split[s + 1] - split[s], per),
                        0.5f, SEED, 3, 77, from);
                System.arraycopy(get(part), 0, joined, from, len);
                backend.dropoutBackward(part, t(Arrays.copyOfRange(dys, from, from + len), split[s + 1] - split[s], per),
                        0.5f, SEED, 3, 77, from);
                System.arraycopy(get(part), 0, joinedGrad, from, len);
            }
            assertBitsEqual("forward, shards " + Arrays.toString(split), whole, joined);
            assertBitsEqual("backward, shards " + Arrays.toString(split), wholeGrad, joinedGrad);
        }
        // The reference, element by element with the offset: far from 0 and past 2^32 elements.
        long far = (1L << 33) + 3;
        Tensor z = zeros(items * per);
        backend.dropoutForward(z, t(xs, items * per), 0.3f, SEED, 9, 5, far);
        float scale = 1f / (1f - 0.3f);
        float[] expected = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            expected[i] = Philox.keep(SEED, 9, 5, far + i, 0.3f) ? xs[i] * scale : 0f;
        }
        assertBitsEqual("offset 2^33 + 3", expected, get(z));
    }

    @Test
    void rejectsNegativeOffsets() {
        Tensor x = t(new float[4], 4);
        Tensor y = zeros(4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.dropoutForward(y, x, 0.5f, SEED, 0, 0, -4));
        assertTrue(e.getMessage().contains("dropoutForward") && e.getMessage().contains("offset"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> backend.dropoutBackward(y, x, 0.5f, SEED, 0, 0, Long.MAX_VALUE));
    }
}
