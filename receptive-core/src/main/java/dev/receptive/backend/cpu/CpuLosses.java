package dev.receptive.backend.cpu;

import java.util.Arrays;

/**
 * Losses fused with their gradients; each returns the loss and writes the gradient when asked.
 * Sums run in double over a fixed order, so the loss does not depend on the thread count; a NaN
 * input or a bad label is reported, not propagated silently.
 */
final class CpuLosses {
    private CpuLosses() {
    }

    // z, dz: (n, classes); labels: (n)
    static float softmaxCrossEntropy(float[] dz, float[] z, float[] labels, int n, int classes) {
        String op = "softmaxCrossEntropy";
        noNaN(op, "z", z, n * classes);
        checkLabels(op, labels, n, classes);
        double total = 0;
        for (int row = 0; row < n; row++) {
            int label = (int) labels[row];
            int base = row * classes;
            // Stable log-sum-exp: shift by the row maximum so no exp overflows.
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) {
                max = Math.max(max, z[base + j]);
            }
            double sum = 0;
            for (int j = 0; j < classes; j++) {
                sum += Math.exp(z[base + j] - max);
            }
            total += max + Math.log(sum) - z[base + label];
            if (dz != null) {
                for (int j = 0; j < classes; j++) {
                    // exp again rather than a scratch row: the loss allocates nothing per step.
                    double softmax = Math.exp(z[base + j] - max) / sum;
                    dz[base + j] = (float) ((j == label ? softmax - 1 : softmax) / n);
                }
            }
        }
        return (float) (total / n);
    }

    // p, t, dp: size elements
    static float meanSquaredError(float[] dp, float[] p, float[] t, int size) {
        String op = "meanSquaredError";
        noNaN(op, "p", p, size);
        noNaN(op, "target", t, size);
        double total = 0;
        for (int i = 0; i < size; i++) {
            double d = (double) p[i] - t[i];
            total += d * d;
            if (dp != null) {
                dp[i] = (float) (2 * d / size);
            }
        }
        return (float) (total / size);
    }

    // z, dz: (n, classes); labels: (n). PyTorch MultiMarginLoss with p = 1, margin = 1.
    static float hinge(float[] dz, float[] z, float[] labels, int n, int classes) {
        String op = "hingeLoss";
        noNaN(op, "z", z, n * classes);
        checkLabels(op, labels, n, classes);
        if (dz != null) {
            Arrays.fill(dz, 0, n * classes, 0f);
        }
        // Each violated margin adds 1/(n·classes) to the loss's slope in z[n, j] and removes it from
        // z[n, y]; at exactly the hinge the subgradient 0 is taken (strict > below).
        double unit = 1.0 / ((double) n * classes);
        double total = 0;
        for (int row = 0; row < n; row++) {
            int label = (int) labels[row];
            int base = row * classes;
            double target = z[base + label];
            int violated = 0;
            for (int j = 0; j < classes; j++) {
                double margin = 1 - target + z[base + j];
                if (j != label && margin > 0) {
                    total += margin;
                    violated++;
                    if (dz != null) {
                        dz[base + j] = (float) unit;
                    }
                }
            }
            if (dz != null) {
                dz[base + label] = (float) (-violated * unit);
            }
        }
        return (float) (total / classes / n);
    }

    /** Checked before any output is written, so a bad batch leaves dz untouched. */
    private static void checkLabels(String op, float[] labels, int n, int classes) {
        for (int row = 0; row < n; row++) {
            float l = labels[row];
            if (!(l >= 0 && l < classes && l == Math.rint(l))) {
                throw new IllegalArgumentException(op + ": label " + l + " of row " + row
                        + " is not a whole number in [0, " + classes + ")");
            }
        }
    }

    private static void noNaN(String op, String what, float[] a, int size) {
        for (int i = 0; i < size; i++) {
            if (Float.isNaN(a[i])) {
                throw new IllegalArgumentException(op + ": NaN in " + what + " at index " + i);
            }
        }
    }
}
