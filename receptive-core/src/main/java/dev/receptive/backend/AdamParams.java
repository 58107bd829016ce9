package dev.receptive.backend;

/**
 * One Adam or AdamW step (Kingma and Ba 2015; Loshchilov and Hutter 2019), as PyTorch's
 * torch/optim/adam.py (single-tensor) computes it, for step t ≥ 1, in float32 with each
 * operation rounded in this order (bc1 = {@link #biasCorrection1()}, bc2 = {@link #biasCorrection2()}):
 * <pre>
 *   g = dw + weightDecay·w                    (only when not decoupled: Adam's L2 term)
 *   w = w · (1 − lr·weightDecay)              (only when decoupled: AdamW)
 *   m = lerp(m, g, a), a = 1 − β1             (= β1·m + (1 − β1)·g, rounded as ATen's lerp:
 *                                              m + a·(g − m) when a &lt; 0.5, else g − (g − m)·(1 − a))
 *   v = v·β2 + (1 − β2)·g·g
 *   denom = sqrt(v) / sqrt(bc2) + eps         (not sqrt(v / bc2) + eps: the rounding differs)
 *   w = w − (lr / bc1) · m / denom
 * </pre>
 *
 * @param lr the learning rate, ≥ 0
 * @param beta1 decay of the first moment, in [0, 1)
 * @param beta2 decay of the second moment, in [0, 1)
 * @param eps added to the denominator, &gt; 0
 * @param weightDecay ≥ 0; added to the gradient (Adam) or decoupled (AdamW)
 * @param decoupled true for AdamW
 * @param step the step number t, counted from 1
 */
public record AdamParams(float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled, int step) {
    /**
     * Checks every hyper-parameter.
     *
     * @param lr the learning rate, ≥ 0
     * @param beta1 decay of the first moment, in [0, 1)
     * @param beta2 decay of the second moment, in [0, 1)
     * @param eps added to the denominator, &gt; 0
     * @param weightDecay ≥ 0
     * @param decoupled true for AdamW
     * @param step the step number t, ≥ 1
     * @throws IllegalArgumentException naming the first value out of range
     */
    public AdamParams {
        // The components, not `this`: a compact constructor assigns the fields only after its body.
        String op = decoupled ? "adamW" : "adam";
        if (!(lr >= 0)) {
            throw new IllegalArgumentException(op + ": learning rate must be >= 0, got " + lr);
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(op + ": betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException(op + ": eps must be > 0, got " + eps);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException(op + ": weight decay must be >= 0, got " + weightDecay);
        }
        if (step < 1) {
            throw new IllegalArgumentException(op + ": step must be >= 1 (steps count from 1), got " + step);
        }
    }

    /**
     * The bias correction of the first moment, computed in double then rounded.
     *
     * @return 1 − β1^t
     */
    public float biasCorrection1() {
        return (float) (1 - Math.pow(beta1, step));
    }

    /**
     * The bias correction of the second moment, computed in double then rounded.
     *
     * @return 1 − β2^t
     */
    public float biasCorrection2() {
        return (float) (1 - Math.pow(beta2, step));
    }
}
