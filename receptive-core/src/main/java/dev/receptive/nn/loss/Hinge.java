package dev.receptive.nn.loss;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Tensor;

/** Multi-class hinge (margin 1) on scores z: (N, classes) with labels (N). */
final class Hinge extends Loss {

    @Override
    public String name() {
        return "hinge";
    }

    // loss: (1); dz, z: (N, classes); labels: (N)
    @Override
    protected void computeInternal(Backend backend, Tensor loss, Tensor dOutput, Tensor output, Tensor target) {
        backend.hingeLoss(loss, dOutput, output, target);
    }
}
