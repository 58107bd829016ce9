package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.ContractBase;
import dev.receptive.testing.Rand;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The contract of the ops behind a graph's merges on any backend: {@code add} (the residual
 * connection, y = a + b) and {@code concatForward} / {@code concatBackward} (channels side by
 * side, and the gradient split back). Every expected value is exact: an fp32 sum rounds a + b
 * once, and concatenation only moves values, so all comparisons are bit for bit.
 */
public abstract class MergeContract extends ContractBase {
    /** What an output holds before the op, so that an element the op forgets to write shows. */
    private static final float JUNK = 7.5f;

    // ---- add ----------------------------------------------------------------------------

    @Test
    void addOfHandValuesWithEveryAllowedAliasing() {
        float[] a = {1, 2, -3, 0.5f, 1e30f, -0f};
        float[] b = {0.5f, -2, 4, 0.25f, 1e30f, 0f};
        Tensor y = filled(2, 3);
        backend.add(y, t(a, 2, 3), t(b, 2, 3));
        Close.assertClose("add", new float[] {1.5f, 0, 1, 0.75f, 2e30f, 0}, get(y), 0, 0);

        Tensor ta = t(a, 2, 3);
        backend.add(ta, ta, t(b, 2, 3)); // y may be a
        Close.assertClose("add into a", new float[] {1.5f, 0, 1, 0.75f, 2e30f, 0}, get(ta), 0, 0);
        Tensor tb = t(b, 2, 3);
        backend.add(tb, t(a, 2, 3), tb); // y may be b
        Close.assertClose("add into b", new float[] {1.5f, 0, 1, 0.75f, 2e30f, 0}, get(tb), 0, 0);
        Tensor twice = t(a, 2, 3);
        backend.add(twice, twice, twice); // y, a and b all one tensor: 2a
        Close.assertClose("a + a in place", new float[] {2, 4, -6, 1, 2e30f, 0}, get(twice), 0, 0);
    }

    @Test
    void addOverflowsAndPropagatesNaNAsFloatsDo() {
        float[] a = {3e38f, Float.NaN, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY};
        float[] b = {3e38f, 1, -1, Float.NEGATIVE_INFINITY};
        Tensor y = filled(4);
        backend.add(y, t(a, 4), t(b, 4));
        float[] out = get(y);
        assertTrue(out[0] == Float.POSITIVE_INFINITY && Float.isNaN(out[1]) && out[2] == Float.POSITIVE_INFINITY
                && Float.isNaN(out[3]), Arrays.toString(out));
    }

