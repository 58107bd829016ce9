package dev.receptive.nn;

import dev.receptive.nn.init.Init;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * Fully connected layer y = x·wᵀ + b, like PyTorch's nn.Linear: weight (units, in), bias
 * (units). It takes flat (F) items only; put a {@link Flatten} before it after a conv or pool.
 */
public final class Dense extends Layer {
    /**
     * A dense layer's settings, as architecture JSON holds them.
     *
     * @param units the number of outputs per item, ≥ 1
     * @param bias whether the layer adds a bias (units) starting at zero
     * @param init how the weight is drawn when the model is built fresh
     */
    public record Settings(int units, boolean bias, Init init) {
        /**
         * Checks the ranges.
         *
         * @param units the number of outputs per item, ≥ 1
         * @param bias whether the layer adds a bias
         * @param init how the weight is drawn, not null
         * @throws IllegalArgumentException naming the setting that is out of range or missing
         */
        public Settings {
            if (units < 1) {
                throw new IllegalArgumentException("units must be >= 1, got " + units);
            }
            if (init == null) {
                throw new IllegalArgumentException("init must not be null");
            }
        }
    }

    private final Settings settings;
    private Parameter w;
    private Parameter b;

    /**
     * A dense layer with these settings; {@link #builder()} fills in the defaults.
     *
     * @param settings the checked settings, not null
     * @throws IllegalArgumentException when settings is null
     */
    public Dense(Settings settings) {
        if (settings == null) {
            throw new IllegalArgumentException("Dense: settings must not be null");
        }
        this.settings = settings;
    }

    /** {@return a new builder; units must be set} */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Settings settings() {
        return settings;
    }

    @Override
    protected Shape inferOutputShape(Shape in) {
        if (in.rank() != 1) {
            throw new IllegalArgumentException("Dense takes flat (F) items; add a Flatten layer before it");
        }
        return Shape.of(settings.units());
    }

    @Override
    protected void createParameters() {
        int in = inputShape().dim(0);
        int units = settings.units();
        w = addParameter("weight", Shape.of(units, in), settings.init(), in, units);
        if (settings.bias()) {
            b = addZeroParameter("bias", Shape.of(units));
        }
    }

    // y: (N, units); x: (N, in)
    @Override
    protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        backend().denseForward(y, x, w.value(), b == null ? null : b.value());
    }

    // dx, x: (N, in); dy, y: (N, units)
    @Override
    protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        backend().denseBackward(dx, w.grad(), b == null ? null : b.grad(), dy, x, w.value(), true);
    }

    @Override
    boolean fusesRelu() {
        return true;
    }

    @Override
    void forwardRelu(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        backend().denseBiasReluForward(y, x, w.value(), b == null ? null : b.value());
    }

    @Override
    void backwardRelu(Tensor dx, Tensor dz, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        backend().denseBiasReluBackward(dx, w.grad(), b == null ? null : b.grad(), dz, dy, x, w.value(), y);
    }

    /** units is required; bias on and He init by default. */
    public static final class Builder {
        private int units;
        private boolean bias = true;
        private Init init = Init.he();

        private Builder() {
        }

        /**
         * Sets the number of outputs per item (required).
         *
         * @param units ≥ 1, checked by {@link #build()}
         * @return this builder
         */
        public Builder units(int units) {
            this.units = units;
            return this;
        }

        /**
         * Whether the layer adds a bias (default true).
         *
         * @param bias true for a bias (units) starting at zero
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
         * @throws IllegalArgumentException when units is unset or below 1, or init is null
         */
        public Dense build() {
            try {
                return new Dense(new Settings(units, bias, init));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Dense: " + e.getMessage(), e);
            }
        }
    }
}
