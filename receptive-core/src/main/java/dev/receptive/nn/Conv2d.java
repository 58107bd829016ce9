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
    private final int filters;
    private final int kernelH;
    private final int kernelW;
    private final Conv2dParams params;
    private final boolean bias;
    private final Init init;
    private Parameter w;
    private Parameter b;

    private Conv2d(Builder builder) {
        this.filters = builder.filters;
        this.kernelH = builder.kernelH;
        this.kernelW = builder.kernelW;
        this.params = new Conv2dParams(builder.strideH, builder.strideW, builder.padH, builder.padW,
                builder.dilationH, builder.dilationW);
        this.bias = builder.bias;
        this.init = builder.init;
    }

    /** {@return a new builder; filters and kernel must be set} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the number of output channels K} */
    public int filters() {
        return filters;
    }

    /** {@return the kernel's height R} */
    public int kernelHeight() {
        return kernelH;
    }

    /** {@return the kernel's width S} */
    public int kernelWidth() {
        return kernelW;
    }

    /** {@return the stride, padding and dilation} */
    public Conv2dParams params() {
        return params;
    }

    /** {@return whether the layer adds a bias (K)} */
    public boolean hasBias() {
        return bias;
    }

    /** {@return how the weight is drawn when the model is built fresh} */
    public Init init() {
        return init;
    }

    @Override
    protected Shape inferOutputShape(Shape in) {
        if (in.rank() != 3) {
            throw new IllegalArgumentException("Conv2d needs (C, H, W) items");
        }
        int p = outputSize("height", in.dim(1), kernelH, params.strideH(), params.padH(), params.dilationH());
        int q = outputSize("width", in.dim(2), kernelW, params.strideW(), params.padW(), params.dilationW());
        return Shape.of(filters, p, q);
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
        w = addParameter("weight", Shape.of(filters, c, kernelH, kernelW), init,
                c * kernelH * kernelW, filters * kernelH * kernelW);
        if (bias) {
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
    protected void writeConfig(LayerConfig config) {
        config.put("filters", filters);
        config.putPair("kernel", kernelH, kernelW);
        config.putPair("stride", params.strideH(), params.strideW());
        config.putPair("padding", params.padH(), params.padW());
        config.putPair("dilation", params.dilationH(), params.dilationW());
        config.put("bias", bias);
        config.put("init", init.name());
    }

    /** The layer architecture JSON describes (see {@link Layers}). */
    static Conv2d fromConfig(LayerConfig f) {
        int[] kernel = f.getPair("kernel", 1);
        int[] stride = f.getPair("stride", 1);
        int[] padding = f.getPair("padding", 0);
        int[] dilation = f.getPair("dilation", 1);
        return builder().filters(f.getInt("filters", 1)).kernel(kernel[0], kernel[1])
                .stride(stride[0], stride[1]).padding(padding[0], padding[1]).dilation(dilation[0], dilation[1])
                .bias(f.getBoolean("bias")).init(Layers.init(f)).build();
    }

    /** filters and kernel are required; stride 1, padding 0, dilation 1, bias on and He init by default. */
    public static final class Builder {
        private int filters;
        private int kernelH;
        private int kernelW;
        private int strideH = 1;
        private int strideW = 1;
        private int padH;
        private int padW;
        private int dilationH = 1;
        private int dilationW = 1;
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
            this.kernelH = height;
            this.kernelW = width;
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
            this.strideH = height;
            this.strideW = width;
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
            this.padH = height;
            this.padW = width;
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
            this.dilationH = height;
            this.dilationW = width;
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
         * Checks the settings and makes the layer; it gets its parameters when added to a model.
         *
         * @return a new layer, not yet part of a model
         * @throws IllegalArgumentException when filters or kernel is unset or below 1, stride or dilation below
         *     1, padding negative, or init null
         */
        public Conv2d build() {
            if (filters < 1) {
                throw new IllegalArgumentException("Conv2d: filters must be set to >= 1, got " + filters);
            }
            if (kernelH < 1 || kernelW < 1) {
                throw new IllegalArgumentException("Conv2d: kernel must be set to >= 1, got " + kernelH + "x" + kernelW);
            }
            if (init == null) {
                throw new IllegalArgumentException("Conv2d: init must not be null");
            }
            return new Conv2d(this);
        }
    }
}
