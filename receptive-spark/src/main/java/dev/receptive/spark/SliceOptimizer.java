package dev.receptive.spark;

import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Backend;
import dev.receptive.backend.SgdParams;
import dev.receptive.nn.optim.Adam;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.nn.optim.Sgd;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.io.Serializable;
import java.util.List;

/**
 * One task's share of the optimizer in an all-reduce stage: the update of a contiguous slice of
 * the model's flat parameter vector, with the state (Adam's m and v, SGD's velocity) of that slice
 * only. SGD and Adam update every element by itself, so updating a slice runs the same backend op
 * with the same float operations per element as {@link Optimizer#step} on whole parameters, and
 * gives the same bits.
 */
final class SliceOptimizer implements AutoCloseable {

    /**
     * The optimizer's kind and hyper-parameters (not its learning rate or state), which an executor
     * needs to run its slice's update.
     */
    record Spec(boolean adam, float beta1, float beta2, float eps, float weightDecay, boolean decoupled,
            float momentum, boolean nesterov) implements Serializable {

        /** {@return the spec of {@code optimizer}} */
        static Spec of(Optimizer optimizer) {
            if (optimizer instanceof Adam a) {
                return new Spec(true, a.beta1(), a.beta2(), a.eps(), a.weightDecay(), a.decoupled(), 0f, false);
            }
            if (optimizer instanceof Sgd s) {
                return new Spec(false, 0f, 0f, 0f, s.weightDecay(), false, s.momentum(), s.nesterov());
            }
            throw new IllegalArgumentException("receptive-spark: all-reduce training knows SGD and Adam, not "
                    + optimizer.describe());
        }

        /** {@return the names of the state slots, as {@link Optimizer#exportState()} names them} */
        List<String> slotNames() {
            return adam ? List.of("m", "v") : momentum == 0 ? List.of() : List.of("velocity");
        }
    }

    private final Backend backend;
    private final Spec spec;
    private final int length;
    private final Tensor w;
    private final Tensor dw;
    private final Tensor[] slots;
    private int step;

    /**
     * A slice's optimizer at step {@code step}.
     *
     * @param backend where the update runs
     * @param spec the optimizer
     * @param weights the slice's weights (not kept)
     * @param state the slice's state per slot, or null for zeros (a fresh optimizer)
     * @param step the steps the optimizer has taken
     */
    SliceOptimizer(Backend backend, Spec spec, float[] weights, float[][] state, int step) {
        this.backend = backend;
        this.spec = spec;
        this.length = weights.length;
        this.step = step;
        int n = spec.slotNames().size();
        this.slots = new Tensor[n];
        if (length == 0) {
            w = null;
            dw = null;
            return;
        }
        Shape shape = Shape.of(length);
        this.w = backend.upload(weights, shape);
        this.dw = backend.allocate(shape);
        for (int i = 0; i < n; i++) {
            slots[i] = state == null ? backend.allocate(shape) : backend.upload(state[i], shape);
            if (state == null) {
                backend.fill(slots[i], 0f);
            }
        }
    }

    /**
     * One update with learning rate {@code lr}: the step count goes up first, as in {@link Optimizer#step}.
     *
     * @param grad the slice's summed gradient
     * @param lr the step's learning rate
     * @param into receives the updated weights at {@code offset}
     * @param offset where the slice starts in {@code into}
     */
    void step(float[] grad, float lr, float[] into, int offset) {
        step++;
        if (length == 0) {
            return;
        }
        backend.upload(dw, grad);
        if (spec.adam()) {
            backend.adamUpdate(w, dw, slots[0], slots[1], new AdamParams(lr, spec.beta1(), spec.beta2(), spec.eps(),
                    spec.weightDecay(), spec.decoupled(), step));
        } else {
            backend.sgdUpdate(w, dw, slots.length == 0 ? null : slots[0], new SgdParams(lr, spec.momentum(),
                    spec.weightDecay(), spec.nesterov()));
        }
        float[] updated = backend.download(w);
        System.arraycopy(updated, 0, into, offset, length);
    }

    /** {@return the steps taken} */
    int stepCount() {
        return step;
    }

    /** {@return the slice's state per slot, on the host} */
    float[][] state() {
        float[][] out = new float[slots.length][];
        for (int i = 0; i < slots.length; i++) {
            out[i] = length == 0 ? new float[0] : backend.download(slots[i]);
        }
        return out;
    }

    @Override
    public void close() {
        for (int i = slots.length - 1; i >= 0; i--) {
            if (slots[i] != null) {
                slots[i].close();
            }
        }
        if (dw != null) {
            dw.close();
            w.close();
        }
    }
}
