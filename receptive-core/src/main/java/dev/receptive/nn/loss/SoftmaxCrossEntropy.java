package dev.receptive.nn.loss;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Tensor;

/** Softmax cross-entropy on logits z: (N, classes) with labels (N), mean over the batch. */
final class SoftmaxCrossEntropy extends Loss {

    @Override
    public String name() {
        return "softmaxCrossEntropy";
    }

    // loss: (1); dz, z: (N, classes); labels: (N)
    @Override
    protected void computeInternal(Backend backend, Tensor loss, Tensor dOutput, Tensor output, Tensor target) {
        backend.softmaxCrossEntropy(loss, dOutput, output, target);
    }
}
