package dev.receptive.backend;

/**
 * One Adam or AdamW step (Kingma and Ba 2015; Loshchilov and Hutter 2019), as PyTorch computes
 * it, for step t ≥ 1:
 * <pre>
 *   g = dw + (decoupled ? 0 : weightDecay·w)
 *   w = w − lr·weightDecay·w                  (only when decoupled: AdamW)
 *   m = β1·m + (1 − β1)·g
 *   v = β2·v + (1 − β2)·g²
 *   w = w − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)
 * </pre>
 */
public record AdamParams(float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled, int step) {
    public AdamParams {
        if (!(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0)
                || !(weightDecay >= 0) || step < 1) {
            throw new IllegalArgumentException("adam: invalid hyper-parameters " + this);
        }
    }

    /** 1 − β1^t, the bias correction of the first moment, computed in double then rounded. */
    public float biasCorrection1() {
        return (float) (1 - Math.pow(beta1, step));
    }

    /** 1 − β2^t. */
    public float biasCorrection2() {
        return (float) (1 - Math.pow(beta2, step));
    }
}
