package dev.receptive.nn;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;

/** Average pooling, like PyTorch's nn.AvgPool2d (padded zeros count in the divisor). */
public final class AvgPool2d extends Pool2d {

    /** A square window with stride = window and no padding: {@code new AvgPool2d(2)}. */
    public AvgPool2d(int window) {
        this(window, window, 0);
    }

    public AvgPool2d(int window, int stride, int padding) {
        this(Pool2dParams.of(window, stride, padding));
    }

    /** Any window, stride and padding per dimension. */
    public AvgPool2d(Pool2dParams params) {
        super(PoolMode.AVERAGE, params);
    }
}
