package dev.receptive.backend;

import static dev.receptive.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Tensor;
import dev.receptive.testing.ContractBase;
import dev.receptive.testing.GradCheck;
import dev.receptive.testing.Rand;
import org.junit.jupiter.api.Test;

/** Batch normalization forward (training and inference) and backward, on any backend. */
public abstract class BatchNormContract extends ContractBase {
    // fp32 results of double-precision sums over at most a few hundred values.
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;
    private static final float EPS = 1e-5f;

    @Test
    void handCase() {
        // One channel holding 1, 2, 3, 4 (N = 2, H·W = 2): μ = 2.5, σ² = 1.25, unbiased 5/3.
        Tensor x = t(new float[] {1, 2, 3, 4}, 2, 1, 2, 1);
        Tensor y = zeros(2, 1, 2, 1);
        Tensor gamma = t(new float[] {2}, 1);
        Tensor beta = t(new float[] {0.5f}, 1);
        Tensor runMean = t(new float[] {1}, 1);
        Tensor runVar = t(new float[] {1}, 1);
        Tensor saveMean = zeros(1);
        Tensor saveInvStd = zeros(1);
        backend.batchNormForwardTraining(y, x, gamma, beta, runMean, runVar, saveMean, saveInvStd, 0.1f, EPS);
        double inv = 1 / Math.sqrt(1.25 + EPS);
        assertClose("y", new double[] {2 * -1.5 * inv + 0.5, 2 * -0.5 * inv + 0.5, 2 * 0.5 * inv + 0.5,
            2 * 1.5 * inv + 0.5}, get(y), ATOL, RTOL);
        assertClose("saveMean", new double[] {2.5}, get(saveMean), ATOL, RTOL);
        assertClose("saveInvStd", new double[] {inv}, get(saveInvStd), ATOL, RTOL);
        // PyTorch: running = 0.9·running + 0.1·batch, with the unbiased variance.
        assertClose("runningMean", new double[] {0.9 * 1 + 0.1 * 2.5}, get(runMean), ATOL, RTOL);
        assertClose("runningVar", new double[] {0.9 * 1 + 0.1 * 5.0 / 3}, get(runVar), ATOL, RTOL);

        Tensor yEval = zeros(2, 1, 2, 1);
        backend.batchNormForwardInference(yEval, x, gamma, beta, runMean, runVar, EPS);
        double m = 0.9 + 0.25;
        double s = 1 / Math.sqrt(0.9 + 1.0 / 6 + EPS);
        assertClose("inference y", new double[] {2 * (1 - m) * s + 0.5, 2 * (2 - m) * s + 0.5, 2 * (3 - m) * s + 0.5,
            2 * (4 - m) * s + 0.5}, get(yEval), ATOL, RTOL);
    }

