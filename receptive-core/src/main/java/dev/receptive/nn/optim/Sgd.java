package dev.receptive.nn.optim;

import dev.receptive.backend.Backend;
import dev.receptive.backend.SgdParams;
import dev.receptive.nn.Parameter;
import dev.receptive.tensor.Tensor;
import java.util.List;

/** Stochastic gradient descent with PyTorch's formulas; see {@link SgdParams}. */
public final class Sgd extends Optimizer {
    private final float momentum;
    private final float weightDecay;
    private final boolean nesterov;

    private Sgd(Builder b) {
        super(b.lr);
        this.momentum = (float) b.momentum;
        this.weightDecay = (float) b.weightDecay;
        this.nesterov = b.nesterov;
    }

    /** {@return the momentum; 0 for plain SGD} */
    public float momentum() {
        return momentum;
    }

    /** {@return the L2 term added to the gradient} */
    public float weightDecay() {
        return weightDecay;
    }

    /** {@return whether the momentum is Nesterov's} */
    public boolean nesterov() {
        return nesterov;
    }

    @Override
    protected String hyperParameters() {
        return "momentum=" + momentum + ", weight_decay=" + weightDecay + (nesterov ? ", nesterov" : "");
    }

    @Override
    protected List<String> slotNames() {
        return momentum == 0 ? List.of() : List.of("velocity");
    }

    @Override
    protected void update(Backend backend, Parameter p, Tensor[] slots, float lr, int step) {
        backend.sgdUpdate(p.value(), p.grad(), slots.length == 0 ? null : slots[0],
                new SgdParams(lr, momentum, weightDecay, nesterov));
    }

    /** lr is required; momentum 0, no Nesterov and no weight decay by default. */
    public static final class Builder {
        private final double lr;
        private double momentum;
        private double weightDecay;
        private boolean nesterov;

        Builder(double lr) {
            this.lr = lr;
        }

        /**
         * Sets the momentum (default 0: no velocity buffer).
         *
         * @param momentum ≥ 0, checked by {@link #build()}; 0.9 is the usual choice
         * @return this builder
         */
        public Builder momentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        /**
         * Nesterov momentum; needs momentum &gt; 0. Default off.
         *
         * @param nesterov true for Nesterov's variant
         * @return this builder
         */
        public Builder nesterov(boolean nesterov) {
            this.nesterov = nesterov;
            return this;
        }

        /**
         * L2 penalty added to the gradient: g = dw + weightDecay·w. Default 0.
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
         * @throws IllegalArgumentException when a value is out of range or Nesterov is on without momentum
         */
        public Sgd build() {
            // SgdParams holds the rules (ranges, Nesterov needs momentum); check them now, not at the first step.
            new SgdParams((float) lr, (float) momentum, (float) weightDecay, nesterov);
            return new Sgd(this);
        }
    }
}
