package dev.receptive.backend;

/**
 * One SGD step with PyTorch's semantics (dampening 0):
 * g = dw + weightDecay·w; v = momentum·v + g; step = nesterov ? g + momentum·v : v (or g when
 * momentum is 0); w −= lr·step.
 */
public record SgdParams(float lr, float momentum, float weightDecay, boolean nesterov) {
    public SgdParams {
        if (!(lr >= 0) || !(momentum >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("sgd: lr, momentum and weight decay must be >= 0, got " + this);
        }
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("sgd: Nesterov momentum needs momentum > 0");
        }
    }
}
