package dev.receptive.nn;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;

/** Max pooling, like PyTorch's nn.MaxPool2d; padding is never the maximum. */
public final class MaxPool2d extends Pool2d {

    /**
     * A square window with stride = window and no padding: {@code new MaxPool2d(2)}.
     *
     * @param window the window's height and width, ≥ 1
     * @throws IllegalArgumentException when window &lt; 1
     */
    public MaxPool2d(int window) {
        this(window, window, 0);
    }

    /**
     * A square window with the same stride and padding in both dimensions.
     *
     * @param window the window's height and width, ≥ 1
     * @param stride ≥ 1
     * @param padding rows and columns added on each side, 0 ≤ 2·padding ≤ window
     * @throws IllegalArgumentException when a value is out of range
     */
    public MaxPool2d(int window, int stride, int padding) {
        this(Pool2dParams.of(window, stride, padding));
    }

    /**
     * Any window, stride and padding per dimension.
     *
     * @param params the geometry, already checked by its constructor
     */
    public MaxPool2d(Pool2dParams params) {
        this(Settings.of(params));
    }

    /**
     * The layer of architecture JSON's settings.
     *
     * @param settings the window, stride and padding, already checked by their constructor
     * @throws IllegalArgumentException when settings is null
     */
    public MaxPool2d(Settings settings) {
        super(PoolMode.MAX, settings);
    }
}
