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
    private final float p;

    /**
     * A dropout layer.
     *
     * @param p the drop probability, 0 ≤ p &lt; 1 (0 makes training passes the identity too)
     * @throws IllegalArgumentException when p is outside [0, 1)
     */
    public Dropout(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout: drop probability must be in [0, 1), got " + p);
        }
        this.p = (float) p;
    }

    /** {@return the drop probability p} */
    public float p() {
        return p;
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

    @Override
    protected void writeConfig(LayerConfig config) {
        config.put("p", p);
    }
}
