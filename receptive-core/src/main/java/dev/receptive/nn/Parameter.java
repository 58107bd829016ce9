package dev.receptive.nn;

import dev.receptive.nn.init.Init;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * A trainable tensor and its gradient, named like PyTorch's state dict ("0.weight",
 * "conv1.bias"). The layer that declared it owns both tensors; they exist once the model is
 * built. Backward adds into {@link #grad()} (as PyTorch does): {@link Model#zeroGrad()} clears it.
 *
 * <p>Not thread-safe on its own: the tensors are read by every forward pass and written by
 * backward and the optimizer (see {@link Model} for who may run what at once).
 */
public final class Parameter {
    private final String name;
    private final Shape shape;
    private final Init init;
    private final int fanIn;
    private final int fanOut;
    private final float constant;
    private Tensor value;
    private Tensor grad;

    /** Declared through {@link Layer#addParameter}; {@code init} null means every value is {@code constant}. */
    Parameter(String name, Shape shape, Init init, int fanIn, int fanOut, float constant) {
        this.name = name;
        this.shape = shape;
        this.init = init;
        this.fanIn = fanIn;
        this.fanOut = fanOut;
        this.constant = constant;
    }

    /** {@return the state-dict name, e.g. "0.weight"} */
    public String name() {
        return name;
    }

    /** {@return the tensor's shape, e.g. (K, C, R, S) for a convolution weight} */
    public Shape shape() {
        return shape;
    }

    /**
     * {@return the values, owned by the layer (do not close them)}
     *
     * @throws IllegalStateException before the model is built
     */
    public Tensor value() {
        if (value == null) {
            throw new IllegalStateException("parameter " + name + " has no tensor yet: the model is not built");
        }
        return value;
    }

    /**
     * {@return the gradient ∂L/∂value summed over the backward passes since the last {@link Model#zeroGrad()}, the
     * shape of the value and owned by the layer}
     *
     * @throws IllegalStateException before the model is built
     */
    public Tensor grad() {
        if (grad == null) {
            throw new IllegalStateException("parameter " + name + " has no gradient yet: the model is not built");
        }
        return grad;
    }

    Init init() {
        return init;
    }

    /** Every value at the start when there is no init. */
    float constant() {
        return constant;
    }

    int fanIn() {
        return fanIn;
    }

    int fanOut() {
        return fanOut;
    }

    void attach(Tensor value, Tensor grad) {
        this.value = value;
        this.grad = grad;
    }

    void release() {
        if (grad != null) {
            grad.close();
        }
        if (value != null) {
            value.close();
        }
    }

    @Override
    public String toString() {
        return "Parameter " + name + " " + shape;
    }
}
