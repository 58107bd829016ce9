package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.ContractBase;
import dev.receptive.testing.GradCheck;
import dev.receptive.testing.Rand;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The pool2d contract: max and average pooling, forward and backward, on any backend. */
public abstract class PoolContract extends ContractBase {
    // Forward and backward against the double reference: a few fp32 roundings of values in [−1, 1].
    private static final double ATOL = 1e-6;
    private static final double RTOL = 1e-5;

    private float[] pool(PoolMode mode, float[] x, int[] xDims, Pool2dParams p, int outH, int outW) {
        Tensor y = zeros(xDims[0], xDims[1], outH, outW);
        backend.pool2dForward(mode, y, t(x, xDims), p);
        return get(y);
    }

    /** dx for dy, written over a dx prefilled with garbage to show that backward overwrites. */
    private float[] poolBackward(PoolMode mode, float[] dy, float[] x, int[] xDims, Pool2dParams p, int outH,
            int outW) {
        Tensor xt = t(x, xDims);
        Tensor y = zeros(xDims[0], xDims[1], outH, outW);
        backend.pool2dForward(mode, y, xt, p);
        Tensor dx = zeros(xDims);
        backend.fill(dx, 7f);
        backend.pool2dBackward(mode, dx, t(dy, xDims[0], xDims[1], outH, outW), xt, y, p);
        return get(dx);
    }

    @Test
    void twoByTwoWindowGivesMaxAndMean() {
        float[] x = {1, 2, 3, 4};
        int[] dims = {1, 1, 2, 2};
        Pool2dParams p = Pool2dParams.of(2, 2, 0);
        Close.assertClose("max", new float[] {4}, pool(PoolMode.MAX, x, dims, p, 1, 1), 0, 0);
        Close.assertClose("average", new float[] {2.5f}, pool(PoolMode.AVERAGE, x, dims, p, 1, 1), 0, 0);
    }

    @Test
    void paddedAverageCountsPaddingAndMaxIgnoresIt() {
        // 3×3 window, stride 2, padding 1 over [[1,2,3],[4,5,6],[7,8,9]]: each output window holds
        // four inputs and five padded zeros, so the average divides their sum by 9.
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        int[] dims = {1, 1, 3, 3};
        Pool2dParams p = Pool2dParams.of(3, 2, 1);
        double[] avg = {12 / 9.0, 16 / 9.0, 24 / 9.0, 28 / 9.0};
        Close.assertClose("average", avg, pool(PoolMode.AVERAGE, x, dims, p, 2, 2), ATOL, RTOL);
        Close.assertClose("max", new float[] {5, 6, 8, 9}, pool(PoolMode.MAX, x, dims, p, 2, 2), 0, 0);
        // All-negative input: a max that counted padded zeros would return 0.
        float[] neg = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
        Close.assertClose("max of negatives", new float[] {-1, -2, -4, -5}, pool(PoolMode.MAX, neg, dims, p, 2, 2),
                0, 0);
    }

    @Test
    void paddedAverageBackwardSpreadsOverInBoundsPositions() {
        // Same geometry; dy = 9 gives each covered input 9/9 = 1 per window. Windows cover rows
        // {0,1} and {1,2} (likewise columns), so dx counts the windows over each input.
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        float[] dy = {9, 9, 9, 9};
        float[] dx = poolBackward(PoolMode.AVERAGE, dy, x, new int[] {1, 1, 3, 3}, Pool2dParams.of(3, 2, 1), 2, 2);
        Close.assertClose("dx", new float[] {1, 2, 1, 2, 4, 2, 1, 2, 1}, dx, ATOL, RTOL);
    }

    @Test
    void maxBackwardRoutesToFirstMaximum() {
        // Window 2×2, stride 2 over [[1,5,3,2],[5,0,1,3]]: the left window holds 5 twice, the right
        // one 3 twice; row-major order picks (0,1) and (0,2).
        float[] x = {1, 5, 3, 2, 5, 0, 1, 3};
        float[] dx = poolBackward(PoolMode.MAX, new float[] {10, 20}, x, new int[] {1, 1, 2, 4},
                Pool2dParams.of(2, 2, 0), 1, 2);
        Close.assertClose("dx", new float[] {0, 10, 20, 0, 0, 0, 0, 0}, dx, 0, 0);
    }

