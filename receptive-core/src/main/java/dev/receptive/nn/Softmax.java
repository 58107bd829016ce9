package dev.receptive.nn;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * y[n, i] = exp(x[n, i]) / Σ_j exp(x[n, j]) over the features of each item. For training a
 * classifier, end the model with the logits and use Loss.softmaxCrossEntropy() instead: it fuses
 * the softmax and is stabler; this layer is for models that must output probabilities.
 */
public final class Softmax extends Layer {

    @Override
    protected Shape inferOutputShape(Shape in) {
        return in;
    }

    // y, x: (N, ...)
    @Override
    protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        backend().softmaxForward(y, x);
    }

    // dx, dy, y: (N, ...)
    @Override
    protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        if (dx != null) {
            backend().softmaxBackward(dx, dy, y);
        }
    }
}
