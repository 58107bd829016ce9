package dev.receptive.nn.loss;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Tensor;

/** Mean squared error against a target of the output's shape. */
final class MeanSquaredError extends Loss {

    @Override
    public String name() {
        return "meanSquaredError";
    }

    // loss: (1); dp, p, t: (N, ...)
    @Override
    protected void computeInternal(Backend backend, Tensor loss, Tensor dOutput, Tensor output, Tensor target) {
        backend.meanSquaredError(loss, dOutput, output, target);
    }
}
