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

/**
 * The fused ops (a convolution or dense layer with its bias, or batch norm, and the ReLU after
 * it; batch norm, the add of a residual shortcut and the ReLU; forward and backward) against the
 * ops they fuse, on any backend, and the gradients of the convolution's, the dense layer's and
 * the residual tail's against finite differences of a double reference.
 */
public abstract class FusedContract extends ContractBase {
    // Fused and unfused compute the same fp32 operations on the CPU (the bits are equal there);
    // another backend may order a fused sum differently: the convolution contract's tolerance.
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;

    /** n, c, h, w, k, r, s, stride, pad: the scalar path, the vector path (≥ 8 channels), stride 2, 1×1. */
    private static final int[][] CONVS = {
        {3, 3, 9, 8, 5, 3, 3, 1, 1},
        {4, 16, 10, 10, 32, 3, 3, 1, 1},
        {2, 16, 9, 9, 16, 3, 3, 2, 1},
        {3, 16, 8, 8, 24, 1, 1, 2, 0},
        {1, 1, 12, 12, 32, 5, 5, 1, 2},
    };

    @Test
    void convBiasReluEqualsTheOpsItFuses() {
        Rand rand = new Rand(24);
        for (int[] g : CONVS) {
            for (boolean bias : new boolean[] {true, false}) {
                NaiveConv ref = new NaiveConv(g[0], g[1], g[2], g[3], g[4], g[5], g[6],
                        new Conv2dParams(g[7], g[7], g[8], g[8], 1, 1));
                String what = java.util.Arrays.toString(g) + (bias ? " with bias" : " without bias");
                Tensor x = t(rand.uniform(ref.n * ref.c * ref.h * ref.w, -1, 1), ref.n, ref.c, ref.h, ref.w);
                Tensor w = t(rand.uniform(ref.k * ref.c * ref.r * ref.s, -1, 1), ref.k, ref.c, ref.r, ref.s);
                Tensor b = bias ? t(rand.uniform(ref.k, -1, 1), ref.k) : null;
                Tensor dy = t(rand.uniform(ref.n * ref.k * ref.p * ref.q, -1, 1), ref.n, ref.k, ref.p, ref.q);

                Tensor y = zeros(ref.n, ref.k, ref.p, ref.q);
                backend.conv2dForward(y, x, w, b, ref.prm);
                backend.activationForward(Activation.RELU, y, y);
                Tensor fused = zeros(ref.n, ref.k, ref.p, ref.q);
                backend.conv2dBiasReluForward(fused, x, w, b, ref.prm);
                assertClose(what + " forward", get(y), get(fused), ATOL, RTOL);

                float[] dw0 = rand.uniform(ref.k * ref.c * ref.r * ref.s, -1, 1);
                float[] db0 = rand.uniform(ref.k, -1, 1);
                Tensor dz = zeros(ref.n, ref.k, ref.p, ref.q);
                Tensor dx = zeros(ref.n, ref.c, ref.h, ref.w);
                Tensor dw = t(dw0, ref.k, ref.c, ref.r, ref.s);
                Tensor db = t(db0, ref.k);
                backend.activationBackward(Activation.RELU, dz, dy, y);
                backend.conv2dBackwardData(dx, dz, w, ref.prm);
                backend.conv2dBackwardFilter(dw, x, dz, ref.prm, true);
                backend.conv2dBackwardBias(db, dz, true);

                Tensor fdz = zeros(ref.n, ref.k, ref.p, ref.q);
                Tensor fdx = zeros(ref.n, ref.c, ref.h, ref.w);
                Tensor fdw = t(dw0, ref.k, ref.c, ref.r, ref.s);
                Tensor fdb = t(db0, ref.k);
                backend.conv2dBiasReluBackward(fdx, fdw, bias ? fdb : null, fdz, dy, x, w, fused, ref.prm);
                assertClose(what + " dz", get(dz), get(fdz), ATOL, RTOL);
                assertClose(what + " dx", get(dx), get(fdx), ATOL, RTOL);
                assertClose(what + " dw (added to)", get(dw), get(fdw), ATOL, RTOL);
                assertClose(what + " db (added to)", bias ? get(db) : db0, get(fdb), ATOL, RTOL);
            }
        }
    }

