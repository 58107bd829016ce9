package dev.receptive.nn;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;

/** Average pooling, like PyTorch's nn.AvgPool2d (padded zeros count in the divisor). */
public final class AvgPool2d extends Pool2d {

    /**
     * A square window with stride = window and no padding: {@code new AvgPool2d(2)}.
     *
     * @param window the window's height and width, ≥ 1
     * @throws IllegalArgumentException when window &lt; 1
     */
    public AvgPool2d(int window) {
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
    public AvgPool2d(int window, int stride, int padding) {
        this(Pool2dParams.of(window, stride, padding));
    }

    /**
     * Any window, stride and padding per dimension.
     *
     * @param params the geometry, already checked by its constructor
     */
    public AvgPool2d(Pool2dParams params) {
        this(Settings.of(params));
    }

    /**
     * The layer of architecture JSON's settings.
     *
     * @param settings the window, stride and padding, already checked by their constructor
     * @throws IllegalArgumentException when settings is null
     */
    public AvgPool2d(Settings settings) {
        super(PoolMode.AVERAGE, settings);
    }
}
