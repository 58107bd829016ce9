package dev.receptive.nn.optim;

import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Backend;
import dev.receptive.nn.Parameter;
import dev.receptive.tensor.Tensor;
import java.util.List;

/** Adam, or AdamW when weight decay is decoupled, with PyTorch's formulas; see {@link AdamParams}. */
public final class Adam extends Optimizer {
    private static final List<String> SLOTS = List.of("m", "v");
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final boolean decoupled;

    private Adam(Builder b) {
        super(b.lr);
        this.beta1 = (float) b.beta1;
        this.beta2 = (float) b.beta2;
        this.eps = (float) b.eps;
        this.weightDecay = (float) b.weightDecay;
        this.decoupled = b.decoupled;
    }

    /** {@return β1, the decay of the first moment} */
    public float beta1() {
        return beta1;
    }

    /** {@return β2, the decay of the second moment} */
    public float beta2() {
        return beta2;
    }

    /** {@return eps, added to the denominator} */
    public float eps() {
        return eps;
    }

    /** {@return the weight decay: added to the gradient (Adam) or decoupled (AdamW)} */
    public float weightDecay() {
        return weightDecay;
    }

    /** {@return true for AdamW (decoupled weight decay)} */
    public boolean decoupled() {
        return decoupled;
    }

    @Override
    protected String hyperParameters() {
        return "betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", weight_decay=" + weightDecay
                + (decoupled ? ", decoupled" : "");
    }

    @Override
    protected List<String> slotNames() {
        return SLOTS;
    }

    @Override
    protected void update(Backend backend, Parameter p, Tensor[] slots, float lr, int step) {
        backend.adamUpdate(p.value(), p.grad(), slots[0], slots[1],
                new AdamParams(lr, beta1, beta2, eps, weightDecay, decoupled, step));
    }

    /** lr is required; betas (0.9, 0.999) and eps 1e-8 by default, as in PyTorch. */
    public static final class Builder {
        private final double lr;
        private final boolean decoupled;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay;

        Builder(double lr, boolean decoupled) {
            this.lr = lr;
            this.decoupled = decoupled;
        }

        /**
         * Sets the decays of the moments (default 0.9 and 0.999).
         *
         * @param beta1 the first moment's, in [0, 1), checked by {@link #build()}
         * @param beta2 the second moment's, in [0, 1)
         * @return this builder
         */
        public Builder betas(double beta1, double beta2) {
            this.beta1 = beta1;
            this.beta2 = beta2;
            return this;
        }

        /**
         * Sets the term added to the denominator (default 1e-8).
         *
         * @param eps &gt; 0, checked by {@link #build()}
         * @return this builder
         */
        public Builder eps(double eps) {
            this.eps = eps;
            return this;
        }

        /**
         * Adam: added to the gradient (L2); AdamW: decoupled, w −= lr·weightDecay·w. Default 0.
         *
         * @param weightDecay ≥ 0, checked by {@link #build()}
         * @return this builder
         */
        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        /**
         * Checks every hyper-parameter and makes the optimizer.
         *
         * @return the optimizer; the caller closes it
         * @throws IllegalArgumentException naming the first value out of range
         */
        public Adam build() {
            // AdamParams holds the rules on every hyper-parameter; check them now, not at the first step.
            new AdamParams((float) lr, (float) beta1, (float) beta2, (float) eps, (float) weightDecay, decoupled, 1);
            return new Adam(this);
        }
    }
}