    @Test
    void convBiasReluGradientsMatchFiniteDifferences() {
        NaiveConv ref = new NaiveConv(2, 3, 6, 5, 4, 3, 3, new Conv2dParams(2, 1, 1, 1, 1, 1));
        Rand rand = new Rand(7);
        float[] x = rand.uniform(ref.n * ref.c * ref.h * ref.w, -1, 1);
        float[] wt = rand.uniform(ref.k * ref.c * ref.r * ref.s, -1, 1);
        float[] b = rand.uniform(ref.k, -1, 1);
        // Away from the ReLU's kink: every pre-activation at least 0.05 from 0 (h moves them < 0.01).
        double[] z = ref.forward(toDouble(x), toDouble(wt), toDouble(b));
        for (int tries = 0; minAbs(z) < 0.05; tries++) {
            assertTrue(tries < 1000, "no draw away from the kink");
            b = rand.uniform(ref.k, -1, 1);
            x = rand.uniform(x.length, -1, 1);
            z = ref.forward(toDouble(x), toDouble(wt), toDouble(b));
        }
        float[] dy = rand.uniform(z.length, -1, 1);
        double[] dyd = toDouble(dy);
        float[] xf = x;
        float[] bf = b;
        double[] numDx = GradCheck.numeric(v -> dot(dyd, relu(ref.forward(v, toDouble(wt), toDouble(bf)))), x, 1e-4);
        double[] numDw = GradCheck.numeric(v -> dot(dyd, relu(ref.forward(toDouble(xf), v, toDouble(bf)))), wt, 1e-4);
        double[] numDb = GradCheck.numeric(v -> dot(dyd, relu(ref.forward(toDouble(xf), toDouble(wt), v))), b, 1e-4);

        Tensor tx = t(x, ref.n, ref.c, ref.h, ref.w);
        Tensor tw = t(wt, ref.k, ref.c, ref.r, ref.s);
        Tensor y = zeros(ref.n, ref.k, ref.p, ref.q);
        backend.conv2dBiasReluForward(y, tx, tw, t(b, ref.k), ref.prm);
        Tensor dx = zeros(ref.n, ref.c, ref.h, ref.w);
        Tensor dw = zeros(ref.k, ref.c, ref.r, ref.s);
        Tensor db = zeros(ref.k);
        Tensor tdy = t(dy, ref.n, ref.k, ref.p, ref.q);
        // dz may be dy itself
        backend.conv2dBiasReluBackward(dx, dw, db, tdy, tdy, tx, tw, y, ref.prm);
        assertClose("dx vs finite differences", numDx, get(dx), 1e-5, 1e-4);
        assertClose("dw vs finite differences", numDw, get(dw), 1e-5, 1e-4);
        assertClose("db vs finite differences", numDb, get(db), 1e-5, 1e-4);
    }

