package dev.receptive.backend;

import static dev.receptive.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.testing.ContractBase;
import dev.receptive.testing.GradCheck;
import dev.receptive.testing.Rand;
import dev.receptive.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Dense (fully connected) forward and backward, on any backend. */
public abstract class DenseContract extends ContractBase {
    // fp32 sums of up to ~3,000 products of values in [-1, 1] against a double reference.
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;

    @Test
    void handCase() {
        // x = [[1, 2]], w = [[1, 1], [2, -1], [0, 3]], b = [0.5, 0, -1]: y = [3.5, 0, 5]
        Tensor x = t(new float[] {1, 2}, 1, 2);
        Tensor w = t(new float[] {1, 1, 2, -1, 0, 3}, 3, 2);
        Tensor y = zeros(1, 3);
        backend.denseForward(y, x, w, t(new float[] {0.5f, 0, -1}, 3));
        assertArrayEquals(new float[] {3.5f, 0, 5}, get(y));

        Tensor dy = t(new float[] {1, 2, 3}, 1, 3);
        Tensor dx = zeros(1, 2);
        Tensor dw = zeros(3, 2);
        Tensor db = zeros(3);
        backend.denseBackward(dx, dw, db, dy, x, w, false);
        assertArrayEquals(new float[] {1 + 4, 1 - 2 + 9}, get(dx));
        assertArrayEquals(new float[] {1, 2, 2, 4, 3, 6}, get(dw));
        assertArrayEquals(new float[] {1, 2, 3}, get(db));
    }

    @Test
    void matchesNaiveReference() {
        Rand rand = new Rand(11);
        int[][] sizes = {{1, 1, 1}, {3, 7, 5}, {5, 33, 17}, {64, 600, 70}, {2, 1100, 530}, {4, 3136, 10}};
        for (int[] sz : sizes) {
            int n = sz[0];
            int in = sz[1];
            int out = sz[2];
            float[] x = rand.uniform(n * in, -1, 1);
            float[] w = rand.uniform(out * in, -1, 1);
            float[] b = rand.uniform(out, -1, 1);
            float[] dy = rand.uniform(n * out, -1, 1);
            double[] y = new double[n * out];
            double[] dx = new double[n * in];
            double[] dw = new double[out * in];
            double[] db = new double[out];
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < out; o++) {
                    double s = b[o];
                    for (int j = 0; j < in; j++) {
                        s += (double) x[i * in + j] * w[o * in + j];
                        dx[i * in + j] += (double) dy[i * out + o] * w[o * in + j];
                        dw[o * in + j] += (double) dy[i * out + o] * x[i * in + j];
                    }
                    y[i * out + o] = s;
                    db[o] += dy[i * out + o];
                }
            }
            Tensor tx = t(x, n, in);
            Tensor tw = t(w, out, in);
            Tensor ty = zeros(n, out);
            backend.denseForward(ty, tx, tw, t(b, out));
            Tensor tdx = zeros(n, in);
            Tensor tdw = zeros(out, in);
            Tensor tdb = zeros(out);
            backend.fill(tdw, 3f);
            backend.denseBackward(tdx, tdw, tdb, t(dy, n, out), tx, tw, false);
            String what = "dense n=" + n + " in=" + in + " out=" + out;
            assertClose(what + " y", y, get(ty), ATOL, RTOL);
            assertClose(what + " dx", dx, get(tdx), ATOL, RTOL);
            assertClose(what + " dw", dw, get(tdw), ATOL, RTOL);
            assertClose(what + " db", db, get(tdb), ATOL, RTOL);
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesAndInputsMayBeImages() {
        // x is (N, C, H, W) = (2, 2, 2, 3): dense flattens each item, as after a Flatten layer.
        Rand rand = new Rand(3);
        int n = 2;
        int in = 12;
        int out = 4;
        float[] x = rand.uniform(n * in, -1, 1);
        float[] w = rand.uniform(out * in, -1, 1);
        float[] dy = rand.uniform(n * out, -1, 1);
        double[] numDx = GradCheck.numeric(xv -> loss(xv, toDoubleArray(w), dy, n, in, out), x, 1e-4);
        double[] numDw = GradCheck.numeric(wv -> loss(toDoubleArray(x), wv, dy, n, in, out), w, 1e-4);
        Tensor tx = t(x, n, 2, 2, 3);
        Tensor tdx = zeros(n, 2, 2, 3);
        Tensor tdw = zeros(out, in);
        backend.denseBackward(tdx, tdw, null, t(dy, n, out), tx, t(w, out, in), false);
        assertClose("dx vs finite differences", numDx, get(tdx), 1e-6, 1e-5);
        assertClose("dw vs finite differences", numDw, get(tdw), 1e-6, 1e-5);
    }

    private static double[] toDoubleArray(float[] a) {
        return dev.receptive.testing.Close.toDouble(a);
    }

    private static double loss(double[] x, double[] w, float[] dy, int n, int in, int out) {
        double l = 0;
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int j = 0; j < in; j++) {
                    s += x[i * in + j] * w[o * in + j];
                }
                l += dy[i * out + o] * s;
            }
        }
        return l;
    }

    @Test
    void shapeMismatchesNameTheOpAndBothShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.denseForward(zeros(2, 3), zeros(2, 5), zeros(3, 4), null));
        assertTrue(e.getMessage().contains("denseForward") && e.getMessage().contains("(3, 5)")
                && e.getMessage().contains("(3, 4)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.denseBackward(null, zeros(3, 4), null, zeros(2, 2), zeros(2, 4), zeros(3, 4), false));
        assertTrue(e.getMessage().contains("denseBackward") && e.getMessage().contains("(2, 3)"), e.getMessage());
    }

    @Test
    void weightAndBiasGradientsAccumulateWhenAskedAndDxIsOverwritten() {
        Rand rand = new Rand(78);
        int n = 5;
        int in = 37;
        int out = 9;
        Tensor x = t(rand.uniform(n * in, -1, 1), n, in);
        Tensor w = t(rand.uniform(out * in, -1, 1), out, in);
        Tensor dy = t(rand.uniform(n * out, -1, 1), n, out);
        Tensor freshDx = zeros(n, in);
        Tensor freshDw = zeros(out, in);
        Tensor freshDb = zeros(out);
        backend.denseBackward(freshDx, freshDw, freshDb, dy, x, w, false);

        float[] dwBefore = rand.uniform(out * in, -1, 1);
        float[] dbBefore = rand.uniform(out, -1, 1);
        Tensor dx = t(rand.uniform(n * in, -1, 1), n, in);
        Tensor dw = t(dwBefore, out, in);
        Tensor db = t(dbBefore, out);
        backend.denseBackward(dx, dw, db, dy, x, w, true);
        assertArrayEquals(get(freshDx), get(dx), "dx is overwritten even when accumulating");
        float[] fdw = get(freshDw);
        float[] fdb = get(freshDb);
        double[] wantDw = new double[fdw.length];
        for (int i = 0; i < fdw.length; i++) {
            wantDw[i] = (double) dwBefore[i] + fdw[i];
        }
        double[] wantDb = new double[fdb.length];
        for (int i = 0; i < fdb.length; i++) {
            wantDb[i] = (double) dbBefore[i] + fdb[i];
        }
        assertClose("dw accumulated", wantDw, get(dw), ATOL, RTOL);
        assertClose("db accumulated", wantDb, get(db), ATOL, RTOL);
    }
}
