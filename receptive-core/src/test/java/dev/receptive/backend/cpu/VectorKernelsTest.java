package dev.receptive.backend.cpu;

import static dev.receptive.testing.Close.assertClose;
import static dev.receptive.testing.Close.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;
import dev.receptive.testing.Rand;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The Vector API kernels against the scalar ones (which the contract suites check against naive
 * references), on geometries the contract's small random cases do not reach: enough channels
 * for the vector convolution, positions that end mid-tile, dilations, padding up to kernel − 1,
 * dense sizes that end mid-tile and mid-block. Also: the same bits on 1 and 3 threads.
 */
class VectorKernelsTest {
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;

    /** The scalar ReLU kernel's result. */
    private static float[] relu(float[] x) {
        float[] y = new float[x.length];
        try (CpuParallel one = new CpuParallel(1)) {
            CpuPointwise.activationForward(one, dev.receptive.backend.Activation.RELU, y, x, x.length);
        }
        return y;
    }

    private static VectorKernels vector() {
        assumeTrue(VectorKernels.load().isPresent(), "this JVM runs the scalar kernels");
        return VectorKernels.load().get();
    }

    @Test
    void convolutionsMatchTheScalarKernels() {
        VectorKernels vk = vector();
        Rand rand = new Rand(20261201);
        int checked = 0;
        try (CpuParallel one = new CpuParallel(1); CpuParallel three = new CpuParallel(3)) {
            CpuConv scalar = new CpuConv(one);
            for (int trial = 0; trial < 40; trial++) {
                int r = rand.nextInt(1, 5);
                int s = rand.nextInt(1, 5);
                // Strides 1 and 2 (ResNets' downsampling): forward and filter gradient at any
                // stride on the vector path, the data gradient at stride 1.
                int stride = trial % 3 == 2 ? 2 : 1;
                Conv2dParams p = new Conv2dParams(stride, stride, rand.nextInt(0, r - 1), rand.nextInt(0, s - 1),
                        rand.nextInt(1, 2), rand.nextInt(1, 2));
                int n = rand.nextInt(1, 11);
                int c = rand.nextInt(8, 20);
                int k = rand.nextInt(8, 40);
                int h = rand.nextInt(1, 20);
                int w = rand.nextInt(1, 40);
                Shape xs = Shape.of(n, c, h, w);
                Shape ws = Shape.of(k, c, r, s);
                int outH = Conv2dParams.outputSize(h, r, stride, p.padH(), p.dilationH());
                int outW = Conv2dParams.outputSize(w, s, stride, p.padW(), p.dilationW());
                if (outH < 1 || outW < 1) {
                    continue;
                }
                Shape ys = Shape.of(n, k, outH, outW);
                String what = "trial " + trial + " x" + xs + " w" + ws + " " + p;
                float[] x = rand.uniform(xs.size(), -1, 1);
                float[] wt = rand.uniform(ws.size(), -1, 1);
                float[] b = rand.uniform(k, -1, 1);
                float[] dy = rand.uniform(ys.size(), -1, 1);
                float[] before = rand.uniform(ws.size(), -1, 1);

                float[] y = new float[ys.size()];
                float[] yRef = new float[ys.size()];
                assertTrue(vk.conv2dForward(three, y, x, wt, b, xs, ws, ys, p, false), what);
                scalar.forward(yRef, x, wt, b, xs, ws, ys, p);
                assertClose(what + " forward", toDouble(yRef), y, atol(c * r * s), RTOL);
                float[] y1 = new float[ys.size()];
                vk.conv2dForward(one, y1, x, wt, b, xs, ws, ys, p, false);
                assertArrayEquals(y1, y, what + " forward, 1 vs 3 threads");
                float[] fused = new float[ys.size()];
                assertTrue(vk.conv2dForward(three, fused, x, wt, b, xs, ws, ys, p, true), what);
                assertArrayEquals(relu(y), fused, what + " forward with the ReLU fused: the bits of the two ops");

                float[] dx = new float[xs.size()];
                float[] dxRef = new float[xs.size()];
                assertEquals(stride == 1, vk.conv2dBackwardData(three, dx, dy, wt, xs, ws, ys, p), what);
                if (stride == 1) {
                    scalar.backwardData(dxRef, dy, wt, xs, ws, ys, p);
                    assertClose(what + " backwardData", toDouble(dxRef), dx, atol(k * r * s), RTOL);
                }

                float[] dw = before.clone();
                float[] dwRef = before.clone();
                assertTrue(vk.conv2dBackwardFilter(three, dw, x, dy, xs, ws, ys, p, true), what);
                scalar.backwardFilter(dwRef, x, dy, xs, ws, ys, p, true);
                assertClose(what + " backwardFilter", toDouble(dwRef), dw, atol(n * outH * outW), RTOL);
                float[] dw1 = before.clone();
                vk.conv2dBackwardFilter(one, dw1, x, dy, xs, ws, ys, p, true);
                assertArrayEquals(dw1, dw, what + " backwardFilter, 1 vs 3 threads");
                checked++;
            }
        }
        assertTrue(checked > 20, "only " + checked + " geometries were valid");
    }

