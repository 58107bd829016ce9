package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.ContractBase;
import dev.receptive.testing.GradCheck;
import dev.receptive.testing.Rand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Fused losses: hand cases, then loss and gradient against the naive double-precision losses
 * below (the gradient through central differences). Tolerances: the loss and gradient are
 * computed in double and rounded once to float, so 1e-6 relative plus a small absolute term for
 * gradient entries near 0.
 */
public abstract class LossContract extends ContractBase {
    private static final double RTOL = 1e-6;
    private static final double ATOL = 1e-7;
    /** Finite-difference step: O(h²) error ~1e-8 on these smooth losses. */
    private static final double H = 1e-4;

    // ---- softmax cross-entropy ----------------------------------------------------------

    @Test
    void crossEntropyOfEqualLogitsIsLn2() {
        // z: (2, 2), both rows [0, 0]; softmax = [0.5, 0.5]; dz = (softmax − onehot) / 2.
        Tensor loss = zeros(1);
        Tensor dz = zeros(2, 2);
        backend.softmaxCrossEntropy(loss, dz, t(new float[] {0, 0, 0, 0}, 2, 2), t(new float[] {0, 1}, 2));
        Close.assertClose("loss", Math.log(2), get(loss)[0], 0, RTOL);
        Close.assertClose("dz", new double[] {-0.25, 0.25, 0.25, -0.25}, get(dz), 0, RTOL);
    }

    @Test
    void crossEntropyByHand() {
        // z = [1, 2, 3], label 2: loss = log(e + e² + e³) − 3 = log(1 + e⁻¹ + e⁻²) = 0.40760596;
        // softmax = [0.09003057, 0.24472847, 0.66524096].
        Tensor loss = zeros(1);
        Tensor dz = zeros(1, 3);
        backend.softmaxCrossEntropy(loss, dz, t(new float[] {1, 2, 3}, 1, 3), t(new float[] {2}, 1));
        Close.assertClose("loss", 0.40760596, get(loss)[0], 1e-8, RTOL);
        Close.assertClose("dz", new double[] {0.09003057, 0.24472847, 0.66524096 - 1}, get(dz), 1e-8, RTOL);
    }

    @Test
    void crossEntropyIsStableForLargeLogits() {
        // A naive exp(1000) overflows; log-sum-exp gives loss 1000 and softmax [1, 0].
        Tensor loss = zeros(1);
        Tensor dz = zeros(1, 2);
        backend.softmaxCrossEntropy(loss, dz, t(new float[] {1000, 0}, 1, 2), t(new float[] {1}, 1));
        Close.assertClose("loss", 1000, get(loss)[0], 0, RTOL);
        Close.assertClose("dz", new double[] {1, -1}, get(dz), ATOL, RTOL);
    }

    @Test
    void crossEntropyMatchesNaiveLossAndItsFiniteDifferences() {
        int n = 5;
        int classes = 7;
        Rand rand = new Rand(11);
        float[] zs = rand.uniform(n * classes, -3, 3);
        float[] labels = rand.labels(n, classes);
        Tensor loss = zeros(1);
        Tensor dz = zeros(n, classes);
        backend.softmaxCrossEntropy(loss, dz, t(zs, n, classes), t(labels, n));
        Close.assertClose("loss", naiveCrossEntropy(Close.toDouble(zs), labels, n, classes), get(loss)[0], 0, RTOL);
        double[] numeric = GradCheck.numeric(z -> naiveCrossEntropy(z, labels, n, classes), zs, H);
        Close.assertClose("dz", numeric, get(dz), ATOL, 1e-5);

        Tensor lossOnly = zeros(1);
        backend.softmaxCrossEntropy(lossOnly, null, t(zs, n, classes), t(labels, n));
        Close.assertClose("loss without dz", get(loss)[0], get(lossOnly)[0], 0, 0);
    }

    // ---- mean squared error -------------------------------------------------------------

    @Test
    void meanSquaredErrorByHand() {
        // p − t = [0, 2, 3]: loss = 13/3; dp = 2(p − t)/3 = [0, 4/3, 2].
        Tensor loss = zeros(1);
        Tensor dp = zeros(3);
        backend.meanSquaredError(loss, dp, t(new float[] {1, 2, 3}, 3), t(new float[] {1, 0, 0}, 3));
        Close.assertClose("loss", 13.0 / 3, get(loss)[0], 0, RTOL);
        Close.assertClose("dp", new double[] {0, 4.0 / 3, 2}, get(dp), 0, RTOL);
    }

