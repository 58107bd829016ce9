package dev.receptive.nn;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * The mean of each channel over the whole map: (C, H, W) items become (C, 1, 1), like PyTorch's
 * nn.AdaptiveAvgPool2d(1). Put a {@link Flatten} after it before a {@link Dense} layer.
 */
public final class GlobalAvgPool2d extends Layer {
    private Pool2dParams params;

    /** A global average pool; the window is the input's whole map. */
    public GlobalAvgPool2d() {
    }

    @Override
    protected Shape inferOutputShape(Shape in) {
        if (in.rank() != 3) {
            throw new IllegalArgumentException("GlobalAvgPool2d needs (C, H, W) items");
        }
        return Shape.of(in.dim(0), 1, 1);
    }

    @Override
    protected void createParameters() {
        Shape in = inputShape();
        params = new Pool2dParams(in.dim(1), in.dim(2), in.dim(1), in.dim(2), 0, 0);
    }

    // y: (N, C, 1, 1); x: (N, C, H, W)
    @Override
    protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        backend().pool2dForward(PoolMode.AVERAGE, y, x, params);
    }

    @Override
    protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        if (dx != null) {
            backend().pool2dBackward(PoolMode.AVERAGE, dx, dy, x, y, params);
        }
    }
}