    @Test
    void denseBiasReluEqualsTheOpsItFusesAndMatchesFiniteDifferences() {
        Rand rand = new Rand(25);
        int[][] sizes = {{1, 7, 5}, {3, 33, 17}, {64, 300, 70}, {5, 3136, 10}};
        for (int[] sz : sizes) {
            int n = sz[0];
            int in = sz[1];
            int out = sz[2];
            String what = n + " × " + in + " → " + out;
            Tensor x = t(rand.uniform(n * in, -1, 1), n, in);
            Tensor w = t(rand.uniform(out * in, -1, 1), out, in);
            Tensor b = t(rand.uniform(out, -1, 1), out);
            Tensor dy = t(rand.uniform(n * out, -1, 1), n, out);
            Tensor y = zeros(n, out);
            backend.denseForward(y, x, w, b);
            backend.activationForward(Activation.RELU, y, y);
            Tensor fused = zeros(n, out);
            backend.denseBiasReluForward(fused, x, w, b);
            assertClose(what + " forward", get(y), get(fused), ATOL, RTOL);

            float[] dw0 = rand.uniform(out * in, -1, 1);
            float[] db0 = rand.uniform(out, -1, 1);
            Tensor dz = zeros(n, out);
            Tensor dx = zeros(n, in);
            Tensor dw = t(dw0, out, in);
            Tensor db = t(db0, out);
            backend.activationBackward(Activation.RELU, dz, dy, y);
            backend.denseBackward(dx, dw, db, dz, x, w, true);
            Tensor fdz = zeros(n, out);
            Tensor fdx = zeros(n, in);
            Tensor fdw = t(dw0, out, in);
            Tensor fdb = t(db0, out);
            backend.denseBiasReluBackward(fdx, fdw, fdb, fdz, dy, x, w, fused);
            assertClose(what + " dz", get(dz), get(fdz), ATOL, RTOL);
            assertClose(what + " dx", get(dx), get(fdx), ATOL, RTOL);
            assertClose(what + " dw (added to)", get(dw), get(fdw), ATOL, RTOL);
            assertClose(what + " db (added to)", get(db), get(fdb), ATOL, RTOL);
        }

        // y = relu(x·wᵀ + b) by hand: x = [[1, 2]], w = [[1, 1], [2, -1], [0, 3]], b = [0.5, 0, -1]:
        // pre-activation [3.5, 0, 5]; dy = [1, 2, 3] passes where y > 0 (the 0 blocks it).
        Tensor x = t(new float[] {1, 2}, 1, 2);
        Tensor w = t(new float[] {1, 1, 2, -1, 0, 3}, 3, 2);
        Tensor y = zeros(1, 3);
        backend.denseBiasReluForward(y, x, w, t(new float[] {0.5f, -0.25f, -1}, 3));
        assertArrayEquals(new float[] {3.5f, 0, 5}, get(y));
        Tensor dx = zeros(1, 2);
        Tensor dw = zeros(3, 2);
        Tensor db = zeros(3);
        Tensor dz = zeros(1, 3);
        backend.denseBiasReluBackward(dx, dw, db, dz, t(new float[] {1, 2, 3}, 1, 3), x, w, y);
        assertArrayEquals(new float[] {1, 0, 3}, get(dz));
        assertArrayEquals(new float[] {1, 1 + 9}, get(dx));
        assertArrayEquals(new float[] {1, 2, 0, 0, 3, 6}, get(dw));
        assertArrayEquals(new float[] {1, 0, 3}, get(db));
    }

    @Test
    void batchNormReluEqualsTheOpsItFuses() {
        Rand rand = new Rand(26);
        int[][] shapes = {{4, 3, 5, 5}, {7, 16, 6, 6}, {6, 10}};
        for (int[] dims : shapes) {
            int c = dims[1];
            int size = 1;
            for (int d : dims) {
                size *= d;
            }
            String what = java.util.Arrays.toString(dims);
            Tensor x = t(rand.uniform(size, -2, 2), dims);
            Tensor gamma = t(rand.uniform(c, 0.5, 1.5), c);
            Tensor beta = t(rand.uniform(c, -0.5, 0.5), c);
            float[] mean0 = rand.uniform(c, -0.1, 0.1);
            float[] var0 = rand.uniform(c, 0.5, 1.5);
            Tensor dy = t(rand.uniform(size, -1, 1), dims);

            Tensor y = zeros(dims);
            Tensor rm = t(mean0, c);
            Tensor rv = t(var0, c);
            Tensor sm = zeros(c);
            Tensor si = zeros(c);
            backend.batchNormForwardTraining(y, x, gamma, beta, rm, rv, sm, si, 0.1f, 1e-5f);
            backend.activationForward(Activation.RELU, y, y);
            Tensor fy = zeros(dims);
            Tensor frm = t(mean0, c);
            Tensor frv = t(var0, c);
            Tensor fsm = zeros(c);
            Tensor fsi = zeros(c);
            backend.batchNormReluForwardTraining(fy, x, gamma, beta, frm, frv, fsm, fsi, 0.1f, 1e-5f);
            assertClose(what + " training forward", get(y), get(fy), ATOL, RTOL);
            assertClose(what + " running mean", get(rm), get(frm), ATOL, RTOL);
            assertClose(what + " running variance", get(rv), get(frv), ATOL, RTOL);

            Tensor yi = zeros(dims);
            backend.batchNormForwardInference(yi, x, gamma, beta, rm, rv, 1e-5f);
            backend.activationForward(Activation.RELU, yi, yi);
            Tensor fyi = zeros(dims);
            backend.batchNormReluForwardInference(fyi, x, gamma, beta, rm, rv, 1e-5f);
            assertClose(what + " inference forward", get(yi), get(fyi), ATOL, RTOL);

            float[] dg0 = rand.uniform(c, -1, 1);
            float[] db0 = rand.uniform(c, -1, 1);
            Tensor dz = zeros(dims);
            Tensor dx = zeros(dims);
            Tensor dg = t(dg0, c);
            Tensor db = t(db0, c);
            backend.activationBackward(Activation.RELU, dz, dy, y);
            backend.batchNormBackward(dx, dg, db, dz, x, gamma, sm, si, 1e-5f, true);
            Tensor fdz = zeros(dims);
            Tensor fdx = zeros(dims);
            Tensor fdg = t(dg0, c);
            Tensor fdb = t(db0, c);
            backend.batchNormReluBackward(fdx, fdg, fdb, fdz, dy, x, fy, gamma, fsm, fsi, 1e-5f);
            assertClose(what + " dz", get(dz), get(fdz), ATOL, RTOL);
            assertClose(what + " dx", get(dx), get(fdx), ATOL, RTOL);
            assertClose(what + " dGamma (added to)", get(dg), get(fdg), ATOL, RTOL);
            assertClose(what + " dBeta (added to)", get(db), get(fdb), ATOL, RTOL);
        }
    }