    @Test
    void meanSquaredErrorMatchesNaiveLossAndItsFiniteDifferences() {
        Rand rand = new Rand(12);
        float[] ps = rand.uniform(24, -2, 2);
        float[] ts = rand.uniform(24, -2, 2);
        Tensor loss = zeros(1);
        Tensor dp = zeros(2, 3, 4);
        backend.meanSquaredError(loss, dp, t(ps, 2, 3, 4), t(ts, 2, 3, 4));
        Close.assertClose("loss", naiveMeanSquaredError(Close.toDouble(ps), ts), get(loss)[0], 0, RTOL);
        double[] numeric = GradCheck.numeric(p -> naiveMeanSquaredError(p, ts), ps, H);
        Close.assertClose("dp", numeric, get(dp), ATOL, 1e-5);

        Tensor lossOnly = zeros(1);
        backend.meanSquaredError(lossOnly, null, t(ps, 2, 3, 4), t(ts, 2, 3, 4));
        Close.assertClose("loss without dp", get(loss)[0], get(lossOnly)[0], 0, 0);
    }

    // ---- multi-class hinge --------------------------------------------------------------

    @Test
    void hingeByHand() {
        // Row 0, label 0: margins 1 − 1 + 2 = 2 and 1 − 1 + 0.5 = 0.5, both violated.
        // Row 1, label 0: margins 1 − 3 + 0 = −2 twice, none violated.
        // loss = (2.5/3 + 0) / 2 = 5/12; dz row 0 = [−2, 1, 1] / (2·3), row 1 = 0.
        Tensor loss = zeros(1);
        Tensor dz = zeros(2, 3);
        backend.hingeLoss(loss, dz, t(new float[] {1, 2, 0.5f, 3, 0, 0}, 2, 3), t(new float[] {0, 0}, 2));
        Close.assertClose("loss", 5.0 / 12, get(loss)[0], 0, RTOL);
        Close.assertClose("dz", new double[] {-2.0 / 6, 1.0 / 6, 1.0 / 6, 0, 0, 0}, get(dz), 0, RTOL);
    }

    @Test
    void hingeTakesTheZeroSubgradientAtTheKink() {
        // z = [1, 0], label 0: margin 1 − 1 + 0 = 0 exactly, on the hinge.
        Tensor loss = zeros(1);
        Tensor dz = t(new float[] {7, 7}, 1, 2); // overwritten, not accumulated into
        backend.hingeLoss(loss, dz, t(new float[] {1, 0}, 1, 2), t(new float[] {0}, 1));
        Close.assertClose("loss", 0, get(loss)[0], 0, 0);
        Close.assertClose("dz", new double[] {0, 0}, get(dz), 0, 0);
    }

    @Test
    void hingeMatchesNaiveLossAndItsFiniteDifferences() {
        int n = 6;
        int classes = 5;
        Rand rand = new Rand(13);
        float[] labels = rand.labels(n, classes);
        float[] zs;
        do { // keep every margin at least 10·h away from the kink, so differences see one side only
            zs = rand.uniform(n * classes, -1.5, 1.5);
        } while (closestMargin(zs, labels, n, classes) < 10 * H);
        float[] z0 = zs;
        Tensor loss = zeros(1);
        Tensor dz = zeros(n, classes);
        backend.hingeLoss(loss, dz, t(z0, n, classes), t(labels, n));
        Close.assertClose("loss", naiveHinge(Close.toDouble(z0), labels, n, classes), get(loss)[0], 0, RTOL);
        double[] numeric = GradCheck.numeric(z -> naiveHinge(z, labels, n, classes), z0, H);
        Close.assertClose("dz", numeric, get(dz), ATOL, 1e-5);

        Tensor lossOnly = zeros(1);
        backend.hingeLoss(lossOnly, null, t(z0, n, classes), t(labels, n));
        Close.assertClose("loss without dz", get(loss)[0], get(lossOnly)[0], 0, 0);
    }

    // ---- bad input ----------------------------------------------------------------------

    /**
     * How the backend reports NaN input and bad labels. The contract lets a backend skip checks
     * it cannot make without waiting for the device: the CPU throws at once; a GPU backend
     * answers false and yields a NaN loss (and NaN gradient rows for bad labels) instead.
     */
    protected boolean reportsBadLossInputByThrowing() {
        return true;
    }

