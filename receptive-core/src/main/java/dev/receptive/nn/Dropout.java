package dev.receptive.nn;

import com.google.gson.JsonObject;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * Inverted dropout (PyTorch's nn.Dropout): in training each element is zeroed with probability
 * p and the rest scaled by 1/(1−p); in evaluation it passes x through. The mask is Philox keyed by
 * (model seed, this layer's index as the stream, the pass's step), so it is the same on every
 * backend and reproducible.
 */
public final class Dropout extends Layer {
    private final float p;
    private Pass pass = Pass.EVAL;

    /** Drop probability p, 0 ≤ p &lt; 1. */
    public Dropout(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout: drop probability must be in [0, 1), got " + p);
        }
        this.p = (float) p;
    }

    public float p() {
        return p;
    }

    @Override
    protected Shape inferOutputShape(Shape in) {
        return in;
    }

    // y, x: (N, ...)
    @Override
    protected void forwardInternal(Tensor y, Tensor x, Pass pass) {
        this.pass = pass;
        if (pass.training()) {
            backend().dropoutForward(y, x, p, seed(), index(), pass.step(), 0);
        } else {
            backend().copy(y, x);
        }
    }

    // dx, dy: (N, ...)
    @Override
    protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y) {
        if (dx == null) {
            return;
        }
        if (pass.training()) {
            backend().dropoutBackward(dx, dy, p, seed(), index(), pass.step(), 0);
        } else {
            backend().copy(dx, dy);
        }
    }

    @Override
    protected void writeConfig(JsonObject config) {
        config.addProperty("p", p);
    }
}