    @Test
    void batchNormAddReluEqualsTheOpsItFuses() {
        Rand rand = new Rand(27);
        int[][] shapes = {{4, 3, 5, 5}, {7, 16, 6, 6}, {6, 10}, {3, 64, 7, 7}};
        for (int[] dims : shapes) {
            int c = dims[1];
            int size = 1;
            for (int d : dims) {
                size *= d;
            }
            String what = java.util.Arrays.toString(dims);
            Tensor x = t(rand.uniform(size, -2, 2), dims);
            Tensor shortcut = t(rand.uniform(size, -1, 1), dims);
            Tensor gamma = t(rand.uniform(c, 0.5, 1.5), c);
            Tensor beta = t(rand.uniform(c, -0.5, 0.5), c);
            float[] mean0 = rand.uniform(c, -0.1, 0.1);
            float[] var0 = rand.uniform(c, 0.5, 1.5);
            Tensor dy = t(rand.uniform(size, -1, 1), dims);

            Tensor y = zeros(dims);
            Tensor rm = t(mean0, c);
            Tensor rv = t(var0, c);
            Tensor sm = zeros(c);
            Tensor si = zeros(c);
            backend.batchNormForwardTraining(y, x, gamma, beta, rm, rv, sm, si, 0.1f, 1e-5f);
            backend.add(y, y, shortcut);
            backend.activationForward(Activation.RELU, y, y);
            Tensor fy = zeros(dims);
            Tensor frm = t(mean0, c);
            Tensor frv = t(var0, c);
            Tensor fsm = zeros(c);
            Tensor fsi = zeros(c);
            backend.batchNormAddReluForwardTraining(fy, x, shortcut, gamma, beta, frm, frv, fsm, fsi, 0.1f, 1e-5f);
            assertClose(what + " training forward", get(y), get(fy), ATOL, RTOL);
            assertClose(what + " running mean", get(rm), get(frm), ATOL, RTOL);
            assertClose(what + " running variance", get(rv), get(frv), ATOL, RTOL);
            assertClose(what + " saved mean", get(sm), get(fsm), ATOL, RTOL);
            assertClose(what + " saved 1/std", get(si), get(fsi), ATOL, RTOL);

            Tensor yi = zeros(dims);
            backend.batchNormForwardInference(yi, x, gamma, beta, rm, rv, 1e-5f);
            backend.add(yi, yi, shortcut);
            backend.activationForward(Activation.RELU, yi, yi);
            Tensor fyi = zeros(dims);
            backend.batchNormAddReluForwardInference(fyi, x, shortcut, gamma, beta, rm, rv, 1e-5f);
            assertClose(what + " inference forward", get(yi), get(fyi), ATOL, RTOL);

            // The unfused backward: the ReLU's, the add's (dy to both inputs), batch norm's.
            float[] dg0 = rand.uniform(c, -1, 1);
            float[] db0 = rand.uniform(c, -1, 1);
            Tensor dz = zeros(dims);
            Tensor dx = zeros(dims);
            Tensor dg = t(dg0, c);
            Tensor db = t(db0, c);
            backend.activationBackward(Activation.RELU, dz, dy, y);
            backend.batchNormBackward(dx, dg, db, dz, x, gamma, sm, si, 1e-5f, true);
            Tensor fdz = zeros(dims);
            Tensor fdx = zeros(dims);
            Tensor fdg = t(dg0, c);
            Tensor fdb = t(db0, c);
            backend.batchNormReluBackward(fdx, fdg, fdb, fdz, dy, x, fy, gamma, fsm, fsi, 1e-5f);
            assertClose(what + " dz (the shortcut's gradient)", get(dz), get(fdz), ATOL, RTOL);
            assertClose(what + " dx", get(dx), get(fdx), ATOL, RTOL);
            assertClose(what + " dGamma (added to)", get(dg), get(fdg), ATOL, RTOL);
            assertClose(what + " dBeta (added to)", get(db), get(fdb), ATOL, RTOL);
        }
    }

