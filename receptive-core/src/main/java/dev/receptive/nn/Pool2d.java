package dev.receptive.nn;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/** 2-D pooling over each channel; {@link MaxPool2d} and {@link AvgPool2d} pick the mode. */
public abstract class Pool2d extends Layer {
    private final PoolMode mode;
    private final Pool2dParams params;

    Pool2d(PoolMode mode, Pool2dParams params) {
        this.mode = mode;
        this.params = params;
    }

    /** {@return the window, stride and padding} */
    public final Pool2dParams params() {
        return params;
    }

    @Override
    protected final Shape inferOutputShape(Shape in) {
        if (in.rank() != 3) {
            throw new IllegalArgumentException(type() + " needs (C, H, W) items");
        }
        int p = outputSize("height", in.dim(1), params.windowH(), params.strideH(), params.padH());
        int q = outputSize("width", in.dim(2), params.windowW(), params.strideW(), params.padW());
        return Shape.of(in.dim(0), p, q);
    }

    private static int outputSize(String dim, int in, int window, int stride, int pad) {
        int out = Math.floorDiv(in + 2 * pad - window, stride) + 1;
        if (out < 1) {
            throw new IllegalArgumentException(String.format(
                    "output %s (in + 2*pad - window) / stride + 1 = (%d + 2*%d - %d) / %d + 1 = %d is less than 1",
                    dim, in, pad, window, stride, out));
        }
        return out;
    }

    // y: (N, C, P, Q); x: (N, C, H, W)
    @Override
    protected final void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        backend().pool2dForward(mode, y, x, params);
    }

    // dx, x: (N, C, H, W); dy, y: (N, C, P, Q)
    @Override
    protected final void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        if (dx != null) {
            backend().pool2dBackward(mode, dx, dy, x, y, params);
        }
    }

    @Override
    protected final void writeConfig(LayerConfig config) {
        config.putPair("window", params.windowH(), params.windowW());
        config.putPair("stride", params.strideH(), params.strideW());
        config.putPair("padding", params.padH(), params.padW());
    }
}
