package dev.receptive.backend;

import static dev.receptive.testing.Close.assertClose;
import static dev.receptive.testing.Close.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.testing.ContractBase;
import dev.receptive.testing.GradCheck;
import dev.receptive.testing.Rand;
import dev.receptive.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** conv2d forward and all three backward ops, on any backend. */
public abstract class ConvContract extends ContractBase {
    // fp32 sums of up to a few hundred products of values in [-1, 1] against a double reference.
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;

    @Test
    void handCase() {
        // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,0],[0,-1]], b = 10: y[p,q] = x[p,q] - x[p+1,q+1] + 10
        Tensor x = t(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
        Tensor w = t(new float[] {1, 0, 0, -1}, 1, 1, 2, 2);
        Tensor b = t(new float[] {10}, 1);
        Tensor y = zeros(1, 1, 2, 2);
        backend.conv2dForward(y, x, w, b, Conv2dParams.of(1, 0, 1));
        assertArrayEquals(new float[] {6, 6, 6, 6}, get(y));

        // Padding 1, stride 2: windows start at (-1,-1), (-1,1), (1,-1), (1,1); the 1 of w falls on
        // padding for the first three, so they see only -x[0,0], -x[0,2], -x[2,0].
        Tensor y2 = zeros(1, 1, 2, 2);
        backend.conv2dForward(y2, x, w, null, Conv2dParams.of(2, 1, 1));
        assertArrayEquals(new float[] {-1, -3, -7, 5 - 9}, get(y2));

        // dw = Σ dy · x-window; with dy = 1 over the 2x2 output: sums of the four 2x2 windows.
        Tensor dy = t(new float[] {1, 1, 1, 1}, 1, 1, 2, 2);
        Tensor dw = zeros(1, 1, 2, 2);
        backend.conv2dBackwardFilter(dw, x, dy, Conv2dParams.of(1, 0, 1), false);
        assertArrayEquals(new float[] {12, 16, 24, 28}, get(dw));

        Tensor dx = zeros(1, 1, 3, 3);
        backend.conv2dBackwardData(dx, dy, w, Conv2dParams.of(1, 0, 1));
        assertArrayEquals(new float[] {1, 1, 0, 1, 0, -1, 0, -1, -1}, get(dx));

        Tensor db = zeros(1);
        backend.conv2dBackwardBias(db, dy, false);
        assertArrayEquals(new float[] {4}, get(db));
    }

    @Test
    void matchesNaiveReferenceOnRandomGeometries() {
        Rand rand = new Rand(20261124);
        for (int trial = 0; trial < 40; trial++) {
            int stride = rand.nextInt(1, 3);
            int pad = rand.nextInt(0, 2);
            int dil = rand.nextInt(1, 2);
            int r = rand.nextInt(1, 4);
            int s = rand.nextInt(1, 4);
            int h = rand.nextInt(Math.max(1, dil * (r - 1) + 1 - 2 * pad), 13);
            int w = rand.nextInt(Math.max(1, dil * (s - 1) + 1 - 2 * pad), 13);
            Conv2dParams prm = new Conv2dParams(stride, rand.nextInt(1, 3), pad, rand.nextInt(0, 2), dil,
                    rand.nextInt(1, 2));
            if (Conv2dParams.outputSize(w, s, prm.strideW(), prm.padW(), prm.dilationW()) < 1) {
                continue;
            }
            NaiveConv ref = new NaiveConv(rand.nextInt(1, 5), rand.nextInt(1, 7), h, w, rand.nextInt(1, 7), r, s, prm);
            String what = "trial " + trial + " " + prm + " x=(" + ref.n + "," + ref.c + "," + h + "," + w + ") w=("
                    + ref.k + "," + ref.c + "," + r + "," + s + ")";
            checkAgainstReference(rand, ref, what);
        }
    }

    @Test
    void matchesNaiveReferenceOnSeedNetworkLayers() {
        // The second conv of the seed network at batch 2: sums of 800 products and large panels.
        Rand rand = new Rand(5);
        checkAgainstReference(rand, new NaiveConv(2, 32, 14, 14, 64, 5, 5, Conv2dParams.of(1, 2, 1)), "seed conv2");
        checkAgainstReference(rand, new NaiveConv(3, 1, 28, 28, 32, 5, 5, Conv2dParams.of(1, 2, 1)), "seed conv1");
        // 13x13 outputs: a CPU GEMM takes 3 images at a time, so batch 5 ends with a group of 2.
        checkAgainstReference(rand, new NaiveConv(5, 3, 13, 13, 4, 3, 3, Conv2dParams.of(1, 1, 1)), "image groups");
    }

    @Test
    void matchesNaiveReferenceOnWideAndPaddedGeometries() {
        // Every kernel width with every padding up to kernel - 1, strides and dilations, over row
        // widths that are odd, tiny, or end just before, at or after a power of two (where a CPU
        // GEMM panel boundary cuts an output row): the edges where index arithmetic breaks. Input
        // width 509 with a 3-wide kernel and padding 2 once ran off the array.
        int[] widths = {1, 2, 3, 7, 126, 127, 128, 169, 170, 254, 255, 256, 509, 510, 511, 512, 513};
        Rand rand = new Rand(20261130);
        int checked = 0;
        for (int s = 1; s <= 4; s++) {
            for (int pw = 0; pw < s; pw++) {
                for (int w : widths) {
                    int r = rand.nextInt(1, 4);
                    Conv2dParams prm = new Conv2dParams(rand.nextInt(1, 2), rand.nextInt(1, 2), rand.nextInt(0, r - 1),
                            pw, rand.nextInt(1, 2), rand.nextInt(1, 2));
                    int h = rand.nextInt(1, 5);
                    if (Conv2dParams.outputSize(h, r, prm.strideH(), prm.padH(), prm.dilationH()) < 1
                            || Conv2dParams.outputSize(w, s, prm.strideW(), pw, prm.dilationW()) < 1) {
                        continue;
                    }
                    NaiveConv ref = new NaiveConv(rand.nextInt(1, 2), rand.nextInt(1, 2), h, w, rand.nextInt(1, 2), r, s,
                            prm);
                    checkAgainstReference(rand, ref, "sweep " + prm + " x=(" + ref.n + "," + ref.c + "," + h + "," + w
                            + ") w=(" + ref.k + "," + ref.c + "," + r + "," + s + ")");
                    checked++;
                }
            }
        }
        assertTrue(checked > 100, "only " + checked + " geometries were valid");
    }

    /**
     * ATOL holds for sums of a few hundred products; fp32 rounding grows with the number of terms
     * (worst case terms·2^-24 times the sum of their sizes), and a backend may sum them in one
     * chain (the CPU's Vector API kernels do). So each op's ATOL scales with its reduction length
     * over 250: the seed network's conv2 data gradient (1,600 terms) gets 6.4e-5, a 513-wide
     * filter gradient (5,000 terms) 2e-4, both below the worst case.
     */
    private static double atolFor(int terms) {
        return ATOL * Math.max(1, terms / 250.0);
    }

    private void checkAgainstReference(Rand rand, NaiveConv ref, String what) {
        float[] x = rand.uniform(ref.n * ref.c * ref.h * ref.w, -1, 1);
        float[] wt = rand.uniform(ref.k * ref.c * ref.r * ref.s, -1, 1);
        float[] b = rand.uniform(ref.k, -1, 1);
        float[] dy = rand.uniform(ref.n * ref.k * ref.p * ref.q, -1, 1);
        Tensor tx = t(x, ref.n, ref.c, ref.h, ref.w);
        Tensor tw = t(wt, ref.k, ref.c, ref.r, ref.s);
        Tensor tb = t(b, ref.k);
        Tensor tdy = t(dy, ref.n, ref.k, ref.p, ref.q);
        Tensor y = zeros(ref.n, ref.k, ref.p, ref.q);
        // Stale values in the outputs must be overwritten, not accumulated into.
        backend.fill(y, 7f);
        Tensor dx = zeros(ref.n, ref.c, ref.h, ref.w);
        backend.fill(dx, 7f);
        Tensor dw = zeros(ref.k, ref.c, ref.r, ref.s);
        backend.fill(dw, 7f);
        Tensor db = zeros(ref.k);
        backend.fill(db, 7f);

        backend.conv2dForward(y, tx, tw, tb, ref.prm);
        backend.conv2dBackwardData(dx, tdy, tw, ref.prm);
        backend.conv2dBackwardFilter(dw, tx, tdy, ref.prm, false);
        backend.conv2dBackwardBias(db, tdy, false);

        assertClose(what + " forward", ref.forward(toDouble(x), toDouble(wt), toDouble(b)), get(y),
                atolFor(ref.c * ref.r * ref.s), RTOL);
        assertClose(what + " backwardData", ref.backwardData(toDouble(dy), toDouble(wt)), get(dx),
                atolFor(ref.k * ref.r * ref.s), RTOL);
        assertClose(what + " backwardFilter", ref.backwardFilter(toDouble(x), toDouble(dy)), get(dw),
                atolFor(ref.n * ref.p * ref.q), RTOL);
        assertClose(what + " backwardBias", ref.backwardBias(toDouble(dy)), get(db), ATOL, RTOL);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        // L = Σ dy ⊙ conv(x, w); the reference forward runs in double, so h = 1e-4 is exact to ~1e-8.
        Rand rand = new Rand(77);
        NaiveConv ref = new NaiveConv(2, 3, 6, 5, 4, 3, 2, new Conv2dParams(2, 1, 1, 0, 1, 2));
        float[] x = rand.uniform(ref.n * ref.c * ref.h * ref.w, -1, 1);
        float[] wt = rand.uniform(ref.k * ref.c * ref.r * ref.s, -1, 1);
        float[] dy = rand.uniform(ref.n * ref.k * ref.p * ref.q, -1, 1);
        double[] dyd = toDouble(dy);
        double[] numDx = GradCheck.numeric(xv -> dot(dyd, ref.forward(xv, toDouble(wt), null)), x, 1e-4);
        double[] numDw = GradCheck.numeric(wv -> dot(dyd, ref.forward(toDouble(x), wv, null)), wt, 1e-4);

        Tensor dx = zeros(ref.n, ref.c, ref.h, ref.w);
        Tensor dw = zeros(ref.k, ref.c, ref.r, ref.s);
        Tensor tdy = t(dy, ref.n, ref.k, ref.p, ref.q);
        backend.conv2dBackwardData(dx, tdy, t(wt, ref.k, ref.c, ref.r, ref.s), ref.prm);
        backend.conv2dBackwardFilter(dw, t(x, ref.n, ref.c, ref.h, ref.w), tdy, ref.prm, false);
        assertClose("dx vs finite differences", numDx, get(dx), 1e-5, 1e-4);
        assertClose("dw vs finite differences", numDw, get(dw), 1e-5, 1e-4);
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void shapeMismatchesNameTheOpAndBothShapes() {
        Tensor x = zeros(2, 3, 8, 8);
        Tensor w = zeros(4, 3, 3, 3);
        Tensor y = zeros(2, 4, 7, 7);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.conv2dForward(y, x, w, null, Conv2dParams.of(1, 0, 1)));
        assertTrue(e.getMessage().contains("conv2dForward") && e.getMessage().contains("(2, 4, 6, 6)")
                && e.getMessage().contains("(2, 4, 7, 7)"), e.getMessage());

        Tensor wrongChannels = zeros(4, 2, 3, 3);
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.conv2dForward(y, x, wrongChannels, null, Conv2dParams.of(1, 0, 1)));
        assertTrue(e.getMessage().contains("(2, 3, 8, 8)") && e.getMessage().contains("(4, 2, 3, 3)"), e.getMessage());

        Tensor bigKernel = zeros(4, 3, 9, 9);
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.conv2dForward(y, x, bigKernel, null, Conv2dParams.of(1, 0, 1)));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());

        Tensor badBias = zeros(5);
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.conv2dForward(zeros(2, 4, 6, 6), x, w, badBias, Conv2dParams.of(1, 0, 1)));
        assertTrue(e.getMessage().contains("(4,)") && e.getMessage().contains("(5,)"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> backend.conv2dBackwardFilter(zeros(4, 3, 3, 3), x, zeros(2, 4, 5, 5), Conv2dParams.of(1, 0, 1), false));
        assertTrue(e.getMessage().contains("conv2dBackwardFilter"), e.getMessage());
    }

    @Test
    void filterAndBiasGradientsAccumulateWhenAsked() {
        Rand rand = new Rand(77);
        Conv2dParams p = Conv2dParams.of(1, 1, 1);
        float[] x = rand.uniform(3 * 2 * 6 * 5, -1, 1);
        float[] dy = rand.uniform(3 * 4 * 6 * 5, -1, 1);
        float[] before = rand.uniform(4 * 2 * 3 * 3, -1, 1);
        float[] biasBefore = rand.uniform(4, -1, 1);
        Tensor tx = t(x, 3, 2, 6, 5);
        Tensor tdy = t(dy, 3, 4, 6, 5);
        Tensor fresh = zeros(4, 2, 3, 3);
        backend.conv2dBackwardFilter(fresh, tx, tdy, p, false);
        Tensor freshBias = zeros(4);
        backend.conv2dBackwardBias(freshBias, tdy, false);

        Tensor dw = t(before, 4, 2, 3, 3);
        backend.conv2dBackwardFilter(dw, tx, tdy, p, true);
        Tensor db = t(biasBefore, 4);
        backend.conv2dBackwardBias(db, tdy, true);
        assertClose("dw accumulated", sum(before, get(fresh)), get(dw), ATOL, RTOL);
        assertClose("db accumulated", sum(biasBefore, get(freshBias)), get(db), ATOL, RTOL);

        // Without accumulate, what was there is gone.
        backend.conv2dBackwardFilter(dw, tx, tdy, p, false);
        backend.conv2dBackwardBias(db, tdy, false);
        assertArrayEquals(get(fresh), get(dw));
        assertArrayEquals(get(freshBias), get(db));
    }

    private static double[] sum(float[] a, float[] b) {
        double[] s = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            s[i] = (double) a[i] + b[i];
        }
        return s;
    }
}