    /** Training forward in double: y per element, saved mean and 1/√(σ² + eps) per channel (eps 1e-5). */
    static double[] reference(double[] x, float[] gamma, float[] beta, int n, int c, int s, double[] mean,
            double[] invStd) {
        double[] y = new double[x.length];
        int m = n * s;
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < s; j++) {
                    sum += x[(i * c + ch) * s + j];
                }
            }
            double mu = sum / m;
            double sq = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < s; j++) {
                    double d = x[(i * c + ch) * s + j] - mu;
                    sq += d * d;
                }
            }
            double inv = 1 / Math.sqrt(sq / m + EPS);
            if (mean != null) {
                mean[ch] = mu;
                invStd[ch] = inv;
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < s; j++) {
                    int k = (i * c + ch) * s + j;
                    y[k] = gamma[ch] * (x[k] - mu) * inv + beta[ch];
                }
            }
        }
        return y;
    }

    @Test
    void matchesTheReferenceAndFiniteDifferences() {
        Rand rand = new Rand(31);
        int[][] shapes = {{3, 4, 5, 3}, {8, 6}, {2, 3, 1, 1}, {5, 2, 4, 4}};
        for (int[] dims : shapes) {
            int n = dims[0];
            int c = dims[1];
            int s = dims.length == 4 ? dims[2] * dims[3] : 1;
            float[] x = rand.uniform(n * c * s, -2, 3);
            float[] gamma = rand.uniform(c, 0.5, 1.5);
            float[] beta = rand.uniform(c, -1, 1);
            float[] dy = rand.uniform(n * c * s, -1, 1);
            Tensor tx = t(x, dims);
            Tensor y = zeros(dims);
            Tensor saveMean = zeros(c);
            Tensor saveInvStd = zeros(c);
            backend.batchNormForwardTraining(y, tx, t(gamma, c), t(beta, c), zeros(c), t(ones(c), c), saveMean,
                    saveInvStd, 0.1f, EPS);
            double[] mean = new double[c];
            double[] inv = new double[c];
            double[] want = reference(toDouble(x), gamma, beta, n, c, s, mean, inv);
            String what = java.util.Arrays.toString(dims);
            assertClose(what + " y", want, get(y), ATOL, RTOL);
            assertClose(what + " saveMean", mean, get(saveMean), ATOL, RTOL);
            assertClose(what + " saveInvStd", inv, get(saveInvStd), ATOL, RTOL);

            Tensor dx = zeros(dims);
            Tensor dGamma = zeros(c);
            Tensor dBeta = zeros(c);
            backend.batchNormBackward(dx, dGamma, dBeta, t(dy, dims), tx, t(gamma, c), saveMean, saveInvStd, EPS, false);
            // L = Σ dy·y; its gradients by central differences of the double reference.
            double[] numDx = GradCheck.numeric(xv -> GradCheck.dot(reference(xv, gamma, beta, n, c, s, null, null), dy),
                    x, 1e-4);
            assertClose(what + " dx", numDx, get(dx), 1e-4, 1e-3);
            double[] numGamma = GradCheck.numeric(g -> GradCheck.dot(reference(toDouble(x), toFloat(g), beta, n, c, s,
                    null, null), dy), gamma, 1e-4);
            double[] numBeta = GradCheck.numeric(b -> GradCheck.dot(reference(toDouble(x), gamma, toFloat(b), n, c, s,
                    null, null), dy), beta, 1e-4);
            assertClose(what + " dGamma", numGamma, get(dGamma), 1e-4, 1e-3);
            assertClose(what + " dBeta", numBeta, get(dBeta), 1e-4, 1e-3);

            // Accumulating adds this call's parameter gradients to what is there; dx is overwritten.
            backend.batchNormBackward(dx, dGamma, dBeta, t(dy, dims), tx, t(gamma, c), saveMean, saveInvStd, EPS, true);
            assertClose(what + " dGamma twice", scale(numGamma, 2), get(dGamma), 2e-4, 1e-3);
            assertClose(what + " dBeta twice", scale(numBeta, 2), get(dBeta), 2e-4, 1e-3);
            assertClose(what + " dx again", numDx, get(dx), 1e-4, 1e-3);
        }
    }

    @Test
    void badArgumentsAreRefusedNamingTheOp() {
        Tensor x = t(new float[8], 2, 2, 2, 1);
        Tensor y = zeros(2, 2, 2, 1);
        Tensor c = zeros(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.batchNormForwardTraining(y, x, c, c, c, c, c, c, 0.1f, 1e-7f));
        assertTrue(e.getMessage().contains("batchNormForwardTraining") && e.getMessage().contains("eps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.batchNormForwardTraining(y, x, c, c, c, c, c, zeros(3), 0.1f, EPS));
        assertTrue(e.getMessage().contains("expected shape (2,) but got (3,)"), e.getMessage());
        Tensor one = t(new float[] {1, 2}, 1, 2);
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.batchNormForwardTraining(zeros(1, 2), one, c, c, c, c, c, c, 0.1f, EPS));
        assertTrue(e.getMessage().contains("at least 2 values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.batchNormForwardTraining(y, x, c, c, c, c, c, c, 1.5f, EPS));
        assertTrue(e.getMessage().contains("momentum"), e.getMessage());
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    private static double[] scale(double[] a, double k) {
        double[] b = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i] * k;
        }
        return b;
    }
}
