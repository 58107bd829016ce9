package dev.receptive.backend;

/**
 * One SGD step with PyTorch's semantics (dampening 0):
 * g = dw + weightDecay·w; v = momentum·v + g; step = nesterov ? g + momentum·v : v (or g when
 * momentum is 0); w −= lr·step.
 *
 * @param lr the learning rate, ≥ 0
 * @param momentum ≥ 0; 0 for plain SGD (no velocity buffer)
 * @param weightDecay the L2 term added to the gradient, ≥ 0
 * @param nesterov Nesterov momentum; needs momentum &gt; 0
 */
public record SgdParams(float lr, float momentum, float weightDecay, boolean nesterov) {
    /**
     * Checks every hyper-parameter.
     *
     * @param lr the learning rate, ≥ 0
     * @param momentum ≥ 0
     * @param weightDecay ≥ 0
     * @param nesterov Nesterov momentum; needs momentum &gt; 0
     * @throws IllegalArgumentException naming the values out of range
     */
    public SgdParams {
        // The components, not `this`: a compact constructor assigns the fields only after its body.
        if (!(lr >= 0) || !(momentum >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("sgd: learning rate, momentum and weight decay must be >= 0, got lr "
                    + lr + ", momentum " + momentum + ", weight decay " + weightDecay);
        }
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("sgd: Nesterov momentum needs momentum > 0");
        }
    }
}