    @Test
    void batchNormAddReluGradientsMatchFiniteDifferences() {
        int n = 3;
        int c = 4;
        int s = 6;
        int size = n * c * s;
        Rand rand = new Rand(28);
        float[] x = rand.uniform(size, -2, 2);
        float[] gamma = rand.uniform(c, 0.5, 1.5);
        float[] beta = rand.uniform(c, -0.5, 0.5);
        // Away from the ReLU's kink: every bn(x) + shortcut at least 0.05 from 0 (h = 1e-4 moves it < 0.01).
        double[] bn = BatchNormContract.reference(toDouble(x), gamma, beta, n, c, s, null, null);
        float[] sc = rand.uniform(size, -1, 1);
        for (int tries = 0; minAbs(add(bn, toDouble(sc))) < 0.05; tries++) {
            assertTrue(tries < 10000, "no draw away from the kink");
            sc = rand.uniform(size, -1, 1);
        }
        float[] shortcut = sc;
        double[] dy = toDouble(rand.uniform(size, -1, 1));
        double[] numDx = GradCheck.numeric(v -> dot(dy, relu(add(BatchNormContract.reference(v, gamma, beta, n, c, s,
                null, null), toDouble(shortcut)))), x, 1e-4);
        double[] numDs = GradCheck.numeric(v -> dot(dy, relu(add(bn, v))), shortcut, 1e-4);
        double[] numDg = GradCheck.numeric(v -> dot(dy, relu(add(BatchNormContract.reference(toDouble(x), toFloat(v),
                beta, n, c, s, null, null), toDouble(shortcut)))), gamma, 1e-4);
        double[] numDb = GradCheck.numeric(v -> dot(dy, relu(add(BatchNormContract.reference(toDouble(x), gamma,
                toFloat(v), n, c, s, null, null), toDouble(shortcut)))), beta, 1e-4);

        int[] dims = {n, c, 2, 3};
        Tensor tx = t(x, dims);
        Tensor tg = t(gamma, c);
        Tensor y = zeros(dims);
        Tensor sm = zeros(c);
        Tensor si = zeros(c);
        backend.batchNormAddReluForwardTraining(y, tx, t(shortcut, dims), tg, t(beta, c), zeros(c), t(ones(c), c), sm,
                si, 0.1f, 1e-5f);
        assertClose("y", relu(add(bn, toDouble(shortcut))), get(y), ATOL, RTOL);
        Tensor dx = zeros(dims);
        Tensor dg = zeros(c);
        Tensor db = zeros(c);
        Tensor tdy = t(toFloat(dy), dims);
        // dz may be dy itself
        backend.batchNormReluBackward(dx, dg, db, tdy, tdy, tx, y, tg, sm, si, 1e-5f);
        // The batch norm contract's finite-difference tolerances (its backward sums in fp32 outputs).
        assertClose("dx vs finite differences", numDx, get(dx), 1e-4, 1e-3);
        assertClose("dz = shortcut gradient vs finite differences", numDs, get(tdy), 1e-4, 1e-3);
        assertClose("dGamma vs finite differences", numDg, get(dg), 1e-4, 1e-3);
        assertClose("dBeta vs finite differences", numDb, get(db), 1e-4, 1e-3);
    }