    @Test
    void denseMatchesTheScalarKernels() {
        VectorKernels vk = vector();
        Rand rand = new Rand(77);
        // Sizes that end mid-tile (12 or 6 rows, 2 or 4 vectors of columns) and, past 256 and 512, mid-block;
        // batches and widths that take either tile.
        int[][] sizes = {{1, 1, 1}, {3, 5, 7}, {9, 33, 17}, {17, 300, 70}, {64, 600, 531}, {5, 1030, 40}};
        try (CpuParallel one = new CpuParallel(1); CpuParallel three = new CpuParallel(3)) {
            CpuDense scalar = new CpuDense(one);
            for (int[] size : sizes) {
                int n = size[0];
                int in = size[1];
                int out = size[2];
                String what = "n=" + n + " in=" + in + " out=" + out;
                float[] x = rand.uniform(n * in, -1, 1);
                float[] w = rand.uniform(out * in, -1, 1);
                float[] b = rand.uniform(out, -1, 1);
                float[] dy = rand.uniform(n * out, -1, 1);
                float[] before = rand.uniform(out * in, -1, 1);

                float[] y = new float[n * out];
                float[] yRef = new float[n * out];
                vk.denseForward(three, y, x, w, b, n, in, out, false);
                scalar.forward(yRef, x, w, b, n, in, out);
                assertClose(what + " forward", toDouble(yRef), y, atol(in), RTOL);
                float[] y1 = new float[n * out];
                vk.denseForward(one, y1, x, w, b, n, in, out, false);
                assertArrayEquals(y1, y, what + " forward, 1 vs 3 threads");
                float[] fused = new float[n * out];
                vk.denseForward(three, fused, x, w, b, n, in, out, true);
                assertArrayEquals(relu(y), fused, what + " forward with the ReLU fused: the bits of the two ops");

                float[] dx = new float[n * in];
                float[] dxRef = new float[n * in];
                float[] dw = before.clone();
                float[] dwRef = before.clone();
                float[] db = new float[out];
                float[] dbRef = new float[out];
                vk.denseBackward(three, dx, dw, db, dy, x, w, n, in, out, true);
                scalar.backward(dxRef, dwRef, dbRef, dy, x, w, n, in, out, true);
                assertClose(what + " dx", toDouble(dxRef), dx, atol(out), RTOL);
                assertClose(what + " dw", toDouble(dwRef), dw, atol(n), RTOL);
                assertArrayEquals(dbRef, db, what + " db");
                float[] dx1 = new float[n * in];
                float[] dw1 = before.clone();
                vk.denseBackward(one, dx1, dw1, null, dy, x, w, n, in, out, true);
                assertArrayEquals(dx1, dx, what + " dx, 1 vs 3 threads");
                assertArrayEquals(dw1, dw, what + " dw, 1 vs 3 threads");
            }
        }
    }

