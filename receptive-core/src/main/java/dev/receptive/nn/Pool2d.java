package dev.receptive.nn;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/** 2-D pooling over each channel; {@link MaxPool2d} and {@link AvgPool2d} pick the mode. */
public abstract class Pool2d extends Layer {
    /**
     * A pooling layer's settings, as architecture JSON holds them.
     *
     * @param window the window's height and width, each ≥ 1
     * @param stride the step between windows, each ≥ 1
     * @param padding rows and columns added on each side, 0 ≤ 2·padding ≤ window
     */
    public record Settings(HeightWidth window, HeightWidth stride, HeightWidth padding) {
        /**
         * Checks the ranges (those of {@link Pool2dParams}).
         *
         * @param window the window's height and width, each ≥ 1
         * @param stride the step between windows, each ≥ 1
         * @param padding rows and columns added on each side, 0 ≤ 2·padding ≤ window
         * @throws IllegalArgumentException naming the setting that is out of range or missing
         */
        public Settings {
            if (window == null || stride == null || padding == null) {
                throw new IllegalArgumentException("window, stride and padding must be given");
            }
            params(window, stride, padding);
        }

        /**
         * The settings of {@link Pool2dParams}.
         *
         * @param p the window, stride and padding
         * @return the same geometry as settings
         */
        public static Settings of(Pool2dParams p) {
            return new Settings(new HeightWidth(p.windowH(), p.windowW()), new HeightWidth(p.strideH(), p.strideW()),
                    new HeightWidth(p.padH(), p.padW()));
        }

        /** {@return the window, stride and padding as the backend's pool2d ops take them} */
        public Pool2dParams params() {
            return params(window, stride, padding);
        }

        private static Pool2dParams params(HeightWidth window, HeightWidth stride, HeightWidth padding) {
            return new Pool2dParams(window.height(), window.width(), stride.height(), stride.width(), padding.height(),
                    padding.width());
        }
    }

    private final PoolMode mode;
    private final Settings settings;
    private final Pool2dParams params;

    Pool2d(PoolMode mode, Settings settings) {
        if (settings == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": settings must not be null");
        }
        this.mode = mode;
        this.settings = settings;
        this.params = settings.params();
    }

    @Override
    public final Settings settings() {
        return settings;
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
}
