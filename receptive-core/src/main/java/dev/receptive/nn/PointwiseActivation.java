package dev.receptive.nn;

import dev.receptive.backend.Activation;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/** y = f(x) elementwise, with the derivative taken through y. */
abstract class PointwiseActivation extends Layer {
    private final Activation f;

    PointwiseActivation(Activation f) {
        this.f = f;
    }

    @Override
    protected final Shape inferOutputShape(Shape in) {
        return in;
    }

    // y, x: (N, ...)
    @Override
    protected final void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        backend().activationForward(f, y, x);
    }

    // dx, dy, y: (N, ...)
    @Override
    protected final void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        if (dx != null) {
            backend().activationBackward(f, dx, dy, y);
        }
    }
}
