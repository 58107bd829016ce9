package dev.receptive.nn;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * Inverted dropout (PyTorch's nn.Dropout): in training each element is zeroed with probability
 * p and the rest scaled by 1/(1−p); in evaluation it passes x through. The mask is Philox keyed by
 * (model seed, this layer's position as the stream, the pass's step, each element's index in the
 * whole batch), so it is the same on every backend, reproducible, and the same whether a batch
 * runs at once or in shards (see {@link Pass#train(int, long)}).
 */
public final class Dropout extends Layer {
    /**
     * A dropout layer's settings, as architecture JSON holds them.
     *
     * @param p the drop probability, 0 ≤ p &lt; 1, in float as the ops take it
     */
    public record Settings(float p) {
        /**
         * Checks the range.
         *
         * @param p the drop probability, 0 ≤ p &lt; 1
         * @throws IllegalArgumentException when p is outside [0, 1)
         */
        public Settings {
            if (!(p >= 0 && p < 1)) {
                throw new IllegalArgumentException("drop probability p must be in [0, 1), got " + p);
            }
        }
    }

    private final Settings settings;
    private final float p;

    /**
     * A dropout layer.
     *
     * @param p the drop probability, 0 ≤ p &lt; 1 (0 makes training passes the identity too)
     * @throws IllegalArgumentException when p is outside [0, 1)
     */
    public Dropout(double p) {
        this(settings(p));
    }

    /**
     * The layer of architecture JSON's settings.
     *
     * @param settings the checked settings, not null
     * @throws IllegalArgumentException when settings is null
     */
    public Dropout(Settings settings) {
        if (settings == null) {
            throw new IllegalArgumentException("Dropout: settings must not be null");
        }
        this.settings = settings;
        this.p = settings.p();
    }

    private static Settings settings(double p) {
        // Checked in float too: a p just below 1 would round to 1f, whose scale 1/(1 - p) is infinite.
        if (!(p >= 0 && p < 1) || (float) p >= 1f) {
            throw new IllegalArgumentException("Dropout: drop probability must be in [0, 1), got " + p);
        }
        return new Settings((float) p);
    }

    @Override
    public Settings settings() {
        return settings;
    }

    @Override
    protected Shape inferOutputShape(Shape in) {
        return in;
    }

    // y, x: (N, ...)
    @Override
    protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        if (pass.training()) {
            backend().dropoutForward(y, x, p, seed(), stream(), pass.step(), offset(x, pass));
        } else {
            backend().copy(y, x);
        }
    }

    // dx, dy: (N, ...)
    @Override
    protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        if (dx == null) {
            return;
        }
        if (pass.training()) {
            backend().dropoutBackward(dx, dy, p, seed(), stream(), pass.step(), offset(dy, pass));
        } else {
            backend().copy(dx, dy);
        }
    }

    /** The element index of x's first value in the whole batch the pass belongs to. */
    private static long offset(Tensor x, Pass pass) {
        return pass.sampleOffset() * x.shape().sizePerItem();
    }
}