    @Test
    void randomResidualShapesMatchTheFloatSum() {
        Rand rand = new Rand(41);
        // A residual block's maps, and a size large enough that a backend splits the loop.
        for (int[] dims : new int[][] {{3, 16, 7, 9}, {64, 16, 14, 14}, {5, 11}}) {
            int n = Shape.of(dims).size();
            float[] a = rand.uniform(n, -3, 3);
            float[] b = rand.uniform(n, -3, 3);
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) {
                expected[i] = a[i] + b[i];
            }
            Tensor y = filled(dims);
            backend.add(y, t(a, dims), t(b, dims));
            Close.assertClose("add " + Shape.of(dims), expected, get(y), 0, 0);
        }
    }

    // ---- concat -------------------------------------------------------------------------

    @Test
    void concatOfHandValues() {
        // Two items; x0 has one channel of 1×2, x1 two channels: each item's channels follow on.
        Tensor x0 = t(new float[] {1, 2, 3, 4}, 2, 1, 1, 2);
        Tensor x1 = t(new float[] {5, 6, 7, 8, 9, 10, 11, 12}, 2, 2, 1, 2);
        Tensor y = filled(2, 3, 1, 2);
        backend.concatForward(y, List.of(x0, x1));
        Close.assertClose("concat (N, C, H, W)", new float[] {1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, get(y), 0, 0);

        // Flat items (N, F): features side by side.
        Tensor f = filled(2, 4);
        backend.concatForward(f, List.of(t(new float[] {1, 2}, 2, 1), t(new float[] {3, 4, 5, 6, 7, 8}, 2, 3)));
        Close.assertClose("concat (N, F)", new float[] {1, 3, 4, 5, 2, 6, 7, 8}, get(f), 0, 0);

        // The same tensor twice is two inputs: y = x ‖ x.
        Tensor x = t(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor xx = filled(2, 4);
        backend.concatForward(xx, List.of(x, x));
        Close.assertClose("x ‖ x", new float[] {1, 2, 1, 2, 3, 4, 3, 4}, get(xx), 0, 0);
    }

    @Test
    void concatBackwardOfHandValuesSkipsNullGradients() {
        Tensor dy = t(new float[] {1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, 2, 3, 1, 2);
        Tensor dx0 = filled(2, 1, 1, 2);
        Tensor dx1 = filled(2, 2, 1, 2);
        backend.concatBackward(Arrays.asList(dx0, dx1), dy, new int[] {1, 2});
        Close.assertClose("dx0", new float[] {1, 2, 3, 4}, get(dx0), 0, 0);
        Close.assertClose("dx1", new float[] {5, 6, 7, 8, 9, 10, 11, 12}, get(dx1), 0, 0);

        // The first input needs no gradient: only the second slice is written, from its own offset.
        Tensor only1 = filled(2, 2, 1, 2);
        backend.concatBackward(Arrays.asList(null, only1), dy, new int[] {1, 2});
        Close.assertClose("dx1 alone", new float[] {5, 6, 7, 8, 9, 10, 11, 12}, get(only1), 0, 0);
        Tensor only0 = filled(2, 1, 1, 2);
        backend.concatBackward(Arrays.asList(only0, null), dy, new int[] {1, 2});
        Close.assertClose("dx0 alone", new float[] {1, 2, 3, 4}, get(only0), 0, 0);
        backend.concatBackward(Arrays.asList(null, null), dy, new int[] {1, 2}); // nothing to write
    }

    @Test
    void randomShapesMatchTheNaiveReferenceBothWays() {
        Rand rand = new Rand(42);
        for (int round = 0; round < 25; round++) {
            int rank = rand.nextInt(2, 4);
            int n = rand.nextInt(1, 5);
            int inputs = rand.nextInt(1, 4);
            int[] rest = new int[rank - 2];
            for (int d = 0; d < rest.length; d++) {
                rest[d] = rand.nextInt(1, 6);
            }
            int inner = Arrays.stream(rest).reduce(1, (p, q) -> p * q);
            int[] channels = new int[inputs];
            List<float[]> data = new ArrayList<>();
            List<Tensor> xs = new ArrayList<>();
            for (int i = 0; i < inputs; i++) {
                channels[i] = rand.nextInt(1, 7);
                int[] dims = dims(n, channels[i], rest);
                data.add(rand.uniform(Shape.of(dims).size(), -1, 1));
                xs.add(t(data.get(i), dims));
            }
            int total = Arrays.stream(channels).sum();
            String what = "round " + round + ": channels " + Arrays.toString(channels) + ", n " + n + ", rest "
                    + Arrays.toString(rest);

            float[] expected = new float[n * total * inner];
            for (int item = 0, offset = 0; item < n; item++, offset = 0) {
                for (int i = 0; i < inputs; i++) {
                    for (int c = 0; c < channels[i]; c++) {
                        for (int j = 0; j < inner; j++) {
                            expected[(item * total + offset + c) * inner + j] = data.get(i)[(item * channels[i] + c)
                                    * inner + j];
                        }
                    }
                    offset += channels[i];
                }
            }
            Tensor y = filled(dims(n, total, rest));
            backend.concatForward(y, xs);
            Close.assertClose(what + " forward", expected, get(y), 0, 0);

            // Backward of a random dy, a random input skipped: each written dx is its slice of dy.
            float[] dy = rand.uniform(expected.length, -1, 1);
            int skipped = inputs > 1 ? rand.nextInt(0, inputs - 1) : -1;
            List<Tensor> dxs = new ArrayList<>();
            for (int i = 0; i < inputs; i++) {
                dxs.add(i == skipped ? null : filled(dims(n, channels[i], rest)));
            }
            backend.concatBackward(dxs, t(dy, dims(n, total, rest)), channels);
            for (int i = 0, offset = 0; i < inputs; offset += channels[i], i++) {
                if (i == skipped) {
                    continue;
                }
                float[] slice = new float[n * channels[i] * inner];
                for (int item = 0; item < n; item++) {
                    for (int c = 0; c < channels[i]; c++) {
                        for (int j = 0; j < inner; j++) {
                            slice[(item * channels[i] + c) * inner + j] = dy[(item * total + offset + c) * inner + j];
                        }
                    }
                }
                Close.assertClose(what + " dx[" + i + "]", slice, get(dxs.get(i)), 0, 0);
            }
        }
    }

    @Test
    void largeMapsRoundTrip() {
        // Sizes of a real network's merge (an inception-like block): many items and channels.
        Rand rand = new Rand(43);
        int[] channels = {16, 32, 8};
        List<Tensor> xs = new ArrayList<>();
        List<float[]> data = new ArrayList<>();
        for (int c : channels) {
            data.add(rand.uniform(64 * c * 14 * 14, -1, 1));
            xs.add(t(data.get(data.size() - 1), 64, c, 14, 14));
        }
        Tensor y = filled(64, 56, 14, 14);
        backend.concatForward(y, xs);
        List<Tensor> dxs = new ArrayList<>();
        for (int c : channels) {
            dxs.add(filled(64, c, 14, 14));
        }
        backend.concatBackward(dxs, y, channels);
        for (int i = 0; i < channels.length; i++) {
            Close.assertClose("input " + i + " back from y", data.get(i), get(dxs.get(i)), 0, 0);
        }
    }

    // ---- bad input ----------------------------------------------------------------------

    @Test
    void badShapesAreRefusedNamingTheOp() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.add(zeros(2, 3), zeros(2, 3), zeros(3, 2)));
        assertMentions(e, "add", "b", "(2, 3)", "(3, 2)");
        e = assertThrows(IllegalArgumentException.class, () -> backend.add(zeros(6), zeros(2, 3), zeros(2, 3)));
        assertMentions(e, "add", "y", "(2, 3)", "(6,)");

        e = assertThrows(IllegalArgumentException.class,
                () -> backend.concatForward(zeros(2, 5, 4), List.of(zeros(2, 2, 4), zeros(3, 3, 4))));
        assertMentions(e, "concatForward", "(2, 2, 4)", "(3, 3, 4)", "other than 1");
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.concatForward(zeros(2, 5, 4), List.of(zeros(2, 2, 4), zeros(2, 3, 5))));
        assertMentions(e, "concatForward", "other than 1");
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.concatForward(zeros(2, 4, 4), List.of(zeros(2, 2, 4), zeros(2, 3, 4))));
        assertMentions(e, "concatForward", "y", "(2, 5, 4)", "(2, 4, 4)");
        e = assertThrows(IllegalArgumentException.class, () -> backend.concatForward(zeros(2, 1), List.of()));
        assertMentions(e, "concatForward", "at least one input");
        e = assertThrows(IllegalArgumentException.class, () -> backend.concatForward(zeros(4), List.of(zeros(4))));
        assertMentions(e, "concatForward", "rank >= 2");
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.concatForward(zeros(2, 2), Arrays.asList(zeros(2, 1), null)));
        assertMentions(e, "concatForward", "null");

        Tensor dy = zeros(2, 5, 3);
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.concatBackward(Arrays.asList(zeros(2, 2, 3), zeros(2, 2, 3)), dy, new int[] {2, 2}));
        assertMentions(e, "concatBackward", "add up to 4", "(2, 5, 3)");
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.concatBackward(Arrays.asList(zeros(2, 2, 3), null), dy, new int[] {2, 3, 0}));
        assertMentions(e, "concatBackward", "2 input gradients but 3 channel counts");
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.concatBackward(Arrays.asList(zeros(2, 2, 3), zeros(2, 3, 4)), dy, new int[] {2, 3}));
        assertMentions(e, "concatBackward", "dx[1]", "(2, 3, 3)", "(2, 3, 4)");
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.concatBackward(Arrays.asList(null, zeros(2, 5, 3)), dy, new int[] {0, 5}));
        assertMentions(e, "concatBackward", "input 0 has 0 channels");
    }

    private Tensor filled(int... dims) {
        float[] junk = new float[Shape.of(dims).size()];
        Arrays.fill(junk, JUNK);
        return t(junk, dims);
    }

    private static int[] dims(int n, int channels, int[] rest) {
        int[] d = new int[2 + rest.length];
        d[0] = n;
        d[1] = channels;
        System.arraycopy(rest, 0, d, 2, rest.length);
        return d;
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should name " + part + ": " + e.getMessage());
        }
    }
}
