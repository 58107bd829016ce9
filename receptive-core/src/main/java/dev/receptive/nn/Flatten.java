package dev.receptive.nn;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/** (C, H, W) items to (C·H·W), like PyTorch's nn.Flatten; NCHW order is kept. */
public final class Flatten extends Layer {

    @Override
    protected Shape inferOutputShape(Shape in) {
        return Shape.of(in.size());
    }

    // Tensors have no views, so flattening is a copy of the same elements in the same order.
    // y: (N, C·H·W); x: (N, C, H, W)
    @Override
    protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        backend().copy(y, x);
    }

    @Override
    protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        if (dx != null) {
            backend().copy(dx, dy);
        }
    }
}
