package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.ContractBase;
import dev.receptive.testing.Rand;
import org.junit.jupiter.api.Test;

/**
 * SGD and Adam/AdamW steps: hand cases, then several steps against the textbook formulas in
 * double. The backend works in float32, a few roundings per element, so 1e-6 relative with a
 * 1e-7 absolute term for entries near 0 (the state is of order 1).
 */
public abstract class OptimizerContract extends ContractBase {
    private static final double RTOL = 1e-6;
    private static final double ATOL = 1e-7;

    // ---- SGD ----------------------------------------------------------------------------

    @Test
    void plainSgdStep() {
        // w − 0.1·dw
        Tensor w = t(new float[] {1, -2, 0.5f}, 3);
        backend.sgdUpdate(w, t(new float[] {0.5f, 0.25f, -1}, 3), null, new SgdParams(0.1f, 0, 0, false));
        Close.assertClose("w", new double[] {0.95, -2.025, 0.6}, get(w), ATOL, RTOL);
    }

    @Test
    void momentumOverTwoSteps() {
        // Step 1: v = g1 = [0.5, 0.25]; w = [1, −2] − 0.1·v = [0.95, −2.025].
        // Step 2: v = 0.9·v + g2 = [−0.55, 0.725]; w = [1.005, −2.0975].
        Tensor w = t(new float[] {1, -2}, 2);
        Tensor v = zeros(2);
        SgdParams p = new SgdParams(0.1f, 0.9f, 0, false);
        backend.sgdUpdate(w, t(new float[] {0.5f, 0.25f}, 2), v, p);
        Close.assertClose("w after step 1", new double[] {0.95, -2.025}, get(w), ATOL, RTOL);
        Close.assertClose("v after step 1", new double[] {0.5, 0.25}, get(v), ATOL, RTOL);
        backend.sgdUpdate(w, t(new float[] {-1, 0.5f}, 2), v, p);
        Close.assertClose("w after step 2", new double[] {1.005, -2.0975}, get(w), ATOL, RTOL);
        Close.assertClose("v after step 2", new double[] {-0.55, 0.725}, get(v), ATOL, RTOL);
    }

    @Test
    void nesterovOverTwoSteps() {
        // Step 1: v = g1; d = g1 + 0.9·v = [0.95, 0.475]; w = [0.905, −2.0475].
        // Step 2: v = [−0.55, 0.725]; d = g2 + 0.9·v = [−1.495, 1.1525]; w = [1.0545, −2.16275].
        Tensor w = t(new float[] {1, -2}, 2);
        Tensor v = zeros(2);
        SgdParams p = new SgdParams(0.1f, 0.9f, 0, true);
        backend.sgdUpdate(w, t(new float[] {0.5f, 0.25f}, 2), v, p);
        Close.assertClose("w after step 1", new double[] {0.905, -2.0475}, get(w), ATOL, RTOL);
        backend.sgdUpdate(w, t(new float[] {-1, 0.5f}, 2), v, p);
        Close.assertClose("w after step 2", new double[] {1.0545, -2.16275}, get(w), ATOL, RTOL);
        Close.assertClose("v after step 2", new double[] {-0.55, 0.725}, get(v), ATOL, RTOL);
    }

    @Test
    void weightDecayAddsToTheGradient() {
        // g = dw + 0.01·w = [0.51, 0.23]; w = [1, −2] − 0.1·g = [0.949, −2.023].
        Tensor w = t(new float[] {1, -2}, 2);
        backend.sgdUpdate(w, t(new float[] {0.5f, 0.25f}, 2), null, new SgdParams(0.1f, 0, 0.01f, false));
        Close.assertClose("w", new double[] {0.949, -2.023}, get(w), ATOL, RTOL);
    }

    @Test
    void sgdMatchesTheFormulasOnManyElements() {
        int n = 50_001; // several parallel chunks
        Rand rand = new Rand(21);
        float[] w0 = rand.uniform(n, -1, 1);
        for (boolean nesterov : new boolean[] {false, true}) {
            SgdParams p = new SgdParams(0.05f, 0.8f, 0.003f, nesterov);
            Tensor w = t(w0, n);
            Tensor v = zeros(n);
            double[] rw = Close.toDouble(w0);
            double[] rv = new double[n];
            for (int step = 0; step < 3; step++) {
                float[] g = rand.uniform(n, -1, 1);
                backend.sgdUpdate(w, t(g, n), v, p);
                sgdReference(rw, rv, g, p);
            }
            // v sums gradients of order 1 that may cancel: its error is a few ulps of 1 (6e-8 each)
            // over three steps, not relative to a small result, hence 1e-6 absolute.
            Close.assertClose("w, nesterov " + nesterov, rw, get(w), 1e-6, RTOL);
            Close.assertClose("v, nesterov " + nesterov, rv, get(v), 1e-6, RTOL);
        }
    }

    @Test
    void momentumWithoutVelocityIsRejected() {
        Tensor w = t(new float[2], 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.sgdUpdate(w, t(new float[2], 2), null, new SgdParams(0.1f, 0.9f, 0, false)));
        assertTrue(e.getMessage().contains("sgdUpdate"), e.getMessage());
    }

    // ---- Adam and AdamW -----------------------------------------------------------------

