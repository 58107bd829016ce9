package dev.receptive.nn;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;

/** Max pooling, like PyTorch's nn.MaxPool2d; padding is never the maximum. */
public final class MaxPool2d extends Pool2d {

    /** A square window with stride = window and no padding: {@code new MaxPool2d(2)}. */
    public MaxPool2d(int window) {
        this(window, window, 0);
    }

    public MaxPool2d(int window, int stride, int padding) {
        this(Pool2dParams.of(window, stride, padding));
    }

    /** Any window, stride and padding per dimension. */
    public MaxPool2d(Pool2dParams params) {
        super(PoolMode.MAX, params);
    }
}
