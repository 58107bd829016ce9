package dev.receptive.nn;

import dev.receptive.backend.Conv2dParams;
import dev.receptive.nn.init.Init;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * 2-D convolution (cross-correlation, as in PyTorch's nn.Conv2d): weight (K, C, R, S), bias (K).
 * Built with {@code Conv2d.builder().filters(32).kernel(5).padding(2).build()}.
 */
public final class Conv2d extends Layer {
    /**
     * A convolution's settings, as architecture JSON holds them (each component under its name).
     *
     * @param filters the number of output channels K, ≥ 1
     * @param kernel the kernel's height R and width S, each ≥ 1
     * @param stride the step between output positions, each ≥ 1
     * @param padding zero rows and columns added on each side, each ≥ 0
     * @param dilation the spacing of the kernel's taps, each ≥ 1
     * @param bias whether the layer adds a bias (K) starting at zero
     * @param init how the weight is drawn when the model is built fresh
     */
    public record Settings(int filters, HeightWidth kernel, HeightWidth stride, HeightWidth padding,
            HeightWidth dilation, boolean bias, Init init) {
        /**
         * Checks the ranges.
         *
         * @param filters the number of output channels K, ≥ 1
         * @param kernel the kernel's height R and width S, each ≥ 1
         * @param stride the step between output positions, each ≥ 1
         * @param padding zero rows and columns added on each side, each ≥ 0
         * @param dilation the spacing of the kernel's taps, each ≥ 1
         * @param bias whether the layer adds a bias (K)
         * @param init how the weight is drawn, not null
         * @throws IllegalArgumentException naming the setting that is out of range or missing
         */
        public Settings {
            if (filters < 1) {
                throw new IllegalArgumentException("filters must be >= 1, got " + filters);
            }
            HeightWidth.check(kernel, 1, "kernel");
            HeightWidth.check(stride, 1, "stride");
            HeightWidth.check(padding, 0, "padding");
            HeightWidth.check(dilation, 1, "dilation");
            if (init == null) {
                throw new IllegalArgumentException("init must not be null");
            }
        }

        /** {@return the stride, padding and dilation as the backend's conv2d ops take them} */
        public Conv2dParams params() {
            return new Conv2dParams(stride.height(), stride.width(), padding.height(), padding.width(),
                    dilation.height(), dilation.width());
        }
    }

    private final Settings settings;
    private final Conv2dParams params;
    private Parameter w;
    private Parameter b;

    /**
     * A convolution with these settings; {@link #builder()} fills in the defaults.
     *
     * @param settings the checked settings, not null
     * @throws IllegalArgumentException when settings is null
     */
    public Conv2d(Settings settings) {
        if (settings == null) {
            throw new IllegalArgumentException("Conv2d: settings must not be null");
        }
        this.settings = settings;
        this.params = settings.params();
    }

    /** {@return a new builder; filters and kernel must be set} */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Settings settings() {
        return settings;
    }

    @Override
    protected Shape inferOutputShape(Shape in) {
        if (in.rank() != 3) {
            throw new IllegalArgumentException("Conv2d needs (C, H, W) items");
        }
        HeightWidth k = settings.kernel();
        int p = outputSize("height", in.dim(1), k.height(), params.strideH(), params.padH(), params.dilationH());
        int q = outputSize("width", in.dim(2), k.width(), params.strideW(), params.padW(), params.dilationW());
        return Shape.of(settings.filters(), p, q);
    }

    private static int outputSize(String dim, int in, int kernel, int stride, int pad, int dilation) {
        int out = Conv2dParams.outputSize(in, kernel, stride, pad, dilation);
        if (out < 1) {
            throw new IllegalArgumentException(String.format(
                    "output %s (in + 2*pad - dilation*(kernel - 1) - 1) / stride + 1"
                            + " = (%d + 2*%d - %d*(%d - 1) - 1) / %d + 1 = %d is less than 1",
                    dim, in, pad, dilation, kernel, stride, out));
        }
        return out;
    }

    @Override
    protected void createParameters() {
        int c = inputShape().dim(0);
        int filters = settings.filters();
        int r = settings.kernel().height();
        int s = settings.kernel().width();
        w = addParameter("weight", Shape.of(filters, c, r, s), settings.init(), c * r * s, filters * r * s);
        if (settings.bias()) {
            b = addZeroParameter("bias", Shape.of(filters));
        }
    }

    // y: (N, K, P, Q); x: (N, C, H, W)
    @Override
    protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        backend().conv2dForward(y, x, w.value(), b == null ? null : b.value(), params);
    }

    // dx, x: (N, C, H, W); dy, y: (N, K, P, Q)
    @Override
    protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        if (dx != null) {
            backend().conv2dBackwardData(dx, dy, w.value(), params);
        }
        backend().conv2dBackwardFilter(w.grad(), x, dy, params, true);
        if (b != null) {
            backend().conv2dBackwardBias(b.grad(), dy, true);
        }
    }

    @Override
    boolean fusesRelu() {
        return true;
    }

    @Override
    void forwardRelu(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        backend().conv2dBiasReluForward(y, x, w.value(), b == null ? null : b.value(), params);
    }

    @Override
    void backwardRelu(Tensor dx, Tensor dz, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        backend().conv2dBiasReluBackward(dx, w.grad(), b == null ? null : b.grad(), dz, dy, x, w.value(), y, params);
    }

    /** filters and kernel are required; stride 1, padding 0, dilation 1, bias on and He init by default. */
    public static final class Builder {
        private int filters;
        private HeightWidth kernel = new HeightWidth(0, 0);
        private HeightWidth stride = HeightWidth.square(1);
        private HeightWidth padding = HeightWidth.square(0);
        private HeightWidth dilation = HeightWidth.square(1);
        private boolean bias = true;
        private Init init = Init.he();

        private Builder() {
        }

        /**
         * Sets the number of output channels K (required).
         *
         * @param filters ≥ 1, checked by {@link #build()}
         * @return this builder
         */
        public Builder filters(int filters) {
            this.filters = filters;
            return this;
        }

        /**
         * Sets a square kernel (required).
         *
         * @param size its height and width, ≥ 1, checked by {@link #build()}
         * @return this builder
         */
        public Builder kernel(int size) {
            return kernel(size, size);
        }

        /**
         * Sets the kernel (required).
         *
         * @param height R, ≥ 1, checked by {@link #build()}
         * @param width S, ≥ 1
         * @return this builder
         */
        public Builder kernel(int height, int width) {
            this.kernel = new HeightWidth(height, width);
            return this;
        }

        /**
         * Sets the same stride in both dimensions (default 1).
         *
         * @param stride ≥ 1, checked by {@link #build()}
         * @return this builder
         */
        public Builder stride(int stride) {
            return stride(stride, stride);
        }

        /**
         * Sets the stride per dimension (default 1).
         *
         * @param height the vertical stride, ≥ 1, checked by {@link #build()}
         * @param width the horizontal stride, ≥ 1
         * @return this builder
         */
        public Builder stride(int height, int width) {
            this.stride = new HeightWidth(height, width);
            return this;
        }

        /**
         * Sets the same zero padding on each side in both dimensions (default 0); kernel 2p + 1 with padding p,
         * stride 1 and dilation 1 keeps the height and width.
         *
         * @param pad ≥ 0, checked by {@link #build()}
         * @return this builder
         */
        public Builder padding(int pad) {
            return padding(pad, pad);
        }

        /**
         * Sets the zero padding per dimension (default 0).
         *
         * @param height zero rows added above and below, ≥ 0, checked by {@link #build()}
         * @param width zero columns added left and right, ≥ 0
         * @return this builder
         */
        public Builder padding(int height, int width) {
            this.padding = new HeightWidth(height, width);
            return this;
        }

        /**
         * Sets the same dilation in both dimensions (default 1: adjacent taps).
         *
         * @param dilation the spacing of the kernel's taps, ≥ 1, checked by {@link #build()}
         * @return this builder
         */
        public Builder dilation(int dilation) {
            return dilation(dilation, dilation);
        }

        /**
         * Sets the dilation per dimension (default 1).
         *
         * @param height the vertical spacing of the kernel's taps, ≥ 1, checked by {@link #build()}
         * @param width the horizontal spacing, ≥ 1
         * @return this builder
         */
        public Builder dilation(int height, int width) {
            this.dilation = new HeightWidth(height, width);
            return this;
        }

        /**
         * Whether the layer adds a bias (default true; off before a batch norm, which shifts anyway).
         *
         * @param bias true for a bias (K) starting at zero
         * @return this builder
         */
        public Builder bias(boolean bias) {
            this.bias = bias;
            return this;
        }

        /**
         * Sets how the weight is drawn (default {@link Init#he()}).
         *
         * @param init not null, checked by {@link #build()}
         * @return this builder
         */
        public Builder init(Init init) {
            this.init = init;
            return this;
        }

        /**
         * Checks the settings ({@link Settings}) and makes the layer; it gets its parameters when added to a model.
         *
         * @return a new layer, not yet part of a model
         * @throws IllegalArgumentException naming the setting out of range: filters or kernel unset or below 1,
         *     stride or dilation below 1, padding negative, or init null
         */
        public Conv2d build() {
            try {
                return new Conv2d(new Settings(filters, kernel, stride, padding, dilation, bias, init));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Conv2d: " + e.getMessage(), e);
            }
        }
    }
}