    @Test
    void adamStepsOneAndTwo() {
        // A gradient of 1e-6 makes eps (1e-8) visible in the step; a zero gradient leaves w alone.
        adamAgainstReference(new AdamParams(0.1f, 0.9f, 0.999f, 1e-8f, 0, false, 1), 2);
    }

    @Test
    void adamWithCoupledWeightDecay() {
        adamAgainstReference(new AdamParams(0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, false, 1), 2);
    }

    @Test
    void adamWDecaysTheWeightsDirectly() {
        adamAgainstReference(new AdamParams(0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, true, 1), 2);
    }

    @Test
    void adamStepOneIsLrTimesTheSignOfTheGradient() {
        // At t = 1: m̂ = g and sqrt(v̂) = |g|, so w moves by lr·g/(|g| + eps).
        Tensor w = t(new float[] {0.5f, -0.3f}, 2);
        backend.adamUpdate(w, t(new float[] {2, -0.5f}, 2), zeros(2), zeros(2),
                new AdamParams(0.01f, 0.9f, 0.999f, 1e-8f, 0, false, 1));
        Close.assertClose("w", new double[] {0.5 - 0.01, -0.3 + 0.01}, get(w), ATOL, RTOL);
    }

    @Test
    void adamMatchesTheFormulasOnManyElements() {
        int n = 50_001;
        Rand rand = new Rand(22);
        float[] w0 = rand.uniform(n, -1, 1);
        float[] m0 = rand.uniform(n, -0.1, 0.1);
        float[] v0 = rand.uniform(n, 1e-4, 1e-2);
        for (boolean decoupled : new boolean[] {false, true}) {
            AdamParams p = new AdamParams(0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, 5);
            Tensor w = t(w0, n);
            Tensor m = t(m0, n);
            Tensor v = t(v0, n);
            float[] g = rand.uniform(n, -0.2, 0.2);
            backend.adamUpdate(w, t(g, n), m, v, p);
            double[] rw = Close.toDouble(w0);
            double[] rm = Close.toDouble(m0);
            double[] rv = Close.toDouble(v0);
            adamReference(rw, rm, rv, g, p);
            Close.assertClose("w, decoupled " + decoupled, rw, get(w), ATOL, RTOL);
            Close.assertClose("m, decoupled " + decoupled, rm, get(m), ATOL, RTOL);
            Close.assertClose("v, decoupled " + decoupled, rv, get(v), 1e-12, RTOL);
        }
    }

    @Test
    void adamRejectsMomentsOfTheWrongShape() {
        Tensor w = t(new float[4], 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.adamUpdate(w,
                t(new float[4], 4), zeros(2, 2), zeros(4), new AdamParams(0.1f, 0.9f, 0.999f, 1e-8f, 0, false, 1)));
        assertTrue(e.getMessage().contains("adamUpdate"), e.getMessage());
    }

    /** Runs {@code steps} Adam steps from zero moments and checks w, m and v after each. */
    private void adamAgainstReference(AdamParams first, int steps) {
        float[] w0 = {0.5f, -0.3f, 0.1f, 2f};
        float[][] grads = {{0.2f, -0.1f, 1e-6f, 0f}, {-0.1f, -0.3f, 2e-6f, 0.5f}};
        Tensor w = t(w0, 4);
        Tensor m = zeros(4);
        Tensor v = zeros(4);
        double[] rw = Close.toDouble(w0);
        double[] rm = new double[4];
        double[] rv = new double[4];
        for (int s = 0; s < steps; s++) {
            AdamParams p = new AdamParams(first.lr(), first.beta1(), first.beta2(), first.eps(),
                    first.weightDecay(), first.decoupled(), first.step() + s);
            backend.adamUpdate(w, t(grads[s], 4), m, v, p);
            adamReference(rw, rm, rv, grads[s], p);
            Close.assertClose("w after step " + p.step(), rw, get(w), ATOL, RTOL);
            Close.assertClose("m after step " + p.step(), rm, get(m), ATOL, RTOL);
            // v ~ g²: as small as 1e-15 here, so its absolute term is scaled down accordingly.
            Close.assertClose("v after step " + p.step(), rv, get(v), 1e-20, RTOL);
        }
    }

    // ---- textbook formulas in double ----------------------------------------------------

    private static void sgdReference(double[] w, double[] v, float[] dw, SgdParams p) {
        for (int i = 0; i < w.length; i++) {
            double g = dw[i] + (double) p.weightDecay() * w[i];
            v[i] = p.momentum() * v[i] + g;
            double d = p.nesterov() ? g + p.momentum() * v[i] : v[i];
            w[i] -= p.lr() * d;
        }
    }

    private static void adamReference(double[] w, double[] m, double[] v, float[] dw, AdamParams p) {
        double b1 = p.beta1();
        double b2 = p.beta2();
        double bc1 = 1 - Math.pow(b1, p.step());
        double bc2 = 1 - Math.pow(b2, p.step());
        for (int i = 0; i < w.length; i++) {
            double g = dw[i];
            if (p.decoupled()) {
                w[i] *= 1 - (double) p.lr() * p.weightDecay();
            } else {
                g += (double) p.weightDecay() * w[i];
            }
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            w[i] -= p.lr() * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + p.eps());
        }
    }
}
