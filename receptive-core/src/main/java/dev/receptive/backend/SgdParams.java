package dev.receptive.backend;

/**
 * One SGD step with PyTorch's semantics (dampening 0):
 * g = dw + weightDecay·w; v = momentum·v + g; step = nesterov ? g + momentum·v : v (or g when
 * momentum is 0); w −= lr·step.
 */
public record SgdParams(float lr, float momentum, float weightDecay, boolean nesterov) {
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