    @Test
    void maxBackwardAccumulatesOverlappingWindows() {
        // Window 2×2, stride 1 over [[1,9,2],[3,4,5]]: both windows pick the 9.
        float[] x = {1, 9, 2, 3, 4, 5};
        float[] dx = poolBackward(PoolMode.MAX, new float[] {1, 2}, x, new int[] {1, 1, 2, 3},
                Pool2dParams.of(2, 1, 0), 1, 2);
        Close.assertClose("dx", new float[] {0, 3, 0, 0, 0, 0}, dx, 0, 0);
    }

    @Test
    void randomShapesMatchReference() {
        Rand rand = new Rand(20240611);
        for (int trial = 0; trial < 40; trial++) {
            int wh = rand.nextInt(1, 3);
            int ww = rand.nextInt(1, 3);
            Pool2dParams p = new Pool2dParams(wh, ww, rand.nextInt(1, 3), rand.nextInt(1, 3),
                    rand.nextInt(0, wh / 2), rand.nextInt(0, ww / 2));
            int[] dims = {rand.nextInt(1, 5), rand.nextInt(1, 7),
                    rand.nextInt(Math.max(1, wh - 2 * p.padH()), 11), rand.nextInt(Math.max(1, ww - 2 * p.padW()), 11)};
            PoolReference ref = new PoolReference(dims[0], dims[1], dims[2], dims[3], p);
            float[] x = rand.uniform(dims[0] * dims[1] * dims[2] * dims[3], -1, 1);
            float[] dy = rand.uniform(dims[0] * dims[1] * ref.outH() * ref.outW(), -1, 1);
            for (PoolMode mode : PoolMode.values()) {
                String what = mode + " " + Arrays.toString(dims) + " " + p;
                Close.assertClose(what + " y", ref.forward(mode, Close.toDouble(x)),
                        pool(mode, x, dims, p, ref.outH(), ref.outW()), ATOL, RTOL);
                Close.assertClose(what + " dx", ref.backward(mode, Close.toDouble(dy), Close.toDouble(x)),
                        poolBackward(mode, dy, x, dims, p, ref.outH(), ref.outW()), ATOL, RTOL);
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Rand rand = new Rand(7);
        int[] dims = {2, 3, 5, 6};
        int size = 2 * 3 * 5 * 6;
        // Distinct values 1/size apart, far beyond the step h, so no max-pool window meets a tie
        // (a kink) inside the difference quotient.
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) i / size - 0.5f;
        }
        for (int i = size - 1; i > 0; i--) {
            int j = rand.nextInt(0, i);
            float s = x[i];
            x[i] = x[j];
            x[j] = s;
        }
        Pool2dParams[] geometries = {Pool2dParams.of(2, 1, 0), Pool2dParams.of(3, 2, 1), new Pool2dParams(3, 2, 1, 2, 1, 1)};
        for (Pool2dParams p : geometries) {
            PoolReference ref = new PoolReference(dims[0], dims[1], dims[2], dims[3], p);
            float[] dy = rand.uniform(dims[0] * dims[1] * ref.outH() * ref.outW(), -1, 1);
            for (PoolMode mode : PoolMode.values()) {
                // L(x) = Σ dy·pool(x) evaluated in double, so the quotient is exact to ~1e-10 and
                // the fp32 tolerances above apply.
                double[] numeric = GradCheck.numeric(v -> GradCheck.dot(ref.forward(mode, v), dy), x, 1e-4);
                float[] dx = poolBackward(mode, dy, x, dims, p, ref.outH(), ref.outW());
                Close.assertClose(mode + " " + p + " dx", numeric, dx, ATOL, RTOL);
            }
        }
    }

    @Test
    void wrongOutputShapeIsRejected() {
        Tensor x = zeros(1, 2, 4, 4);
        Tensor y = zeros(1, 2, 3, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.pool2dForward(PoolMode.MAX, y, x, Pool2dParams.of(2, 2, 0)));
        assertMentions(e, "pool2dForward", "(1, 2, 2, 2)", "(1, 2, 3, 3)");

        Tensor yOk = zeros(1, 2, 2, 2);
        Tensor dx = zeros(1, 2, 4, 5);
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.pool2dBackward(PoolMode.AVERAGE, dx, yOk, x, yOk, Pool2dParams.of(2, 2, 0)));
        assertMentions(e, "pool2dBackward", "(1, 2, 4, 4)", "(1, 2, 4, 5)");
    }

    @Test
    void inputSmallerThanWindowIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.pool2dForward(PoolMode.MAX, zeros(1, 1, 1, 1), zeros(1, 1, 2, 2), Pool2dParams.of(3, 1, 0)));
        assertMentions(e, "pool2dForward", "(1, 1, 2, 2)");
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should name " + part + ": " + e.getMessage());
        }
    }
}