    @Test
    void nanInputsAreReported() {
        float[] z = {0, 1, Float.NaN, 2};
        if (reportsBadLossInputByThrowing()) {
            rejects("softmaxCrossEntropy", () -> backend.softmaxCrossEntropy(zeros(1), zeros(2, 2), t(z, 2, 2),
                    t(new float[] {0, 1}, 2)), "NaN", "index 2");
            rejects("hingeLoss", () -> backend.hingeLoss(zeros(1), null, t(z, 2, 2), t(new float[] {0, 1}, 2)),
                    "NaN", "index 2");
            rejects("meanSquaredError", () -> backend.meanSquaredError(zeros(1), zeros(4), t(z, 4),
                    t(new float[4], 4)), "NaN", "index 2");
            rejects("meanSquaredError", () -> backend.meanSquaredError(zeros(1), null, t(new float[4], 4), t(z, 4)),
                    "NaN", "target");
            return;
        }
        Tensor loss = zeros(1);
        backend.softmaxCrossEntropy(loss, zeros(2, 2), t(z, 2, 2), t(new float[] {0, 1}, 2));
        assertTrue(Float.isNaN(get(loss)[0]), "softmaxCrossEntropy of NaN logits");
        backend.hingeLoss(loss, null, t(z, 2, 2), t(new float[] {0, 1}, 2));
        assertTrue(Float.isNaN(get(loss)[0]), "hingeLoss of NaN scores");
        backend.meanSquaredError(loss, zeros(4), t(z, 4), t(new float[4], 4));
        assertTrue(Float.isNaN(get(loss)[0]), "meanSquaredError of NaN predictions");
        backend.meanSquaredError(loss, null, t(new float[4], 4), t(z, 4));
        assertTrue(Float.isNaN(get(loss)[0]), "meanSquaredError of NaN targets");
    }

    @Test
    void badLabelsAreReported() {
        float[] z = new float[6];
        for (float bad : new float[] {2.5f, -1, 3, Float.NaN}) {
            float[] labels = {0, bad};
            if (reportsBadLossInputByThrowing()) {
                rejects("softmaxCrossEntropy", () -> backend.softmaxCrossEntropy(zeros(1), zeros(2, 3), t(z, 2, 3),
                        t(labels, 2)), "row 1", String.valueOf(bad));
                rejects("hingeLoss", () -> backend.hingeLoss(zeros(1), zeros(2, 3), t(z, 2, 3), t(labels, 2)),
                        "row 1", String.valueOf(bad));
                continue;
            }
            Tensor loss = zeros(1);
            Tensor dz = zeros(2, 3);
            backend.softmaxCrossEntropy(loss, dz, t(z, 2, 3), t(labels, 2));
            assertTrue(Float.isNaN(get(loss)[0]), "softmaxCrossEntropy with label " + bad);
            assertTrue(Float.isNaN(get(dz)[3]) && !Float.isNaN(get(dz)[0]), "only the bad row's gradient is NaN");
            backend.hingeLoss(loss, dz, t(z, 2, 3), t(labels, 2));
            assertTrue(Float.isNaN(get(loss)[0]), "hingeLoss with label " + bad);
        }
    }

    @Test
    void labelsOfTheWrongShapeAreReported() {
        float[] z = new float[6];
        rejects("softmaxCrossEntropy", () -> backend.softmaxCrossEntropy(zeros(1), null, t(z, 2, 3),
                t(new float[3], 3)), "labels");
        rejects("hingeLoss", () -> backend.hingeLoss(zeros(1), null, t(z, 2, 3), t(new float[3], 3)), "labels");
        rejects("meanSquaredError", () -> backend.meanSquaredError(zeros(1), null, t(z, 6), t(new float[5], 5)),
                "target");
    }

    private static void rejects(String op, Executable call, String... mentions) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(op), "message names " + op + ": " + e.getMessage());
        for (String m : mentions) {
            assertTrue(e.getMessage().contains(m), "message mentions " + m + ": " + e.getMessage());
        }
    }

    // ---- naive double-precision references ----------------------------------------------

    private static double naiveCrossEntropy(double[] z, float[] labels, int n, int classes) {
        double total = 0;
        for (int row = 0; row < n; row++) {
            double sum = 0;
            for (int j = 0; j < classes; j++) {
                sum += Math.exp(z[row * classes + j]);
            }
            total -= Math.log(Math.exp(z[row * classes + (int) labels[row]]) / sum);
        }
        return total / n;
    }

    private static double naiveMeanSquaredError(double[] p, float[] t) {
        double total = 0;
        for (int i = 0; i < p.length; i++) {
            total += (p[i] - t[i]) * (p[i] - t[i]);
        }
        return total / p.length;
    }

    private static double naiveHinge(double[] z, float[] labels, int n, int classes) {
        double total = 0;
        for (int row = 0; row < n; row++) {
            int y = (int) labels[row];
            for (int j = 0; j < classes; j++) {
                if (j != y) {
                    total += Math.max(0, 1 - z[row * classes + y] + z[row * classes + j]) / classes;
                }
            }
        }
        return total / n;
    }

    private static double closestMargin(float[] z, float[] labels, int n, int classes) {
        double closest = Double.POSITIVE_INFINITY;
        for (int row = 0; row < n; row++) {
            int y = (int) labels[row];
            for (int j = 0; j < classes; j++) {
                if (j != y) {
                    closest = Math.min(closest, Math.abs(1.0 - z[row * classes + y] + z[row * classes + j]));
                }
            }
        }
        return closest;
    }
}