    @Test
    void batchNormAddReluByHand() {
        // One channel, x = [1, 3]: mean 2, variance 1, x̂ = [-1, 1] (eps 1e-5 moves it by 5e-6);
        // gamma 2, beta 0.5: bn = [-1.5, 2.5]; shortcut [1, -3]: sum [-0.5, -0.5] → y = [0, 0];
        // shortcut [2, -2]: sum [0.5, 0.5] → y = [0.5, 0.5].
        Tensor x = t(new float[] {1, 3}, 2, 1);
        Tensor y = zeros(2, 1);
        backend.batchNormAddReluForwardTraining(y, x, t(new float[] {1, -3}, 2, 1), t(new float[] {2}, 1),
                t(new float[] {0.5f}, 1), zeros(1), t(new float[] {1}, 1), zeros(1), zeros(1), 0.1f, 1e-5f);
        assertArrayEquals(new float[] {0, 0}, get(y));
        backend.batchNormAddReluForwardTraining(y, x, t(new float[] {2, -2}, 2, 1), t(new float[] {2}, 1),
                t(new float[] {0.5f}, 1), zeros(1), t(new float[] {1}, 1), zeros(1), zeros(1), 0.1f, 1e-5f);
        assertClose("y", new double[] {0.5, 0.5}, get(y), 1e-4, 0);
    }

    @Test
    void wrongShapesNameTheFusedOp() {
        Tensor x = zeros(1, 2, 4, 4);
        Tensor w = zeros(3, 2, 3, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.conv2dBiasReluForward(zeros(1, 3, 4, 4), x, w, null, new Conv2dParams(1, 1, 0, 0, 1, 1)));
        assertTrue(e.getMessage().contains("conv2dBiasReluForward"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.denseBiasReluForward(zeros(1, 4), zeros(1, 5), zeros(3, 5), null));
        assertTrue(e.getMessage().contains("denseBiasReluForward"), e.getMessage());
        Tensor bx = zeros(2, 3, 2, 2);
        Tensor c3 = zeros(3);
        e = assertThrows(IllegalArgumentException.class, () -> backend.batchNormAddReluForwardTraining(zeros(2, 3, 2, 2),
                bx, zeros(2, 3, 2, 1), c3, c3, c3, c3, c3, c3, 0.1f, 1e-5f));
        assertTrue(e.getMessage().contains("batchNormAddReluForwardTraining") && e.getMessage().contains("shortcut"),
                e.getMessage());
        Tensor sc = zeros(2, 3, 2, 2);
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.batchNormAddReluForwardInference(sc, bx, sc, c3, c3, c3, c3, 1e-5f));
        assertTrue(e.getMessage().contains("batchNormAddReluForwardInference"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> backend.batchNormReluBackward(zeros(2, 3, 2, 2), c3, c3,
                zeros(2, 3, 2, 2), zeros(2, 3, 2, 2), bx, zeros(2, 3, 4), c3, c3, c3, 1e-5f));
        assertTrue(e.getMessage().contains("batchNormReluBackward"), e.getMessage());
    }

    private static double minAbs(double[] a) {
        double m = Double.POSITIVE_INFINITY;
        for (double v : a) {
            m = Math.min(m, Math.abs(v));
        }
        return m;
    }

    private static double[] add(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] + b[i];
        }
        return r;
    }

    private static float[] toFloat(double[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = (float) a[i];
        }
        return r;
    }

    private static float[] ones(int n) {
        float[] r = new float[n];
        java.util.Arrays.fill(r, 1f);
        return r;
    }

    private static double[] relu(double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.max(a[i], 0);
        }
        return r;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