    @Test
    void adamGivesTheScalarKernelsBits() {
        VectorKernels vk = vector();
        Rand rand = new Rand(5);
        int n = 1000; // not a whole number of vectors: the tail runs too
        for (AdamParams p : new AdamParams[] {new AdamParams(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, 1),
                new AdamParams(3e-2f, 0.3f, 0.99f, 1e-6f, 0.1f, false, 7), new AdamParams(1e-3f, 0.9f, 0.999f, 1e-8f,
                        0.01f, true, 3)}) {
            float[] w = rand.uniform(n, -1, 1);
            float[] dw = rand.uniform(n, -1, 1);
            float[] m = rand.uniform(n, -0.1, 0.1);
            float[] v = rand.uniform(n, 0, 0.01);
            float[] w2 = w.clone();
            float[] m2 = m.clone();
            float[] v2 = v.clone();
            try (CpuParallel par = new CpuParallel(2)) {
                vk.adamUpdate(par, w, dw, m, v, n, p);
                CpuOptimizers.adam(par, w2, dw, m2, v2, n, p);
            }
            assertArrayEquals(w2, w, p + " w");
            assertArrayEquals(m2, m, p + " m");
            assertArrayEquals(v2, v, p + " v");
        }
    }

    @Test
    void maxPoolBackwardGivesTheScalarKernelsBits() {
        VectorKernels vk = vector();
        Rand rand = new Rand(2026);
        // Rows of fewer windows than half a vector, of more, of a whole number of steps and not;
        // odd heights and widths (an uncovered last row or column); one plane and many.
        int[][] sizes = {{1, 28, 28}, {37, 14, 14}, {5, 7, 7}, {3, 9, 9}, {4, 15, 16}, {6, 16, 15}, {2, 2, 2},
            {3, 4, 34}, {8, 3, 17}, {2, 6, 40}, {9, 5, 11}};
        Pool2dParams p = Pool2dParams.of(2, 2, 0);
        try (CpuParallel one = new CpuParallel(1); CpuParallel three = new CpuParallel(3)) {
            for (int[] size : sizes) {
                Shape xs = Shape.of(1, size[0], size[1], size[2]);
                Shape ys = Shape.of(1, size[0], size[1] / 2, size[2] / 2);
                String what = "x" + xs;
                // Few distinct values, so windows tie; signed zeros and NaNs too.
                float[] x = new float[xs.size()];
                for (int i = 0; i < x.length; i++) {
                    int v = rand.nextInt(0, 99);
                    x[i] = v == 0 ? Float.NaN : v < 15 ? -0f : v < 30 ? 0f : rand.nextInt(-3, 3);
                }
                float[] y = new float[ys.size()];
                CpuPool.forward(one, PoolMode.MAX, y, x, xs, ys, p);
                float[] dy = rand.uniform(ys.size(), -1, 1);
                float[] dx = rand.uniform(xs.size(), -1, 1);
                float[] dxRef = rand.uniform(xs.size(), -1, 1);
                CpuPool.backward(three, PoolMode.MAX, dx, dy, x, y, xs, ys, p, vk);
                CpuPool.backward(one, PoolMode.MAX, dxRef, dy, x, y, xs, ys, p, null);
                assertArrayEquals(dxRef, dx, what);

                // Row by row in the first plane: nothing written past it, which may be another thread's.
                int inSize = size[1] * size[2];
                float[] rows = dx.clone();
                Arrays.fill(rows, inSize, rows.length, 12345f);
                for (int op = 0; op < size[1] / 2; op++) {
                    vk.maxPool2x2BackwardRow(rows, dy, x, y, 2 * op * size[2], op * (size[2] / 2), size[2], size[2] / 2,
                            inSize);
                }
                for (int i = inSize; i < rows.length; i++) {
                    assertEquals(12345f, rows[i], what + ": dx[" + i + "] is past the first plane");
                }

                // A y that is no input of its window (one without NaN: a NaN would take the gradient).
                int bad = 0;
                while (bad < y.length && Float.isNaN(y[bad])) {
                    bad++;
                }
                if (bad < y.length) {
                    y[bad] = 100f;
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> CpuPool.backward(three, PoolMode.MAX, dx, dy, x, y, xs, ys, p, vk), what);
                    assertTrue(e.getMessage().contains("not the maximum of its window"), e.getMessage());
                }
            }
        }
    }

    /** The contract's length-scaled tolerance: both sides round, each in its own order. */
    private static double atol(int terms) {
        return ATOL * Math.max(1, terms / 250.0);
    }
}
