package dev.receptive.nn;

import dev.receptive.nn.init.Init;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * Fully connected layer y = x·wᵀ + b, like PyTorch's nn.Linear: weight (units, in), bias
 * (units). It takes flat (F) items only; put a {@link Flatten} before it after a conv or pool.
 */
public final class Dense extends Layer {
    private final int units;
    private final boolean bias;
    private final Init init;
    private Parameter w;
    private Parameter b;

    private Dense(Builder builder) {
        this.units = builder.units;
        this.bias = builder.bias;
        this.init = builder.init;
    }

    /** {@return a new builder; units must be set} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the number of outputs per item} */
    public int units() {
        return units;
    }

    /** {@return whether the layer adds a bias (units)} */
    public boolean hasBias() {
        return bias;
    }

    /** {@return how the weight is drawn when the model is built fresh} */
    public Init init() {
        return init;
    }

    @Override
    protected Shape inferOutputShape(Shape in) {
        if (in.rank() != 1) {
            throw new IllegalArgumentException("Dense takes flat (F) items; add a Flatten layer before it");
        }
        return Shape.of(units);
    }

    @Override
    protected void createParameters() {
        int in = inputShape().dim(0);
        w = addParameter("weight", Shape.of(units, in), init, in, units);
        if (bias) {
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
    protected void writeConfig(LayerConfig config) {
        config.put("units", units);
        config.put("bias", bias);
        config.put("init", init.name());
    }

    /** The layer architecture JSON describes (see {@link Layers}). */
    static Dense fromConfig(LayerConfig f) {
        return builder().units(f.getInt("units", 1)).bias(f.getBoolean("bias")).init(Layers.init(f)).build();
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
         * Checks the settings and makes the layer; it gets its parameters when added to a model.
         *
         * @return a new layer, not yet part of a model
         * @throws IllegalArgumentException when units is unset or below 1, or init is null
         */
        public Dense build() {
            if (units < 1) {
                throw new IllegalArgumentException("Dense: units must be set to >= 1, got " + units);
            }
            if (init == null) {
                throw new IllegalArgumentException("Dense: init must not be null");
            }
            return new Dense(this);
        }
    }
}
